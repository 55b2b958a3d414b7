import assert from 'node:assert/strict';
import { createReadStream } from 'node:fs';
import { readFile, stat, writeFile } from 'node:fs/promises';
import { type Server, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { isClipstreamError } from '../../../src/errors.js';
import {
  type DecodeChoice,
  type DecodeOptions,
  type Frame,
  type ProbeInfo,
  type ResolvedSource,
  checkFfmpeg,
  decodeFrames,
  probe,
  resolveSource,
} from '../../../src/frames/index.js';
import {
  bytesWritten,
  expectedFpsSelection,
  ffmpeg,
  ffmpegPids,
  makeAudioOnly,
  makeClip,
  makeNotMedia,
  makeTempDir,
  makeVfrClip,
  probeFrames,
  processExists,
  removeTempDir,
  sleep,
} from '../../helpers/media.js';

const policy = { allowPrivateNetworks: false };
const small: Omit<DecodeOptions, 'sampling'> = { width: 32, height: 32, resize: 'letterbox' };

async function open(path: string): Promise<{ src: ResolvedSource; info: ProbeInfo }> {
  const src = await resolveSource(path, policy);
  return { src, info: await probe(src) };
}

async function collect(path: string, opts: DecodeOptions): Promise<Frame[]> {
  const { src, info } = await open(path);
  const out: Frame[] = [];
  for await (const f of decodeFrames(src, info, opts)) out.push(f);
  return out;
}

async function rejectsWith(p: Promise<unknown>, code: string, message?: RegExp): Promise<void> {
  await assert.rejects(p, (err: unknown) => {
    assert.ok(isClipstreamError(err), `not a coded error: ${String(err)}`);
    assert.equal(err.code, code, err.message);
    if (message) assert.match(err.message, message);
    return true;
  });
}

function assertTimes(actual: number[], expected: number[]): void {
  assert.equal(actual.length, expected.length, `got ${actual.join(' ')}\nwant ${expected.join(' ')}`);
  actual.forEach((t, i) =>
    assert.ok(Math.abs(t - expected[i]!) < 2e-6, `frame ${i}: ${t} vs ${expected[i]}`),
  );
}

const rowIsBlack = (f: Frame, w: number, y: number): boolean =>
  f.data.subarray(y * w * 3, (y + 1) * w * 3).every((v) => v < 20);

let dir: string;
const clip: Record<string, string> = {};

before(async () => {
  dir = await makeTempDir();
  const p = (name: string): string => join(dir, name);
  await Promise.all([
    makeClip((clip.cfr = p('cfr.mp4')), { durationSec: 4, fps: 30, gop: 15 }),
    makeVfrClip((clip.vfr = p('vfr.mp4')), [
      [2, 10],
      [1.5, 30],
      [1, 5],
      [0.5, 24],
    ]),
    makeClip((clip.offset = p('offset.mp4')), { durationSec: 2, fps: 25, startOffsetSec: 5 }),
    makeClip((clip.offsetGop = p('offset-gop.mp4')), { durationSec: 2, fps: 25, startOffsetSec: 5, gop: 10 }),
    makeClip((clip.short = p('short.mp4')), { durationSec: 2, fps: 10 }),
    makeClip((clip.long = p('long.mp4')), { durationSec: 20, fps: 30, width: 96, height: 64 }),
    makeClip((clip.anamorphic = p('anamorphic.mp4')), {
      durationSec: 1,
      fps: 10,
      extra: ['-vf', 'setsar=2'],
    }),
    makeClip((clip.web = p('web.mp4')), { durationSec: 2, fps: 10, extra: ['-movflags', '+faststart'] }),
    makeAudioOnly((clip.audio = p('audio.m4a'))),
    makeNotMedia((clip.text = p('notmedia.mp4'))),
    // Audio from 0 s, video from 2 s, in MPEG-TS (which also starts its clock at 1.4 s).
    ffmpeg([
      '-f',
      'lavfi',
      '-i',
      'sine=duration=4',
      '-itsoffset',
      '2',
      '-f',
      'lavfi',
      '-i',
      'testsrc2=size=160x120:rate=10:duration=2',
      '-map',
      '0',
      '-map',
      '1',
      '-c:v',
      'libx264',
      '-preset',
      'ultrafast',
      '-pix_fmt',
      'yuv420p',
      '-c:a',
      'aac',
      (clip.late = p('late.ts')),
    ]),
  ]);
});

after(() => removeTempDir(dir));

describe('ffmpeg', () => {
  it('is found and reports its version', async () => {
    const b = await checkFfmpeg();
    assert.match(b.version, /^\S+$/);
    assert.ok(b.ffmpeg.startsWith('/') && b.ffprobe.startsWith('/'));
  });
});

describe('timestamps', () => {
  it('fps sampling on a variable-frame-rate clip keeps the first real frame of each bucket', async () => {
    const truth = await probeFrames(clip.vfr!);
    assert.equal(truth.frames.length, 20 + 45 + 5 + 12, 'the test clip is what it should be');
    for (const fps of [1, 4, 7.5]) {
      const frames = await collect(clip.vfr!, { ...small, sampling: { strategy: 'fps', fps } });
      assertTimes(
        frames.map((f) => f.timeSec),
        expectedFpsSelection(truth, fps),
      );
      frames.forEach((f, i) => assert.equal(f.index, i));
    }
  });

  it('times count from the container start time (mp4 with an offset)', async () => {
    const { info } = await open(clip.offset!);
    assert.equal(info.startTimeSec, 5);
    const frames = await collect(clip.offset!, { ...small, sampling: { strategy: 'fps', fps: 2 } });
    assertTimes(
      frames.map((f) => f.timeSec),
      [0, 0.52, 1, 1.52],
    );
  });

  it('a video that starts after its audio starts after 0 (MPEG-TS)', async () => {
    const { info } = await open(clip.late!);
    const truth = await probeFrames(clip.late!);
    assert.ok(info.startTimeSec > 1, `start ${info.startTimeSec}`);
    assert.ok(truth.frames[0]!.timeSec > 1.9, `video starts at ${truth.frames[0]!.timeSec}`);
    const frames = await collect(clip.late!, { ...small, sampling: { strategy: 'fps', fps: 1 } });
    assertTimes(
      frames.map((f) => f.timeSec),
      expectedFpsSelection(truth, 1),
    );
  });
});

describe('sampling strategies', () => {
  it('fps N on a D-second clip gives D*N frames, one per bucket', async () => {
    for (const fps of [2, 3, 7]) {
      const frames = await collect(clip.cfr!, { ...small, sampling: { strategy: 'fps', fps } });
      assert.equal(frames.length, 4 * fps);
      // Times are whole microseconds: allow that much below the bucket's start.
      frames.forEach((f, i) =>
        assert.ok(
          f.timeSec >= i / fps - 1e-6 && f.timeSec < (i + 1) / fps,
          `fps ${fps} frame ${i} at ${f.timeSec}`,
        ),
      );
    }
  });

  it('defaults to 1 fps', async () => {
    const frames = await collect(clip.cfr!, small);
    assertTimes(
      frames.map((f) => f.timeSec),
      [0, 1, 2, 3],
    );
  });

  it('keyframes yields exactly the key frames', async () => {
    const keys = (await probeFrames(clip.cfr!)).frames.filter((f) => f.key).map((f) => f.timeSec);
    assert.equal(keys.length, 8, 'gop 15 at 30 fps over 4 s');
    const frames = await collect(clip.cfr!, { ...small, sampling: { strategy: 'keyframes' } });
    assertTimes(
      frames.map((f) => f.timeSec),
      keys,
    );
  });

  it('scene always keeps the first frame', async () => {
    const frames = await collect(clip.cfr!, {
      ...small,
      sampling: { strategy: 'scene', threshold: 0.9, minSpacingSec: 0 },
    });
    assert.ok(frames.length >= 1);
    assert.equal(frames[0]!.timeSec, 0);
  });
});

describe('resize', () => {
  it('gives width*height*3 rgb24 bytes in every mode', async () => {
    for (const resize of ['crop', 'letterbox', 'stretch'] as const) {
      const [f] = await collect(clip.web!, {
        width: 48,
        height: 40,
        resize,
        sampling: { strategy: 'keyframes' },
      });
      assert.equal(f!.data.length, 48 * 40 * 3, resize);
      assert.ok(f!.data instanceof Uint8Array);
    }
  });

  it('letterbox pads a 4:3 source with black rows; crop does not', async () => {
    const [lb] = await collect(clip.web!, {
      width: 64,
      height: 64,
      resize: 'letterbox',
      sampling: { strategy: 'keyframes' },
    });
    const [cr] = await collect(clip.web!, {
      width: 64,
      height: 64,
      resize: 'crop',
      sampling: { strategy: 'keyframes' },
    });
    // 160x120 -> 64x48, padded by 8 rows above and below.
    assert.ok(rowIsBlack(lb!, 64, 0) && rowIsBlack(lb!, 64, 7) && rowIsBlack(lb!, 64, 63));
    assert.ok(!rowIsBlack(lb!, 64, 9) && !rowIsBlack(lb!, 64, 32));
    assert.ok(!rowIsBlack(cr!, 64, 0) && !rowIsBlack(cr!, 64, 63));
  });

  it('letterbox honours non-square pixels (display aspect, not storage aspect)', async () => {
    const { info } = await open(clip.anamorphic!);
    assert.equal(info.sampleAspectRatio, 2);
    const [f] = await collect(clip.anamorphic!, {
      width: 64,
      height: 64,
      resize: 'letterbox',
      sampling: { strategy: 'keyframes' },
    });
    // 160x120 at SAR 2 shows as 320x120 -> 64x24, padded by 20 rows above and below.
    assert.ok(rowIsBlack(f!, 64, 0) && rowIsBlack(f!, 64, 18) && rowIsBlack(f!, 64, 45));
    assert.ok(!rowIsBlack(f!, 64, 22) && !rowIsBlack(f!, 64, 32));
  });
});

describe('ffmpeg starts while the probe is under way', () => {
  async function both(
    path: string,
    opts: DecodeOptions,
  ): Promise<{ awaited: Frame[]; early: Frame[]; choice: DecodeChoice | undefined }> {
    const awaited = await collect(path, opts);
    const src = await resolveSource(path, policy);
    const early: Frame[] = [];
    let choice: DecodeChoice | undefined;
    for await (const f of decodeFrames(src, probe(src, { keyframes: true }), {
      ...opts,
      onDecodeChoice: (c) => (choice = c),
    }))
      early.push(f);
    assert.deepEqual(await ffmpegPids(path), [], 'no ffmpeg is left');
    return { awaited, early, choice };
  }

  function same(early: Frame[], awaited: Frame[]): void {
    assert.deepEqual(
      early.map((f) => [f.index, f.timeSec]),
      awaited.map((f) => [f.index, f.timeSec]),
    );
    early.forEach((f, i) => assert.deepEqual(f.data, awaited[i]?.data, `frame ${i}`));
  }

  it('keyframes: the frames, times and pixels of a decode after the probe (container start time of 5 s)', async () => {
    const { awaited, early, choice } = await both(clip.offsetGop!, {
      ...small,
      sampling: { strategy: 'keyframes' },
    });
    assert.equal(awaited.length, 5);
    assert.ok((awaited[0]?.timeSec ?? -1) < 0.5, 'times count from the container start');
    same(early, awaited);
    assert.equal(choice?.startedBeforeProbe, true, 'the keyframe command needs nothing from the probe');
  });

  it('fps sampling of a 30 fps H.264 file: the command started early is kept, frames as after the probe', async () => {
    // Keyframes every 0.5 s do not serve 3 frames/s: B-frames skipped, as assumed before the probe.
    const opts = { ...small, sampling: { strategy: 'fps' as const, fps: 3 } };
    const { awaited, early, choice } = await both(clip.cfr!, opts);
    assert.equal(awaited.length, 12);
    same(early, awaited);
    assert.equal(choice?.mode, 'bidir');
    assert.equal(choice?.startedBeforeProbe, true);
  });

  it('fps sampling of a file that starts at 5 s: ffmpeg starts again with the command the probe gives', async () => {
    const opts = { ...small, sampling: { strategy: 'fps' as const, fps: 2 } };
    const { awaited, early, choice } = await both(clip.offset!, opts);
    assert.ok(awaited.length >= 4);
    same(early, awaited);
    assert.equal(choice?.startedBeforeProbe, undefined);
  });

  it('a source with non-square pixels is decoded again with the square-pixel chain', async () => {
    const opts = {
      width: 64,
      height: 64,
      resize: 'letterbox' as const,
      sampling: { strategy: 'keyframes' as const },
    };
    const { awaited, early, choice } = await both(clip.anamorphic!, opts);
    assert.equal(early.length, awaited.length);
    early.forEach((f, i) => assert.deepEqual(f.data, awaited[i]?.data, `frame ${i}`));
    // 64x24 picture, padded by 20 rows: what the square-pixel chain gives (not 64x48).
    assert.ok(rowIsBlack(early[0]!, 64, 18) && !rowIsBlack(early[0]!, 64, 22));
    assert.equal(choice?.startedBeforeProbe, undefined);
  });

  it("a failed probe is the call's error, and ffmpeg is stopped", async () => {
    const src = await resolveSource(clip.text!, policy);
    await rejectsWith(
      decodeFrames(src, probe(src), { ...small, sampling: { strategy: 'keyframes' } }).next(),
      'CLIPSTREAM_PROBE_FAILED',
    );
    assert.deepEqual(await ffmpegPids(clip.text!), []);
  });

  it('a source over a limit yields no frame, and ffmpeg is stopped', async () => {
    const src = await resolveSource(clip.long!, policy);
    const got: Frame[] = [];
    const limits = { maxDurationSec: 5 };
    await rejectsWith(
      (async () => {
        // The probe runs without the limit: the decoder checks it once the probe has answered.
        for await (const f of decodeFrames(src, probe(src), {
          ...small,
          sampling: { strategy: 'keyframes' },
          limits,
        })) {
          got.push(f);
        }
      })(),
      'CLIPSTREAM_SOURCE_TOO_LARGE',
      /duration/,
    );
    assert.equal(got.length, 0);
    assert.deepEqual(await ffmpegPids(clip.long!), []);
  });
});

describe('process lifecycle', () => {
  const every = {
    width: 16,
    height: 16,
    resize: 'stretch' as const,
    sampling: { strategy: 'fps' as const, fps: 30 },
  };

  it('aborting kills ffmpeg and the generator throws ABORTED', async () => {
    const { src, info } = await open(clip.long!);
    const ac = new AbortController();
    const gen = decodeFrames(src, info, { ...every, signal: ac.signal });
    assert.equal((await gen.next()).done, false);
    const [pid] = await ffmpegPids(clip.long!);
    assert.ok(pid !== undefined, 'ffmpeg runs while frames are pending');
    ac.abort();
    await rejectsWith(gen.next(), 'CLIPSTREAM_ABORTED');
    assert.equal(await processExists(pid), false, 'ffmpeg is gone (not even a zombie)');
  });

  it('breaking out of the loop kills ffmpeg', async () => {
    const { src, info } = await open(clip.long!);
    let pid: number | undefined;
    for await (const f of decodeFrames(src, info, every)) {
      [pid] = await ffmpegPids(clip.long!);
      if (f.index === 1) break;
    }
    assert.ok(pid !== undefined);
    assert.equal(await processExists(pid), false);
  });

  it('a slow consumer pauses ffmpeg instead of buffering the video', async () => {
    const { src, info } = await open(clip.long!);
    const gen = decodeFrames(src, info, every);
    const first = await gen.next();
    assert.equal(first.done, false);
    const [pid] = await ffmpegPids(clip.long!);
    assert.ok(pid !== undefined);
    // Wait until ffmpeg stops writing: it must block on the full pipe, still alive.
    let last = -1;
    for (;;) {
      const written = await bytesWritten(pid);
      assert.ok(written !== undefined, 'ffmpeg finished while the consumer held a frame: no backpressure');
      if (written === last) break;
      last = written;
      await sleep(150);
    }
    assert.ok(await processExists(pid));
    assert.ok(last < 600 * 16 * 16 * 3, `ffmpeg wrote ${last} bytes before blocking`);
    let n = 1;
    for (let r = await gen.next(); !r.done; r = await gen.next()) n++;
    assert.equal(n, 600, 'every frame arrives after the pause');
    assert.equal(await processExists(pid), false);
  });

  it('frames still in the pipe when ffmpeg exits all reach a slow consumer', async () => {
    // Regression: a 2 s safety timer after ffmpeg's exit used to declare stdout ended while a
    // consumer that held a frame had not yet read what was left in the pipe.
    const { src, info } = await open(clip.short!);
    const gen = decodeFrames(src, info, {
      width: 64,
      height: 64,
      resize: 'stretch',
      sampling: { strategy: 'fps', fps: 30 },
    });
    assert.equal((await gen.next()).done, false);
    while ((await ffmpegPids(clip.short!)).length > 0) await sleep(50);
    await sleep(2500);
    let n = 1;
    for (let r = await gen.next(); !r.done; r = await gen.next()) n++;
    assert.equal(n, 20);
  });

  it('two decodes can run side by side', async () => {
    const [a, b] = await Promise.all([
      collect(clip.cfr!, { ...small, sampling: { strategy: 'fps', fps: 5 } }),
      collect(clip.vfr!, { ...small, sampling: { strategy: 'keyframes' } }),
    ]);
    assert.equal(a.length, 20);
    assert.ok(b.length >= 1);
  });
});

describe('errors and limits', () => {
  it('a missing file is SOURCE_NOT_FOUND', () =>
    rejectsWith(resolveSource(join(dir, 'missing.mp4'), policy), 'CLIPSTREAM_SOURCE_NOT_FOUND'));

  it('a file that is not media is PROBE_FAILED', () =>
    rejectsWith(open(clip.text!), 'CLIPSTREAM_PROBE_FAILED', /Invalid data/));

  it('an audio-only file is NO_VIDEO_STREAM', () =>
    rejectsWith(open(clip.audio!), 'CLIPSTREAM_NO_VIDEO_STREAM', /audio/));

  it('a file deleted after resolving is SOURCE_NOT_FOUND at probe', async () => {
    const src: ResolvedSource = { uri: 'x', input: `file:${join(dir, 'gone.mp4')}`, kind: 'file' };
    await rejectsWith(probe(src), 'CLIPSTREAM_SOURCE_NOT_FOUND');
  });

  it('bad decode options are BAD_CONFIG before ffmpeg starts', async () => {
    const { src, info } = await open(clip.cfr!);
    await rejectsWith(
      decodeFrames(src, info, { width: 0, height: 64, resize: 'crop' }).next(),
      'CLIPSTREAM_BAD_CONFIG',
      /width/,
    );
    await rejectsWith(
      decodeFrames(src, info, { ...small, sampling: { strategy: 'fps', fps: -2 } }).next(),
      'CLIPSTREAM_BAD_CONFIG',
      /sampling\.fps/,
    );
    await rejectsWith(
      decodeFrames(src, info, { ...small, limits: { timeoutMs: 0 } }).next(),
      'CLIPSTREAM_BAD_CONFIG',
      /timeoutMs/,
    );
  });

  it('probe limits: a source over the duration or size limit is SOURCE_TOO_LARGE', async () => {
    const src = await resolveSource(clip.cfr!, policy);
    await rejectsWith(
      probe(src, { limits: { maxDurationSec: 3 } }),
      'CLIPSTREAM_SOURCE_TOO_LARGE',
      /duration/,
    );
    await rejectsWith(probe(src, { limits: { maxWidth: 100 } }), 'CLIPSTREAM_SOURCE_TOO_LARGE', /width/);
    await rejectsWith(probe(src, { limits: { maxFileBytes: 100 } }), 'CLIPSTREAM_SOURCE_TOO_LARGE', /size/);
  });

  it('maxFrames: refused up front for fps sampling', async () => {
    const { src, info } = await open(clip.cfr!);
    await rejectsWith(
      decodeFrames(src, info, {
        ...small,
        sampling: { strategy: 'fps', fps: 10 },
        limits: { maxFrames: 39 },
      }).next(),
      'CLIPSTREAM_SOURCE_TOO_LARGE',
    );
  });

  it('maxFrames: enforced while decoding key frames', async () => {
    const { src, info } = await open(clip.cfr!);
    const got: number[] = [];
    await rejectsWith(
      (async () => {
        for await (const f of decodeFrames(src, info, {
          ...small,
          sampling: { strategy: 'keyframes' },
          limits: { maxFrames: 3 },
        })) {
          got.push(f.index);
        }
      })(),
      'CLIPSTREAM_SOURCE_TOO_LARGE',
      /more than 3 frames/,
    );
    assert.deepEqual(got, [0, 1, 2]);
    assert.deepEqual(await ffmpegPids(clip.cfr!), []);
  });

  it('a tiny timeout is DECODE_TIMEOUT and kills ffmpeg', async () => {
    const { src, info } = await open(clip.long!);
    await rejectsWith(
      (async () => {
        for await (const _ of decodeFrames(src, info, {
          ...small,
          sampling: { strategy: 'fps', fps: 30 },
          limits: { timeoutMs: 1 },
        })) {
          // consume
        }
      })(),
      'CLIPSTREAM_DECODE_TIMEOUT',
    );
    assert.deepEqual(await ffmpegPids(clip.long!), []);
  });

  it('a pre-aborted signal is ABORTED for probe and decode', async () => {
    const { src, info } = await open(clip.cfr!);
    const ac = new AbortController();
    ac.abort();
    await rejectsWith(probe(src, { signal: ac.signal }), 'CLIPSTREAM_ABORTED');
    await rejectsWith(decodeFrames(src, info, { ...small, signal: ac.signal }).next(), 'CLIPSTREAM_ABORTED');
  });

  it("a file whose frames cannot be decoded is DECODE_FAILED with ffmpeg's last error line", async () => {
    const broken = join(dir, 'broken.mp4');
    const bytes = Buffer.from(await readFile(clip.web!));
    bytes.fill(0, bytes.indexOf('mdat') + 4);
    await writeFile(broken, bytes);
    const brokenSrc = await resolveSource(broken, policy);
    await rejectsWith(
      (async () => {
        for await (const _ of decodeFrames(brokenSrc, await probe(brokenSrc), small)) {
          // consume
        }
      })(),
      'CLIPSTREAM_DECODE_FAILED',
      /ffmpeg failed: \S/,
    );
  });
});

describe('http sources', () => {
  let server: Server;
  let base: string;
  before(async () => {
    server = createServer((req, res) => {
      if (req.url === '/stall.mp4') {
        res.writeHead(200, { 'content-type': 'video/mp4' });
        res.write(Buffer.alloc(16)); // then nothing: a server that hangs
        return;
      }
      if (req.url !== '/web.mp4') {
        res.writeHead(404).end('not found');
        return;
      }
      void stat(clip.web!).then((st) => {
        res.writeHead(200, { 'content-type': 'video/mp4', 'content-length': st.size });
        createReadStream(clip.web!).pipe(res);
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(
    () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  );

  it('a loopback URL is refused by default', () =>
    rejectsWith(resolveSource(`${base}/web.mp4`, policy), 'CLIPSTREAM_URI_REFUSED'));

  it('with private networks allowed, ffmpeg reads it over http', async () => {
    const src = await resolveSource(`${base}/web.mp4`, { allowPrivateNetworks: true });
    const info = await probe(src);
    assert.equal(info.width, 160);
    const frames: Frame[] = [];
    for await (const f of decodeFrames(src, info, { ...small, sampling: { strategy: 'fps', fps: 2 } }))
      frames.push(f);
    assert.equal(frames.length, 4);
  });

  it('a 404 is SOURCE_NOT_FOUND', async () => {
    const src = await resolveSource(`${base}/nope.mp4`, { allowPrivateNetworks: true });
    await rejectsWith(probe(src), 'CLIPSTREAM_SOURCE_NOT_FOUND');
  });

  it('aborting a probe of a hanging server kills ffprobe', async () => {
    const src = await resolveSource(`${base}/stall.mp4`, { allowPrivateNetworks: true });
    const ac = new AbortController();
    const pending = probe(src, { signal: ac.signal });
    let pids: number[] = [];
    while (pids.length === 0) {
      await sleep(50);
      pids = await ffmpegPids('/stall.mp4', 'ffprobe');
    }
    ac.abort();
    await rejectsWith(pending, 'CLIPSTREAM_ABORTED');
    for (const pid of pids) assert.equal(await processExists(pid), false);
  });

  it('a probe that outlives its limit is PROBE_FAILED, retryable', async () => {
    const src = await resolveSource(`${base}/stall.mp4`, { allowPrivateNetworks: true });
    await assert.rejects(probe(src, { limits: { probeTimeoutMs: 300 } }), (err: unknown) => {
      assert.ok(isClipstreamError(err));
      assert.equal(err.code, 'CLIPSTREAM_PROBE_FAILED');
      assert.equal(err.retryable, true);
      assert.match(err.message, /300 ms/);
      return true;
    });
    assert.deepEqual(await ffmpegPids('/stall.mp4', 'ffprobe'), []);
  });
});
