import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { access, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { renderVideo } from '../../../eval/shapes/render.js';
import type { TruthDocument } from '../../../eval/shapes/truth.js';
import {
  COLOURS,
  type ObjectSpec,
  type SceneSpec,
  type VideoSpec,
  positionAt,
  sceneSpans,
  specViolations,
} from '../../../eval/shapes/world.js';
import { isClipstreamError } from '../../../src/errors.js';
import { type Frame, decodeFrames, probe, resolveSource } from '../../../src/frames/index.js';
import { makeTempDir, probeFrames, removeTempDir } from '../../helpers/media.js';

const W = 240;
const H = 180;
const FPS = 10;

function obj(
  colour: ObjectSpec['colour'],
  shape: ObjectSpec['shape'],
  x: number,
  y: number,
  size = 60,
  vx = 0,
  vy = 0,
): ObjectSpec {
  const base = COLOURS[colour];
  // A fixed jitter, to check the jittered colour (not the named one) is what gets drawn.
  const rgb: [number, number, number] = [base[0] - 7, base[1] + 5, base[2] + 3];
  return { colour, shape, rgb, size, start: { x, y }, velocity: { x: vx, y: vy } };
}

function spec(scenes: SceneSpec[]): VideoSpec {
  return { world: 'shapes-v1', width: W, height: H, fps: FPS, antialias: true, noiseSeed: 5, scenes };
}

/** Hard cuts between scenes of different backgrounds, objects static and moving. */
const cuts = spec([
  { durationSec: 2, background: 'black', objects: [obj('red', 'circle', 60, 90, 60, 20, 0)] },
  {
    durationSec: 2.5,
    background: 'white',
    objects: [obj('blue', 'square', 60, 60), obj('yellow', 'triangle', 170, 110, 70, 0, -10)],
  },
  { durationSec: 2, background: 'noise', objects: [obj('green', 'triangle', 120, 90, 80)] },
  { durationSec: 3, background: 'gray', objects: [] },
  {
    durationSec: 2,
    background: 'black',
    objects: [obj('yellow', 'circle', 180, 120, 50, -30, 0), obj('green', 'square', 50, 50, 50)],
  },
]);

let dir: string;
let video: string;

before(async () => {
  dir = await makeTempDir();
  video = join(dir, 'cuts.mp4');
  assert.deepEqual(specViolations(cuts), []);
  await renderVideo(cuts, video);
});
after(() => removeTempDir(dir));

async function decodeAll(
  path: string,
  sampling: Parameters<typeof decodeFrames>[2]['sampling'],
): Promise<Frame[]> {
  const src = await resolveSource(path, { allowPrivateNetworks: false });
  const info = await probe(src);
  const out: Frame[] = [];
  for await (const f of decodeFrames(src, info, { width: W, height: H, resize: 'stretch', sampling }))
    out.push(f);
  return out;
}

describe('shapes renderer', () => {
  it('writes H.264 yuv420p MP4 with every frame at the spec rate', async () => {
    const src = await resolveSource(video, { allowPrivateNetworks: false });
    const info = await probe(src);
    assert.equal(info.codec, 'h264');
    assert.equal(info.width, W);
    assert.equal(info.height, H);
    assert.equal(info.fps, FPS);
    const truth = await probeFrames(video);
    assert.equal(truth.frames.length, 115);
    truth.frames.forEach((f, i) => assert.ok(Math.abs(f.timeSec - i / FPS) < 1e-6));
  });

  it('decoded frames show the rendered colours at object centres and the backgrounds elsewhere', async () => {
    const frames = await decodeAll(video, { strategy: 'fps', fps: 2 });
    const spans = sceneSpans(cuts);
    let checked = 0;
    for (const f of frames) {
      const k = Math.round(f.timeSec * FPS);
      const i = spans.findIndex((s) => k >= s.startFrame && k < s.startFrame + s.frames);
      const scene = cuts.scenes[i]!;
      const t = (k - spans[i]!.startFrame) / FPS;
      const at = (x: number, y: number): number[] => {
        const o = (Math.round(y) * W + Math.round(x)) * 3;
        return [...f.data.subarray(o, o + 3)];
      };
      for (const o of scene.objects) {
        // The triangle's bounding-box centre is inside it; sample a bit lower, where it is wide.
        const p = positionAt(o, t);
        const got = at(p.x, p.y + (o.shape === 'triangle' ? o.size / 6 : 0));
        got.forEach((c, ch) =>
          assert.ok(
            Math.abs(c - o.rgb[ch]!) <= 12,
            `frame at ${f.timeSec}s, ${o.colour} ${o.shape}: got ${got}, drew ${o.rgb}`,
          ),
        );
        checked++;
      }
      const corner = at(W - 2, H - 2);
      if (scene.background === 'noise')
        assert.ok(
          corner.every((c) => c >= 25 && c <= 105),
          `noise corner ${corner}`,
        );
      else {
        const level = { black: 0, white: 255, gray: 128 }[scene.background];
        corner.forEach((c) => assert.ok(Math.abs(c - level) <= 8, `${scene.background} corner ${corner}`));
      }
    }
    assert.ok(checked >= 10, `checked ${checked} objects`);
  });

  it('scene sampling finds every hard cut within one frame interval, and nothing else', async () => {
    const frames = await decodeAll(video, { strategy: 'scene', threshold: 0.2, minSpacingSec: 0.5 });
    const found = frames.map((f) => f.timeSec);
    const boundaries = sceneSpans(cuts).map((s) => s.startSec);
    assert.equal(
      found.length,
      boundaries.length,
      `found cuts at ${found.join(', ')}; scenes start at ${boundaries.join(', ')}`,
    );
    boundaries.forEach((b, i) =>
      assert.ok(Math.abs(found[i]! - b) <= 1 / FPS + 1e-6, `cut ${i}: ${found[i]} vs ${b}`),
    );
  });

  it('an aborted render stops ffmpeg and leaves no file', async () => {
    const out = join(dir, 'aborted.mp4');
    const ac = new AbortController();
    const long = spec([
      { durationSec: 10, background: 'noise', objects: [] },
      { durationSec: 10, background: 'noise', objects: [] },
    ]);
    const pending = renderVideo(long, out, { signal: ac.signal });
    setTimeout(() => ac.abort(), 100);
    await assert.rejects(
      pending,
      (err: unknown) => isClipstreamError(err) && err.code === 'CLIPSTREAM_ABORTED',
    );
    await assert.rejects(access(out));
  });

  it('refuses a spec that breaks the rules', async () => {
    const bad = spec([{ durationSec: 1, background: 'black', objects: [] }]);
    await assert.rejects(renderVideo(bad, join(dir, 'bad.mp4')), /lasts/);
  });
});

describe('render CLI', () => {
  it('writes a video and its truth', async () => {
    const cli = fileURLToPath(new URL('../../../eval/shapes/render-cli.js', import.meta.url));
    const out = join(dir, 'cli.mp4');
    const truthPath = join(dir, 'cli.json');
    await new Promise<void>((resolve, reject) =>
      execFile(
        process.execPath,
        [
          cli,
          '--seed',
          '11',
          '--width',
          '240',
          '--height',
          '180',
          '--fps',
          '10',
          '--scenes',
          '2',
          '--out',
          out,
          '--truth',
          truthPath,
        ],
        (err, _stdout, stderr) => (err ? reject(new Error(stderr)) : resolve()),
      ),
    );
    const truth = JSON.parse(await readFile(truthPath, 'utf8')) as TruthDocument;
    assert.equal(truth.schema, 'clipstream.shapes-truth.v1');
    assert.equal(truth.scenes.length, 2);
    assert.deepEqual(specViolations(truth.spec), []);
    assert.equal(truth.scenes[1]!.startSec, truth.scenes[0]!.endSec);
    assert.equal((await probeFrames(out)).frames.length, truth.frames);
  });
});
