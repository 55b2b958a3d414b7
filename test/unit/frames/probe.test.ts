import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isClipstreamError } from '../../../src/errors.js';
import { checkFfmpeg } from '../../../src/frames/index.js';
import { parseVersion } from '../../../src/frames/binaries.js';
import { mediaLimitsSchema, parseDecodeSettings, parseLimits } from '../../../src/frames/options.js';
import { checkLimits, parseRatio, probeInfoFromJson } from '../../../src/frames/probe.js';
import { StderrTail, classifyFfmpegFailure, tidy } from '../../../src/frames/process-util.js';

function throwsCode(fn: () => unknown, code: string): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(isClipstreamError(err), String(err));
    assert.equal(err.code, code, err.message);
    return true;
  });
}

const video = {
  index: 0,
  codec_type: 'video',
  codec_name: 'h264',
  width: 1280,
  height: 720,
  avg_frame_rate: '30000/1001',
  r_frame_rate: '30000/1001',
  sample_aspect_ratio: '1:1',
  duration: '10.010000',
  disposition: { attached_pic: 0 },
};
const format = {
  format_name: 'mov,mp4,m4a,3gp,3g2,mj2',
  start_time: '0.000000',
  duration: '10.010000',
  size: '123456',
};

describe('probeInfoFromJson', () => {
  it('reads the first video stream and the container', () => {
    const info = probeInfoFromJson({
      streams: [
        { index: 0, codec_type: 'audio' },
        { ...video, index: 1 },
      ],
      format,
    });
    assert.equal(info.streamIndex, 1);
    assert.equal(info.width, 1280);
    assert.equal(info.height, 720);
    assert.ok(Math.abs(info.fps - 29.97) < 0.01);
    assert.equal(info.durationSec, 10.01);
    assert.equal(info.startTimeSec, 0);
    assert.equal(info.codec, 'h264');
    assert.equal(info.formatName, 'mov,mp4,m4a,3gp,3g2,mj2');
    assert.equal(info.sizeBytes, 123456);
    assert.equal(info.sampleAspectRatio, 1);
    assert.equal(info.rotation, undefined);
  });

  it('keeps the container start time', () => {
    assert.equal(
      probeInfoFromJson({ streams: [video], format: { ...format, start_time: '1.400000' } }).startTimeSec,
      1.4,
    );
  });

  it('skips cover art: an audio file with a picture has no video stream', () => {
    const cover = { ...video, index: 1, codec_name: 'mjpeg', disposition: { attached_pic: 1 } };
    throwsCode(
      () => probeInfoFromJson({ streams: [{ index: 0, codec_type: 'audio' }, cover], format }),
      'CLIPSTREAM_NO_VIDEO_STREAM',
    );
  });

  it('no streams at all is no video stream', () => {
    throwsCode(() => probeInfoFromJson({ streams: [], format }), 'CLIPSTREAM_NO_VIDEO_STREAM');
  });

  it('a quarter-turn rotation swaps the axes and inverts the pixel aspect', () => {
    const rotated = {
      ...video,
      sample_aspect_ratio: '4:3',
      side_data_list: [{ side_data_type: 'Display Matrix', rotation: -90 }],
    };
    const info = probeInfoFromJson({ streams: [rotated], format });
    assert.equal(info.width, 720);
    assert.equal(info.height, 1280);
    assert.equal(info.rotation, -90);
    assert.ok(Math.abs(info.sampleAspectRatio - 0.75) < 1e-9);
  });

  it('reads the legacy rotate tag', () => {
    const info = probeInfoFromJson({ streams: [{ ...video, tags: { rotate: '180' } }], format });
    assert.equal(info.rotation, 180);
    assert.equal(info.width, 1280);
  });

  it('falls back to the stream duration, then 0; r_frame_rate when avg is 0/0', () => {
    const info = probeInfoFromJson({
      streams: [{ ...video, avg_frame_rate: '0/0', r_frame_rate: '25/1' }],
      format: { format_name: 'matroska,webm' },
    });
    assert.equal(info.durationSec, 10.01);
    assert.equal(info.fps, 25);
    const unknown = probeInfoFromJson({
      streams: [{ ...video, duration: undefined }],
      format: { format_name: 'matroska,webm' },
    });
    assert.equal(unknown.durationSec, 0);
  });

  it('a video stream without a frame size cannot be decoded', () => {
    throwsCode(
      () => probeInfoFromJson({ streams: [{ ...video, width: 0 }], format }),
      'CLIPSTREAM_PROBE_FAILED',
    );
  });

  it('rejects output of the wrong shape', () => {
    throwsCode(() => probeInfoFromJson({ streams: 'nope' }), 'CLIPSTREAM_PROBE_FAILED');
  });
});

