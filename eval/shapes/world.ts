/**
 * The shapes world (v1), as shapes-world.md (beside design.md) defines it: the front door for
 * specs (spec.ts), the seeded generator (generate.ts), the rules (rules.ts), and captions, queries and
 * ground truth (words.ts). The pixels are drawn by draw.ts and encoded by render.ts.
 */
export { mulberry32 } from './prng.js';
export type { Rng } from './prng.js';
export {
  BACKGROUNDS,
  BACKGROUND_LEVEL,
  COLOURS,
  COLOUR_NAMES,
  NOISE_RANGE,
  RULES,
  SHAPES,
  bboxGap,
  checkTimes,
  positionAt,
  sceneFrames,
  sceneSpans,
  totalFrames,
} from './spec.js';
export type {
  BackgroundName,
  ColourName,
  ObjectSpec,
  Point,
  Rgb,
  SceneSpan,
  SceneSpec,
  ShapeName,
  VideoSpec,
} from './spec.js';
export { randomVideoSpec } from './generate.js';
export type { RandomSpecOptions } from './generate.js';
export { specViolations } from './rules.js';
export { isQueryTrue, objectName, parseQuery, sceneCaption, truthMoments } from './words.js';
export type { Moment, Query } from './words.js';
