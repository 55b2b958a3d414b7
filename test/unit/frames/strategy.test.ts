import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { buildDecodePlan } from '../../../src/frames/graph.js';
import { mediaLimitsSchema } from '../../../src/frames/options.js';
import type { ResolvedSource } from '../../../src/frames/source.js';
import {
  chooseDecode,
  parseKeyframeSpacing,
  seekTargets,
  skipFrameOption,
  wantsKeyframeProbe,
} from '../../../src/frames/strategy.js';

const base = { fps: 30, codec: 'h264', durationSec: 60 } as const;
const gop2 = { count: 30, maxGapSec: 2, meanGapSec: 2 };
const fps = (n: number) => ({ strategy: 'fps' as const, fps: n });

describe('chooseDecode', () => {
  it('keyframe sampling decodes keyframes only; scene sampling decodes everything', () => {
    assert.equal(chooseDecode({ ...base, sampling: { strategy: 'keyframes' } }).mode, 'keyframes');
    const scene = { strategy: 'scene' as const, threshold: 0.3, minSpacingSec: 0.5 };
    assert.equal(chooseDecode({ ...base, sampling: scene, keyframes: gop2 }).mode, 'all');
  });

  it('decodes every frame when samples are close together or the frame rate is unknown', () => {
    assert.equal(chooseDecode({ ...base, sampling: fps(10), keyframes: gop2 }).mode, 'all');
    assert.equal(chooseDecode({ ...base, fps: 0, sampling: fps(1) }).mode, 'all');
  });

  it('skips B-frames of H.264 and non-reference frames of other codecs for sparse sampling', () => {
    assert.equal(chooseDecode({ ...base, sampling: fps(2), keyframes: gop2 }).mode, 'bidir');
    assert.equal(chooseDecode({ ...base, sampling: fps(2) }).mode, 'bidir');
    assert.equal(chooseDecode({ ...base, codec: 'hevc', sampling: fps(2), keyframes: gop2 }).mode, 'noref');
    // 1 fps with a keyframe every 2 s: keyframes do not serve every bucket
    assert.equal(chooseDecode({ ...base, sampling: fps(1), keyframes: gop2 }).mode, 'bidir');
  });

  it('decodes keyframes only when every bucket holds one', () => {
    assert.equal(chooseDecode({ ...base, sampling: fps(0.5), keyframes: gop2 }).mode, 'keyframes');
    const irregular = { count: 30, maxGapSec: 2.5, meanGapSec: 2 };
    assert.notEqual(chooseDecode({ ...base, sampling: fps(0.5), keyframes: irregular }).mode, 'keyframes');
  });

  it('seeks per sample when samples are many keyframe gaps apart but keyframes alone leave holes', () => {
    const irregular = { count: 40, maxGapSec: 12, meanGapSec: 1.5 };
    assert.equal(chooseDecode({ ...base, sampling: fps(0.1), keyframes: irregular }).mode, 'seek');
    // too many samples to start ffmpeg once each
    const long = { ...base, durationSec: 3 * 3600 };
    assert.equal(chooseDecode({ ...long, sampling: fps(0.25), keyframes: irregular }).mode, 'bidir');
  });

  it('asks for the keyframe probe only when it can change the choice', () => {
    assert.equal(wantsKeyframeProbe({ ...base, sampling: fps(2) }), true);
    assert.equal(wantsKeyframeProbe({ ...base, sampling: fps(10) }), false);
    assert.equal(wantsKeyframeProbe({ ...base, sampling: { strategy: 'keyframes' } }), false);
  });
});

describe('keyframe probe parsing', () => {
  it('reads keyframe flags and gaps from packet CSV in decode order', () => {
    const csv = [
      '0.000000,K__',
      '0.066667,___',
      '0.033333,___',
      '2.000000,K__',
      '5.000000,K_',
      'N/A,K__',
      '',
    ].join('\n');
    assert.deepEqual(parseKeyframeSpacing(csv), { count: 3, maxGapSec: 3, meanGapSec: 2.5 });
    assert.equal(parseKeyframeSpacing('0.0,K__\n1.0,___\n'), undefined);
  });
});

describe('decode modes in the ffmpeg command line', () => {
  const limits = mediaLimitsSchema.parse({});
  const src: ResolvedSource = { uri: '/m/a.mp4', input: 'file:/m/a.mp4', kind: 'file' };
  const info = { streamIndex: 0, sampleAspectRatio: 1, startTimeSec: 1.5 };
  const settings = { width: 224, height: 224, resize: 'crop' as const, sampling: fps(2) };

  it('passes -skip_frame for the skipping modes', () => {
    for (const [mode, value] of [
      ['bidir', 'bidir'],
      ['noref', 'noref'],
      ['keyframes', 'nokey'],
    ] as const) {
      const p = buildDecodePlan(src, info, { ...settings, decode: mode }, limits);
      assert.equal(p.inputOptions[p.inputOptions.indexOf('-skip_frame') + 1], value);
      assert.equal(skipFrameOption(mode), value);
    }
    assert.equal(
      buildDecodePlan(src, info, { ...settings, decode: 'all' }, limits).inputOptions.includes('-skip_frame'),
      false,
    );
  });

  it('seek mode seeks before the input, keeps the first frame at or after the target, one frame', () => {
    const p = buildDecodePlan(src, info, { ...settings, decode: 'seek', seekSec: 7.5 }, limits);
    const ss = p.inputOptions.indexOf('-ss');
    assert.equal(p.inputOptions[ss + 1], '7.5');
    assert.ok(p.inputOptions.indexOf('-copyts') < ss);
    assert.equal(p.filters[0], "select='isnan(prev_selected_t)*gte(t,8.999999)'");
    assert.equal(p.outputOptions[p.outputOptions.indexOf('-frames:v') + 1], '1');
    assert.throws(() => buildDecodePlan(src, info, { ...settings, decode: 'seek' }, limits), TypeError);
  });

  it('seek targets are the bucket starts before the end', () => {
    assert.deepEqual(seekTargets(0.1, 25), [0, 10, 20]);
    assert.deepEqual(seekTargets(0.5, 4), [0, 2]);
  });
});
