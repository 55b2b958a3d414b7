/**
 * Decode only what is sampled (src/frames/strategy.ts) against real ffmpeg: each mode keeps
 * real frames with their true timestamps and the same pixels a full decode gives at that time.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { decodeFrames, probe, resolveSource } from '../../../src/frames/index.js';
import type { DecodeChoice, DecodeOptions, Frame } from '../../../src/frames/index.js';
import {
  expectedFpsSelection,
  ffmpeg,
  makeTempDir,
  probeFrames,
  removeTempDir,
} from '../../helpers/media.js';
import type { FramesTruth } from '../../helpers/media.js';

const size = { width: 32, height: 32, resize: 'crop' as const };

async function collect(path: string, opts: Omit<DecodeOptions, 'width' | 'height' | 'resize'>) {
  const src = await resolveSource(path, { allowPrivateNetworks: false });
  const info = await probe(src);
  const frames: Frame[] = [];
  let choice: DecodeChoice | undefined;
  for await (const f of decodeFrames(src, info, { ...size, ...opts, onDecodeChoice: (c) => (choice = c) })) {
    frames.push(f);
  }
  return { frames, choice };
}

describe('decode modes', () => {
  let dir: string;
  let clip: string;
  let truth: FramesTruth;
  let every: Map<string, Uint8Array>;
  const key = (t: number) => t.toFixed(4);

  before(async () => {
    dir = await makeTempDir();
    clip = join(dir, 'b-frames.mp4');
    // veryfast: B-frames (and B-pyramid references), as typical uploads have; keyframe every 1 s
    await ffmpeg([
      ...['-f', 'lavfi', '-i', 'testsrc2=size=160x120:rate=30:duration=6'],
      ...['-c:v', 'libx264', '-preset', 'veryfast', '-pix_fmt', 'yuv420p'],
      ...['-g', '30', '-keyint_min', '30', '-sc_threshold', '0', clip],
    ]);
    truth = await probeFrames(clip);
    const all = await collect(clip, { sampling: { strategy: 'fps', fps: 30 }, decode: 'all' });
    assert.equal(all.frames.length, 180);
    every = new Map(all.frames.map((f) => [key(f.timeSec), f.data]));
  });
  after(() => removeTempDir(dir));

  function assertRealFrames(frames: Frame[]): void {
    for (const f of frames) {
      const full = every.get(key(f.timeSec));
      assert.ok(full, `frame at ${f.timeSec} s is not a real frame of the video`);
      assert.deepEqual(f.data, full, `pixels at ${f.timeSec} s differ from a full decode`);
    }
    assert.deepEqual(
      frames.map((f) => f.index),
      frames.map((_, i) => i),
    );
  }

  it('auto at 2 fps skips B-frames: one real frame per bucket, same pixels, fewer frames decoded', async () => {
    const { frames, choice } = await collect(clip, { sampling: { strategy: 'fps', fps: 2 } });
    assert.equal(choice?.mode, 'bidir');
    assert.equal(frames.length, 12);
    assert.deepEqual(
      frames.map((f) => Math.floor(f.timeSec * 2 + 1e-6)),
      frames.map((_, i) => i),
    );
    assertRealFrames(frames);
    // at least one bucket starts on a B-frame, so the kept frame is a later one
    const exact = expectedFpsSelection(truth, 2);
    assert.notDeepEqual(
      frames.map((f) => key(f.timeSec)),
      exact.map(key),
    );
  });

  it('auto at 0.5 fps with a keyframe every second decodes keyframes only', async () => {
    const { frames, choice } = await collect(clip, { sampling: { strategy: 'fps', fps: 0.5 } });
    assert.equal(choice?.mode, 'keyframes');
    const keys = new Set(truth.frames.filter((f) => f.key).map((f) => key(f.timeSec)));
    assert.deepEqual(
      frames.map((f) => f.timeSec),
      [0, 2, 4],
    );
    for (const f of frames) assert.ok(keys.has(key(f.timeSec)));
    assertRealFrames(frames);
  });

  it("a local file's keyframe spacing is read beside the probe, and the decoder uses it", async () => {
    const src = await resolveSource(clip, { allowPrivateNetworks: false });
    const plain = await probe(src);
    assert.equal(plain.keyframes, undefined);
    const info = await probe(src, { keyframes: true });
    assert.deepEqual(info.keyframes, { count: 6, maxGapSec: 1, meanGapSec: 1 });
    assert.deepEqual({ ...info, keyframes: undefined }, { ...plain, keyframes: undefined });
    // Same choice and frames as the decoder's own keyframe read after the probe.
    const frames: Frame[] = [];
    let choice: DecodeChoice | undefined;
    const opts = {
      ...size,
      sampling: { strategy: 'fps' as const, fps: 0.5 },
      onDecodeChoice: (c: DecodeChoice) => (choice = c),
    };
    for await (const f of decodeFrames(src, info, opts)) frames.push(f);
    assert.equal(choice?.mode, 'keyframes');
    assert.deepEqual(
      frames.map((f) => f.timeSec),
      [0, 2, 4],
    );
  });

  it('seek gives exactly the first frame of every bucket, as a full decode selects it', async () => {
    const { frames, choice } = await collect(clip, {
      sampling: { strategy: 'fps', fps: 1.5 },
      decode: 'seek',
    });
    assert.equal(choice?.mode, 'seek');
    assert.deepEqual(
      frames.map((f) => key(f.timeSec)),
      expectedFpsSelection(truth, 1.5).map(key),
    );
    assertRealFrames(frames);
  });
});
