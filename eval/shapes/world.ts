/**
 * The shapes world (v1), as the project's shapes-world specification (shapes-world.md, beside design.md) defines it: specs of videos, a seeded
 * generator that obeys every rule, captions, query truth and ground-truth moments. Pure; the
 * pixels are drawn by draw.ts and encoded by render.ts.
 */
import { mulberry32, randInt, pick, shuffle, type Rng } from './prng.js';

export const COLOURS = {
  red: [220, 40, 40],
  green: [40, 180, 60],
  blue: [40, 80, 220],
  yellow: [235, 210, 40],
} as const satisfies Record<string, readonly [number, number, number]>;
export type ColourName = keyof typeof COLOURS;
export const COLOUR_NAMES = Object.keys(COLOURS) as ColourName[];

export const SHAPES = ['circle', 'square', 'triangle'] as const;
export type ShapeName = (typeof SHAPES)[number];

export const BACKGROUNDS = ['black', 'white', 'gray', 'noise'] as const;
export type BackgroundName = (typeof BACKGROUNDS)[number];
/** Gray level of the solid backgrounds. */
export const BACKGROUND_LEVEL: Record<Exclude<BackgroundName, 'noise'>, number> = {
  black: 0,
  white: 255,
  gray: 128,
};
/** Noise backgrounds: each pixel an independent gray level in this range, redrawn every frame. */
export const NOISE_RANGE: readonly [number, number] = [40, 90];

export const RULES = {
  minHeight: 180,
  maxHeight: 720,
  minAspect: 4 / 3,
  maxAspect: 16 / 9,
  minSceneSec: 2,
  maxSceneSec: 10,
  minFps: 10,
  maxFps: 30,
  minSizeFrac: 0.25,
  maxSizeFrac: 0.45,
  maxSpeedFracOfWidth: 0.3,
  minGapPx: 4,
  jitter: 20,
  maxObjects: 2,
} as const;

export type Rgb = [number, number, number];

export interface Point {
  x: number;
  y: number;
}

export interface ObjectSpec {
  colour: ColourName;
  shape: ShapeName;
  /** The colour as drawn in this scene: the named colour with each channel jittered once. */
  rgb: Rgb;
  /** S in pixels: circle diameter, square side, triangle base and height. */
  size: number;
  /** Centre of the bounding box at the scene's first frame, in pixels (x right, y down). */
  start: Point;
  /** Pixels per second; {0,0} for a static object. */
  velocity: Point;
}

export interface SceneSpec {
  /** Seconds; rendered as Math.round(durationSec * fps) whole frames. */
  durationSec: number;
  background: BackgroundName;
  objects: ObjectSpec[];
}

export interface VideoSpec {
  world: 'shapes-v1';
  width: number;
  height: number;
  fps: number;
  /** Smooth edges by pixel coverage. */
  antialias: boolean;
  /** Seeds the per-frame noise backgrounds. */
  noiseSeed: number;
  scenes: SceneSpec[];
}

// ---------------------------------------------------------------- timeline

export interface SceneSpan {
  index: number;
  startFrame: number;
  frames: number;
  startSec: number;
  endSec: number;
}

export function sceneFrames(scene: SceneSpec, fps: number): number {
  return Math.round(scene.durationSec * fps);
}

/** Scene boundaries in frames and seconds (durations rounded to whole frames). */
export function sceneSpans(spec: VideoSpec): SceneSpan[] {
  let start = 0;
  return spec.scenes.map((scene, index) => {
    const frames = sceneFrames(scene, spec.fps);
    const span = {
      index,
      startFrame: start,
      frames,
      startSec: start / spec.fps,
      endSec: (start + frames) / spec.fps,
    };
    start += frames;
    return span;
  });
}

export function totalFrames(spec: VideoSpec): number {
  return spec.scenes.reduce((n, s) => n + sceneFrames(s, spec.fps), 0);
}

/** Centre of an object `t` seconds after its scene's first frame. */
export function positionAt(obj: ObjectSpec, t: number): Point {
  return { x: obj.start.x + obj.velocity.x * t, y: obj.start.y + obj.velocity.y * t };
}

// ---------------------------------------------------------------- words

export function objectName(o: Pick<ObjectSpec, 'colour' | 'shape'>): string {
  return `a ${o.colour} ${o.shape}`;
}

/** `nothing`, `a red circle`, or `a red circle and a blue square` (further left at the first frame first). */
export function sceneCaption(scene: SceneSpec): string {
  if (scene.objects.length === 0) return 'nothing';
  const ordered = [...scene.objects].sort((a, b) => a.start.x - b.start.x);
  return ordered.map(objectName).join(' and ');
}

export type Query =
  { kind: 'nothing' } | { kind: 'objects'; objects: Array<{ colour: ColourName; shape: ShapeName }> };

const OBJECT_WORDS = new RegExp(`^a (${COLOUR_NAMES.join('|')}) (${SHAPES.join('|')})$`);

/** Parses `nothing`, `a {colour} {shape}` or `a {c1} {s1} and a {c2} {s2}`; undefined otherwise. */
export function parseQuery(text: string): Query | undefined {
  const t = text.trim().replace(/\s+/g, ' ').toLowerCase();
  if (t === 'nothing') return { kind: 'nothing' };
  const parts = t.split(' and ');
  if (parts.length > 2) return undefined;
  const objects = [];
  for (const p of parts) {
    const m = OBJECT_WORDS.exec(p);
    if (!m) return undefined;
    objects.push({ colour: m[1] as ColourName, shape: m[2] as ShapeName });
  }
  return { kind: 'objects', objects };
}

/**
 * Whether a query is true of (every frame of) a scene: `nothing` when it holds no objects; one
 * object when the scene holds it (alone or with another); two objects when it holds both, in
 * either order. Throws on text that is not a query of this world.
 */
