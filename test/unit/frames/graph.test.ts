import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import ffmpeg from 'fluent-ffmpeg';
import {
  ALLOWED_DEMUXERS,
  SQUARE_PIXELS_FILTERS,
  buildDecodePlan,
  fitFilters,
  letterboxFilters,
  samplingFilters,
  LIVE_ANALYZE_US,
  sourceInputOptions,
} from '../../../src/frames/graph.js';
import { mediaLimitsSchema } from '../../../src/frames/options.js';
import type { ResolvedSource } from '../../../src/frames/source.js';

const limits = mediaLimitsSchema.parse({});
const fileSrc: ResolvedSource = { uri: '/m/a.mp4', input: 'file:/m/a.mp4', kind: 'file' };
const httpSrc: ResolvedSource = {
  uri: 'https://example.com/a.mp4',
  input: 'https://example.com/a.mp4',
  kind: 'http',
};
const square = { streamIndex: 0, sampleAspectRatio: 1, startTimeSec: 0 };

function optionValue(opts: string[], name: string): string | undefined {
  const i = opts.indexOf(name);
  return i >= 0 ? opts[i + 1] : undefined;
}

describe('fit filters', () => {
  it('letterbox is exactly the chain the model was trained on', () => {
    assert.equal(
      fitFilters('letterbox', 64, 64).join(','),
      'scale=64:64:force_original_aspect_ratio=decrease:flags=bicubic,pad=64:64:(ow-iw)/2:(oh-ih)/2:black',
    );
    assert.deepEqual(fitFilters('letterbox', 224, 160), letterboxFilters(224, 160));
  });

  it('crop scales the short side to fit, then takes the centre', () => {
    assert.equal(
      fitFilters('crop', 224, 224).join(','),
      'scale=224:224:force_original_aspect_ratio=increase:flags=bicubic,crop=224:224',
    );
  });

  it('stretch scales to exactly the target', () => {
    assert.equal(fitFilters('stretch', 32, 48).join(','), 'scale=32:48:flags=bicubic');
  });
});

describe('sampling filters', () => {
  it('fps picks the first frame of each bucket by real pts', () => {
    assert.deepEqual(samplingFilters({ strategy: 'fps', fps: 2 }), [
      "select='isnan(prev_selected_t)+gt(floor(t*2+0.000001),floor(prev_selected_t*2+0.000001))'",
    ]);
  });

  it('fps counts buckets from the container start time', () => {
    assert.deepEqual(samplingFilters({ strategy: 'fps', fps: 0.5 }, 1.4), [
      "select='isnan(prev_selected_t)+gt(floor((t-1.4)*0.5+0.000001),floor((prev_selected_t-1.4)*0.5+0.000001))'",
    ]);
  });

  it('never writes numbers in exponent notation', () => {
    const [f] = samplingFilters({ strategy: 'fps', fps: 1e-7 });
    assert.ok(f !== undefined && !/e-/.test(f), f);
  });

  it('keyframes selects key frames', () => {
    assert.deepEqual(samplingFilters({ strategy: 'keyframes' }), ["select='eq(key,1)'"]);
  });

  it('scene selects the first frame and cuts over the threshold, spaced', () => {
    assert.deepEqual(samplingFilters({ strategy: 'scene', threshold: 0.3, minSpacingSec: 0.5 }), [
      "select='isnan(prev_selected_t)+gt(scene,0.3)*gte(t-prev_selected_t,0.5)'",
    ]);
  });
});

describe('source input options', () => {
  it('files get only the file protocol and the demuxer allow-list', () => {
    const o = sourceInputOptions(fileSrc, limits);
    assert.equal(optionValue(o, '-protocol_whitelist'), 'file');
    assert.equal(optionValue(o, '-format_whitelist'), ALLOWED_DEMUXERS.join(','));
    assert.equal(o.includes('-rw_timeout'), false);
  });

  it('http gets the network protocols and a read/write timeout in microseconds', () => {
    const o = sourceInputOptions(httpSrc, { networkTimeoutMs: 2500 });
    assert.equal(optionValue(o, '-protocol_whitelist'), 'http,https,tcp,tls,crypto,httpproxy');
    assert.equal(optionValue(o, '-rw_timeout'), '2500000');
    assert.equal(o.includes('-http_proxy'), false);
  });

  it('http through the policy proxy: -http_proxy, and the hls demuxer (http only)', () => {
    const o = sourceInputOptions({ ...httpSrc, proxy: 'http://127.0.0.1:41234/' }, limits);
    assert.equal(optionValue(o, '-http_proxy'), 'http://127.0.0.1:41234/');
    assert.equal(optionValue(o, '-format_whitelist'), [...ALLOWED_DEMUXERS, 'hls'].join(','));
    assert.equal(
      optionValue(sourceInputOptions(fileSrc, limits), '-format_whitelist')?.includes('hls'),
      false,
    );
  });

  it('refuses a proxy that is not on loopback', () => {
    for (const proxy of ['http://10.0.0.1:3128/', 'http://127.0.0.1:1/x', 'socks5://127.0.0.1:1/']) {
      assert.throws(() => sourceInputOptions({ ...httpSrc, proxy }, limits), TypeError, proxy);
    }
  });

  it('rtsp gets TCP transport, its own transports and only the rtsp demuxer', () => {
    const o = sourceInputOptions(
      { uri: 'rtsp://cam/x', input: 'rtsp://93.184.216.34:8554/x', kind: 'rtsp' },
      limits,
    );
    assert.equal(optionValue(o, '-protocol_whitelist'), 'tcp,udp,rtp,tls');
    assert.equal(optionValue(o, '-format_whitelist'), 'rtsp');
    assert.equal(optionValue(o, '-rtsp_transport'), 'tcp');
    assert.equal(optionValue(o, '-rtsp_flags'), undefined);
    assert.equal(optionValue(o, '-analyzeduration'), String(LIVE_ANALYZE_US));
    const udp = sourceInputOptions(
      { uri: 'rtsp://cam/x', input: 'rtsp://93.184.216.34:8554/x', kind: 'rtsp', rtspTransport: 'udp' },
      limits,
    );
    assert.equal(optionValue(udp, '-rtsp_transport'), 'udp');
    assert.equal(optionValue(udp, '-rtsp_flags'), 'filter_src');
    assert.equal(optionValue(sourceInputOptions(fileSrc, limits), '-analyzeduration'), undefined);
  });

  it('playlist and reference demuxers are not allowed for files', () => {
    for (const d of ['hls', 'dash', 'concat', 'image2', 'webm_dash_manifest']) {
      assert.equal((ALLOWED_DEMUXERS as readonly string[]).includes(d), false, d);
    }
  });

  it('refuses an input that does not match its kind', () => {
    assert.throws(() => sourceInputOptions({ ...fileSrc, input: 'concat:/a|/b' }, limits), TypeError);
    assert.throws(() => sourceInputOptions({ ...httpSrc, input: 'file:/etc/passwd' }, limits), TypeError);
    assert.throws(() => sourceInputOptions({ ...fileSrc, input: 'http://x/' }, limits), TypeError);
  });
});