describe('parseRatio', () => {
  it('parses rates and aspect ratios', () => {
    assert.equal(parseRatio('30/1'), 30);
    assert.equal(parseRatio('64:45'), 64 / 45);
    assert.equal(parseRatio('25'), 25);
    assert.equal(parseRatio('0/0'), undefined);
    assert.equal(parseRatio('0:1'), undefined);
    assert.equal(parseRatio('N/A'), undefined);
    assert.equal(parseRatio(undefined), undefined);
  });
});

describe('limits', () => {
  const info = probeInfoFromJson({ streams: [video], format });
  it('have documented defaults', () => {
    const l = parseLimits(undefined);
    assert.equal(l.maxFrames, 50_000);
    assert.equal(l.timeoutMs, 600_000);
    assert.ok(Object.isFrozen(l));
  });
  it('a source over any limit is too large', () => {
    const l = mediaLimitsSchema.parse({});
    checkLimits(info, l);
    throwsCode(() => checkLimits(info, { ...l, maxDurationSec: 10 }), 'CLIPSTREAM_SOURCE_TOO_LARGE');
    throwsCode(() => checkLimits(info, { ...l, maxWidth: 1279 }), 'CLIPSTREAM_SOURCE_TOO_LARGE');
    throwsCode(() => checkLimits(info, { ...l, maxHeight: 719 }), 'CLIPSTREAM_SOURCE_TOO_LARGE');
    throwsCode(() => checkLimits(info, { ...l, maxFileBytes: 1000 }), 'CLIPSTREAM_SOURCE_TOO_LARGE');
  });
  it('bad limits are a config error naming the field', () => {
    assert.throws(() => parseLimits({ timeoutMs: -1 }), /timeoutMs/);
    throwsCode(() => parseLimits({ maxFrames: 1.5 }), 'CLIPSTREAM_BAD_CONFIG');
    throwsCode(() => parseLimits({ maxFramez: 3 } as never), 'CLIPSTREAM_BAD_CONFIG');
  });
});

describe('decode options', () => {
  it('default to fps 1 sampling and fill in scene defaults', () => {
    assert.deepEqual(parseDecodeSettings({ width: 64, height: 64, resize: 'crop' }).sampling, {
      strategy: 'fps',
      fps: 1,
    });
    assert.deepEqual(
      parseDecodeSettings({ width: 64, height: 64, resize: 'crop', sampling: { strategy: 'scene' } })
        .sampling,
      {
        strategy: 'scene',
        threshold: 0.3,
        minSpacingSec: 0.5,
      },
    );
  });
  for (const [name, opts, field] of [
    ['zero width', { width: 0, height: 64, resize: 'crop' }, 'width'],
    ['fractional height', { width: 64, height: 6.5, resize: 'crop' }, 'height'],
    ['unknown resize', { width: 64, height: 64, resize: 'zoom' }, 'resize'],
    [
      'negative fps',
      { width: 64, height: 64, resize: 'crop', sampling: { strategy: 'fps', fps: -1 } },
      'sampling.fps',
    ],
    [
      'unknown strategy',
      { width: 64, height: 64, resize: 'crop', sampling: { strategy: 'every' } },
      'sampling',
    ],
    [
      'scene threshold 1.5',
      { width: 64, height: 64, resize: 'crop', sampling: { strategy: 'scene', threshold: 1.5 } },
      'sampling.threshold',
    ],
  ] as const) {
    it(`refuses ${name}`, () => {
      throwsCode(() => parseDecodeSettings(opts as never), 'CLIPSTREAM_BAD_CONFIG');
      assert.throws(() => parseDecodeSettings(opts as never), new RegExp(field.replace('.', '\\.')));
    });
  }
});