export function isQueryTrue(query: string | Query, scene: SceneSpec): boolean {
  const q = typeof query === 'string' ? parseQuery(query) : query;
  if (q === undefined) throw new Error(`not a shapes-world query: ${JSON.stringify(query)}`);
  if (q.kind === 'nothing') return scene.objects.length === 0;
  const has = (o: { colour: ColourName; shape: ShapeName }): boolean =>
    scene.objects.some((s) => s.colour === o.colour && s.shape === o.shape);
  const [a, b] = q.objects;
  if (b !== undefined && a !== undefined && a.colour === b.colour && a.shape === b.shape) return false;
  return q.objects.every(has);
}

export interface Moment {
  startSec: number;
  endSec: number;
}

/** Maximal time intervals over which the query is true, in seconds. */
export function truthMoments(spec: VideoSpec, query: string | Query): Moment[] {
  const out: Moment[] = [];
  const spans = sceneSpans(spec);
  spec.scenes.forEach((scene, i) => {
    const span = spans[i]!;
    if (span.frames === 0 || !isQueryTrue(query, scene)) return;
    const last = out.at(-1);
    if (last !== undefined && last.endSec === span.startSec) last.endSec = span.endSec;
    else out.push({ startSec: span.startSec, endSec: span.endSec });
  });
  return out;
}

// ---------------------------------------------------------------- geometry rules

/** Smallest distance between two square bounding boxes along the axis where they are apart (negative: overlap). */
export function bboxGap(a: Point, sa: number, b: Point, sb: number): number {
  const half = (sa + sb) / 2;
  return Math.max(Math.abs(a.x - b.x) - half, Math.abs(a.y - b.y) - half);
}

/** Times (seconds from the scene start) at which the rules are checked: every frame and the scene's end. */
export function checkTimes(frames: number, fps: number): number[] {
  const times = Array.from({ length: frames }, (_, k) => k / fps);
  times.push(frames / fps);
  return times;
}

function insideAt(o: ObjectSpec, t: number, w: number, h: number): boolean {
  const p = positionAt(o, t);
  const r = o.size / 2;
  const eps = 1e-9;
  return p.x - r >= -eps && p.y - r >= -eps && p.x + r <= w + eps && p.y + r <= h + eps;
}

/** Every way a spec breaks the world's rules (empty when it obeys them all). */
export function specViolations(spec: VideoSpec): string[] {
  const v: string[] = [];
  const { width: w, height: h, fps } = spec;
  if (!Number.isInteger(w) || !Number.isInteger(h)) v.push('frame size must be whole pixels');
  if (h < RULES.minHeight || h > RULES.maxHeight)
    v.push(`height ${h} outside ${RULES.minHeight}..${RULES.maxHeight}`);
  const aspect = w / h;
  if (aspect < RULES.minAspect - 1e-9 || aspect > RULES.maxAspect + 1e-9)
    v.push(`aspect ${aspect.toFixed(3)} outside 4:3..16:9`);
  if (fps < RULES.minFps || fps > RULES.maxFps) v.push(`fps ${fps} outside ${RULES.minFps}..${RULES.maxFps}`);
  if (spec.scenes.length === 0) v.push('no scenes');
  spec.scenes.forEach((scene, i) => {
    const at = `scene ${i}`;
    const frames = sceneFrames(scene, fps);
    const dur = frames / fps;
    if (dur < RULES.minSceneSec - 1e-9 || dur > RULES.maxSceneSec + 1e-9) v.push(`${at}: lasts ${dur} s`);
    if (!BACKGROUNDS.includes(scene.background)) v.push(`${at}: unknown background ${scene.background}`);
    if (scene.objects.length > RULES.maxObjects) v.push(`${at}: ${scene.objects.length} objects`);
    const times = checkTimes(frames, fps);
    scene.objects.forEach((o, j) => {
      const ot = `${at} object ${j}`;
      if (!(o.colour in COLOURS)) v.push(`${ot}: unknown colour ${o.colour}`);
      if (!SHAPES.includes(o.shape)) v.push(`${ot}: unknown shape ${o.shape}`);
      const base = COLOURS[o.colour];
      if (
        base !== undefined &&
        o.rgb.some((c, k) => !Number.isInteger(c) || Math.abs(c - base[k]!) > RULES.jitter)
      ) {
        v.push(`${ot}: colour ${o.rgb.join(',')} is more than ${RULES.jitter} from ${o.colour}`);
      }
      if (o.size < RULES.minSizeFrac * h - 1e-9 || o.size > RULES.maxSizeFrac * h + 1e-9) {
        v.push(`${ot}: size ${o.size} outside 25%..45% of height`);
      }
      const speed = Math.hypot(o.velocity.x, o.velocity.y);
      if (speed > RULES.maxSpeedFracOfWidth * w + 1e-9)
        v.push(`${ot}: speed ${speed.toFixed(1)} px/s too fast`);
      if (!times.every((t) => insideAt(o, t, w, h))) v.push(`${ot}: leaves the frame`);
    });
    const [a, b] = scene.objects;
    if (a !== undefined && b !== undefined) {
      if (a.colour === b.colour && a.shape === b.shape) v.push(`${at}: two ${objectName(a)}s`);
      const minGap = Math.min(
        ...times.map((t) => bboxGap(positionAt(a, t), a.size, positionAt(b, t), b.size)),
      );
      if (minGap < RULES.minGapPx - 1e-9) v.push(`${at}: objects come within ${minGap.toFixed(2)} px`);
      if (a.start.x === b.start.x)
        v.push(`${at}: objects start at the same x, so the caption order is undefined`);
    }
  });
  return v;
}

// ---------------------------------------------------------------- generator

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