describe('decode plan', () => {
  const settings = {
    width: 64,
    height: 64,
    resize: 'letterbox' as const,
    sampling: { strategy: 'fps' as const, fps: 1 },
  };

  it('chains sampling, fit, rgb24 and the timestamp tap, and names the tap', () => {
    const plan = buildDecodePlan(fileSrc, square, settings, limits);
    assert.deepEqual(plan.filters, [
      "select='isnan(prev_selected_t)+gt(floor(t*1+0.000001),floor(prev_selected_t*1+0.000001))'",
      'scale=64:64:force_original_aspect_ratio=decrease:flags=bicubic',
      'pad=64:64:(ow-iw)/2:(oh-ih)/2:black',
      'format=rgb24',
      'settb=AVTB',
      'showinfo',
    ]);
    assert.equal(plan.tapName, 'Parsed_showinfo_5');
    assert.equal(plan.frameBytes, 64 * 64 * 3);
  });

  it('adds the square-pixel step only for non-square pixels', () => {
    const plan = buildDecodePlan(fileSrc, { ...square, sampleAspectRatio: 4 / 3 }, settings, limits);
    assert.deepEqual(plan.filters.slice(1, 3), [...SQUARE_PIXELS_FILTERS]);
    assert.equal(plan.filters.slice(3, 5).join(','), fitFilters('letterbox', 64, 64).join(','));
    assert.equal(plan.tapName, 'Parsed_showinfo_7');
  });

  it('keyframes skips non-key frames in the decoder', () => {
    const plan = buildDecodePlan(
      fileSrc,
      square,
      { ...settings, sampling: { strategy: 'keyframes' } },
      limits,
    );
    assert.equal(optionValue(plan.inputOptions, '-skip_frame'), 'nokey');
    const fps = buildDecodePlan(fileSrc, square, settings, limits);
    assert.equal(fps.inputOptions.includes('-skip_frame'), false);
  });

  it('maps the probed stream, raw rgb24 out, passthrough timing, raw timestamps, duration cap', () => {
    const plan = buildDecodePlan(fileSrc, { ...square, streamIndex: 3 }, settings, {
      ...limits,
      maxDurationSec: 90,
    });
    assert.equal(optionValue(plan.outputOptions, '-map'), '0:3');
    // Before the probe has answered: the first video stream that is not a cover picture.
    const early = buildDecodePlan(fileSrc, { ...square, streamIndex: undefined }, settings, limits);
    assert.equal(optionValue(early.outputOptions, '-map'), '0:V:0');
    assert.equal(optionValue(plan.outputOptions, '-fps_mode'), 'passthrough');
    assert.equal(optionValue(plan.outputOptions, '-f'), 'rawvideo');
    assert.equal(optionValue(plan.outputOptions, '-pix_fmt'), 'rgb24');
    assert.equal(optionValue(plan.inputOptions, '-t'), '90');
    for (const flag of ['-nostdin', '-hide_banner', '-copyts', '-an', '-sn', '-dn']) {
      assert.ok([...plan.inputOptions, ...plan.outputOptions].includes(flag), flag);
    }
  });

  it('fluent-ffmpeg lays the plan out with the source only after -i', () => {
    const plan = buildDecodePlan(fileSrc, square, settings, limits);
    const args = ffmpeg()
      .input(fileSrc.input)
      .inputOptions(plan.inputOptions)
      .videoFilters(plan.filters)
      .outputOptions(plan.outputOptions)
      .output('pipe:1')
      ._getArguments();
    const i = args.indexOf('-i');
    assert.equal(args[i + 1], fileSrc.input);
    assert.equal(args.filter((a) => a === fileSrc.input).length, 1);
    assert.deepEqual(args.slice(0, i), plan.inputOptions);
    assert.equal(args[args.indexOf('-filter:v') + 1], plan.filters.join(','));
  });
});