describe('stderr handling', () => {
  it('keeps a bounded tail and prefers the last error line', () => {
    const t = new StderrTail();
    t.pushLine('[h264 @ 0x55d0aa] [error] Invalid NAL unit size');
    for (let i = 0; i < 100; i++) t.pushLine(`[info] line ${i} ${'x'.repeat(1000)}`);
    assert.equal(t.lastErrorLine(), 'h264: Invalid NAL unit size');
    assert.ok(t.text().split('\n').length <= 20);
    assert.ok(
      t
        .text()
        .split('\n')
        .every((l) => l.length <= 400),
    );
  });
  it('splits raw chunks into lines', () => {
    const t = new StderrTail();
    t.push('first\nsec');
    t.push('ond\n');
    assert.equal(t.lastErrorLine(), 'second');
  });
  it('tidies context and level tags', () => {
    assert.equal(tidy('[mov,mp4 @ 0x1f] [error] moov atom not found'), 'mov,mp4: moov atom not found');
    assert.equal(tidy('[fatal] file:x: Invalid data'), 'file:x: Invalid data');
  });
  it('maps missing sources and network trouble to their codes', () => {
    assert.equal(
      classifyFfmpegFailure('CLIPSTREAM_PROBE_FAILED', 'm', 'file:/a: No such file or directory').code,
      'CLIPSTREAM_SOURCE_NOT_FOUND',
    );
    assert.equal(
      classifyFfmpegFailure('CLIPSTREAM_PROBE_FAILED', 'm', 'http://h/a: Server returned 404 Not Found').code,
      'CLIPSTREAM_SOURCE_NOT_FOUND',
    );
    const unavailable = classifyFfmpegFailure(
      'CLIPSTREAM_DECODE_FAILED',
      'm',
      'tcp://h:80: Connection refused',
    );
    assert.equal(unavailable.code, 'CLIPSTREAM_SOURCE_UNAVAILABLE');
    assert.equal(unavailable.retryable, true);
    assert.equal(
      classifyFfmpegFailure('CLIPSTREAM_DECODE_FAILED', 'm', 'Invalid data found').code,
      'CLIPSTREAM_DECODE_FAILED',
    );
  });
});

describe('checkFfmpeg', () => {
  it('an explicit FFMPEG_PATH that does not exist is one clear error', async () => {
    await assert.rejects(
      checkFfmpeg({ env: { FFMPEG_PATH: '/nonexistent/ffmpeg', PATH: process.env.PATH } }),
      (err: unknown) => {
        assert.ok(isClipstreamError(err));
        assert.equal(err.code, 'CLIPSTREAM_FFMPEG_MISSING');
        assert.match(err.message, /FFMPEG_PATH/);
        assert.equal(err.message.includes('\n'), false);
        return true;
      },
    );
  });
  it('no ffmpeg on PATH is FFMPEG_MISSING', async () => {
    await assert.rejects(
      checkFfmpeg({ env: { PATH: '/nonexistent-bin' } }),
      /CLIPSTREAM_FFMPEG_MISSING|not found on PATH/,
    );
  });
  it('parses release versions and ignores git builds', () => {
    assert.deepEqual(parseVersion('5.1.6-0+deb12u1'), [5, 1]);
    assert.deepEqual(parseVersion('n6.1.1'), [6, 1]);
    assert.equal(parseVersion('N-112345-gabcdef'), undefined);
  });
});
