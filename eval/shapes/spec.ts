/**
 * The shapes world (v1) as data: colours, shapes, backgrounds, the rules' numbers, the types of
 * a video spec, and its timeline (scene spans, object positions). See shapes-world.md (beside
 * design.md).
 */

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
