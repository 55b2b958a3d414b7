import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { buildDecodePlan } from '../../../src/frames/graph.js';
import {
  chooseHwDecode,
  cudaFitFilters,
  cudaInputOptions,
  fallbackLine,
  parseHwaccels,
} from '../../../src/frames/hwdecode.js';
import { mediaLimitsSchema } from '../../../src/frames/options.js';
import type { ResolvedSource } from '../../../src/frames/source.js';

const HWACCELS = 'Hardware acceleration methods:\nvdpau\ncuda\nvaapi\n\n';
const gpu = { hwaccels: ['vdpau', 'cuda'], device: true };
const h264 = { codec: 'h264', sampleAspectRatio: 1, sceneSampling: false };

describe('GPU decode: detection and the fallback decision', () => {
  it('parses ffmpeg -hwaccels', () => {
    assert.deepEqual(parseHwaccels(HWACCELS), ['vdpau', 'cuda', 'vaapi']);
    assert.deepEqual(parseHwaccels('garbage\n'), []);
  });

  it('auto uses NVDEC only with the cuda hwaccel, a device and a codec NVDEC decodes', () => {
    assert.equal(chooseHwDecode('auto', gpu, h264).use, 'cuda');
    assert.equal(chooseHwDecode('auto', { ...gpu, device: false }, h264).use, 'cpu');
    assert.equal(chooseHwDecode('auto', { hwaccels: ['vaapi'], device: true }, h264).use, 'cpu');
    assert.equal(chooseHwDecode('auto', gpu, { ...h264, codec: 'prores' }).use, 'cpu');
    assert.equal(chooseHwDecode('auto', gpu, { ...h264, sceneSampling: true }).use, 'cpu');
    assert.equal(chooseHwDecode('auto', gpu, { ...h264, sampleAspectRatio: 4 / 3 }).use, 'cpu');
    assert.equal(chooseHwDecode('cpu', gpu, h264).use, 'cpu');
    assert.match(chooseHwDecode('cuda', { ...gpu, device: false }, h264).reason, /no NVIDIA device/);
  });

  it('a CPU fallback is said once per process, never when the GPU is used or turned off', () => {
    assert.equal(fallbackLine({ use: 'cuda', reason: 'x' }, 'auto'), undefined);
    assert.equal(fallbackLine({ use: 'cpu', reason: 'off' }, 'cpu'), undefined);
    const first = fallbackLine({ use: 'cpu', reason: 'no NVIDIA device' }, 'auto');
    assert.equal(first, 'GPU decode unavailable (no NVIDIA device); decoding on the CPU');
    assert.equal(fallbackLine({ use: 'cpu', reason: 'no NVIDIA device' }, 'auto'), undefined);
  });
});

describe('GPU decode: the ffmpeg command line', () => {
  const limits = mediaLimitsSchema.parse({});
  const src: ResolvedSource = { uri: '/m/a.mp4', input: 'file:/m/a.mp4', kind: 'file' };
  const info = { streamIndex: 0, sampleAspectRatio: 1, startTimeSec: 0 };
  const settings = {
    width: 224,
    height: 224,
    resize: 'crop' as const,
    sampling: { strategy: 'fps' as const, fps: 2 },
  };

  it('decodes on the GPU, scales there and downloads only model-sized frames', () => {
    const p = buildDecodePlan(src, info, { ...settings, decode: 'bidir', hw: 'cuda' }, limits);
    const i = p.inputOptions.indexOf('-hwaccel');
    assert.deepEqual(p.inputOptions.slice(i, i + 4), cudaInputOptions());
    assert.equal(p.inputOptions[p.inputOptions.indexOf('-skip_frame') + 1], 'bidir');
    const scale = p.filters.findIndex((f) => f.startsWith('scale_cuda='));
    const down = p.filters.indexOf('hwdownload');
    assert.ok(scale > 0 && down === scale + 1, p.filters.join(','));
    assert.ok(p.filters[0]?.startsWith('select='), 'sampling runs before any scaling');
    assert.deepEqual(p.filters.slice(-3), ['format=rgb24', 'settb=AVTB', 'showinfo']);
    assert.equal(
      p.filters.some((f) => f.startsWith('scale=')),
      false,
      'no CPU scaling of full frames',
    );
    const cpu = buildDecodePlan(src, info, settings, limits);
    assert.equal(cpu.inputOptions.includes('-hwaccel'), false);
  });

  it('keeps the CPU geometry: crop covers then crops, letterbox fits then pads, stretch scales', () => {
    assert.deepEqual(cudaFitFilters('crop', 224, 224), [
      'scale_cuda=224:224:force_original_aspect_ratio=increase:interp_algo=bicubic',
      'hwdownload',
      'format=nv12',
      'crop=224:224',
    ]);
    assert.match(cudaFitFilters('letterbox', 80, 80).join(','), /decrease.*hwdownload,format=nv12,pad=80:80/);
    assert.deepEqual(cudaFitFilters('stretch', 64, 32), [
      'scale_cuda=64:32:interp_algo=bicubic',
      'hwdownload',
      'format=nv12',
    ]);
  });
});
