/** A seeded generator of random videos that obey every rule of the shapes world. */
import { mulberry32, pick, randInt, shuffle, type Rng } from './prng.js';
import {
  BACKGROUNDS,
  type BackgroundName,
  COLOURS,
  COLOUR_NAMES,
  type ColourName,
  type ObjectSpec,
  type Point,
  type Rgb,
  RULES,
  SHAPES,
  type SceneSpec,
  type ShapeName,
  type VideoSpec,
  bboxGap,
  checkTimes,
  positionAt,
} from './spec.js';

export interface RandomSpecOptions {
  width?: number;
  height?: number;
  fps?: number;
  /** Total duration in seconds (whole frames); split into scenes of 2..10 s. */
  durationSec?: number;
  sceneCount?: number;
  /** Use these scenes as they are (only size, fps and noise seed are drawn). */
  scenes?: SceneSpec[];
  /** Object counts to draw from for each scene. @defaultValue [0, 1, 2] */
  objectCounts?: ReadonlyArray<0 | 1 | 2>;
  /** Backgrounds to draw from. @defaultValue all four */
  backgrounds?: readonly BackgroundName[];
  /** Probability that an object is static. @defaultValue 0.3 */
  staticProbability?: number;
  antialias?: boolean;
}

/** A random video obeying every rule of the world; the same seed and options give the same spec. */
export function randomVideoSpec(seed: number, options: RandomSpecOptions = {}): VideoSpec {
  const rng = mulberry32(seed);
  const height = options.height ?? 2 * randInt(rng, RULES.minHeight / 2, RULES.maxHeight / 2);
  const width = options.width ?? randomWidth(rng, height);
  const fps = options.fps ?? randInt(rng, RULES.minFps, RULES.maxFps);
  const noiseSeed = randInt(rng, 0, 0x7fffffff);
  const spec: VideoSpec = {
    world: 'shapes-v1',
    width,
    height,
    fps,
    antialias: options.antialias ?? true,
    noiseSeed,
    scenes: [],
  };
  if (options.scenes !== undefined) {
    spec.scenes = options.scenes;
    return spec;
  }
  const frameCounts = randomSceneFrames(rng, fps, options.durationSec, options.sceneCount);
  spec.scenes = frameCounts.map((frames) => randomScene(rng, width, height, fps, frames, options));
  return spec;
}

function randomWidth(rng: Rng, height: number): number {
  const lo = Math.ceil((height * RULES.minAspect) / 2);
  const hi = Math.floor((height * RULES.maxAspect) / 2);
  return 2 * randInt(rng, lo, hi);
}

function randomSceneFrames(rng: Rng, fps: number, durationSec?: number, sceneCount?: number): number[] {
  const minF = Math.ceil(RULES.minSceneSec * fps);
  const maxF = Math.floor(RULES.maxSceneSec * fps);
  if (durationSec === undefined) {
    const n = sceneCount ?? randInt(rng, 1, 6);
    return Array.from({ length: n }, () => randInt(rng, minF, maxF));
  }
  const total = Math.round(durationSec * fps);
  const lo = Math.ceil(total / maxF);
  const hi = Math.floor(total / minF);
  const n = sceneCount ?? (lo <= hi ? randInt(rng, lo, Math.min(hi, Math.max(lo, 6))) : lo);
  if (n < lo || n > hi) {
    throw new RangeError(`${durationSec} s at ${fps} fps cannot be split into ${n} scenes of 2..10 s`);
  }
  // Start every scene at the minimum, then hand out the rest one random scene at a time
  // (in blocks, so long videos stay cheap).
  const frames = new Array<number>(n).fill(minF);
  let left = total - n * minF;
  while (left > 0) {
    const open = frames.map((f, i) => (f < maxF ? i : -1)).filter((i) => i >= 0);
    const i = pick(rng, open);
    const add = Math.min(left, maxF - frames[i]!, Math.max(1, Math.ceil(left / n / 2)));
    frames[i]! += add;
    left -= add;
  }
  return frames;
}

function randomScene(
  rng: Rng,
  w: number,
  h: number,
  fps: number,
  frames: number,
  o: RandomSpecOptions,
): SceneSpec {
  const background = pick(rng, o.backgrounds ?? BACKGROUNDS);
  const count = pick(rng, o.objectCounts ?? [0, 1, 2]);
  const durationSec = frames / fps;
  const scene: SceneSpec = { durationSec, background, objects: [] };
  if (count === 0) return scene;
  const kinds = shuffle(
    rng,
    COLOUR_NAMES.flatMap((colour) => SHAPES.map((shape) => ({ colour, shape }))),
  ).slice(0, count);
  const times = checkTimes(frames, fps);
  const staticP = o.staticProbability ?? 0.3;
  for (let attempt = 0; attempt < 500; attempt++) {
    // Later attempts make objects static and small, which always fits.
    const allStatic = attempt >= 250;
    const objects = kinds.map((k) =>
      randomObject(rng, k, w, h, durationSec, allStatic ? 1 : staticP, attempt >= 400),
    );
    const [a, b] = objects;
    if (a !== undefined && b !== undefined) {
      if (Math.abs(a.start.x - b.start.x) < 1) continue;
      if (times.some((t) => bboxGap(positionAt(a, t), a.size, positionAt(b, t), b.size) < RULES.minGapPx))
        continue;
    }
    scene.objects = objects;
    return scene;
  }
  throw new Error(`could not place ${count} objects in a ${w}x${h} frame`);
}

function randomObject(
  rng: Rng,
  kind: { colour: ColourName; shape: ShapeName },
  w: number,
  h: number,
  durationSec: number,
  staticP: number,
  small: boolean,
): ObjectSpec {
  const minS = Math.ceil(RULES.minSizeFrac * h);
  const maxS = Math.floor(RULES.maxSizeFrac * h);
  const size = small ? minS : randInt(rng, minS, maxS);
  const r = size / 2;
  const inside = (): Point => ({ x: r + rng() * (w - size), y: r + rng() * (h - size) });
  const start = inside();
  let velocity: Point = { x: 0, y: 0 };
  if (rng() >= staticP) {
    // Aim at another point inside the frame: the straight path between two inside points
    // stays inside. Shorten it if it would be too fast.
    const end = inside();
    velocity = { x: (end.x - start.x) / durationSec, y: (end.y - start.y) / durationSec };
    const speed = Math.hypot(velocity.x, velocity.y);
    const max = RULES.maxSpeedFracOfWidth * w * (0.999 - 0.5 * rng());
    if (speed > max) velocity = { x: (velocity.x * max) / speed, y: (velocity.y * max) / speed };
  }
  const base = COLOURS[kind.colour];
  const rgb = base.map((c) => c + randInt(rng, -RULES.jitter, RULES.jitter)) as Rgb;
  return { colour: kind.colour, shape: kind.shape, rgb, size, start, velocity };
}
