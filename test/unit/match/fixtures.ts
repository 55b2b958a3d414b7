import type { Calibration, FrameTrack, TextVectors } from '../../../src/match/index.js';

/** Hand-made joint space: one axis per concept, so the right answer is known exactly. */
export const D = 8;
export const AXES = {
  redCircle: 0,
  blueSquare: 1,
  blueCircle: 2,
  redSquare: 3,
  greenTriangle: 4,
  empty: 5,
} as const;
export type Concept = keyof typeof AXES;

export function unit(parts: Partial<Record<Concept, number>>, noise = 0, seed = 1): Float32Array {
  const v = new Float32Array(D);
  for (const [k, w] of Object.entries(parts)) v[AXES[k as Concept]] = w as number;
  let s = seed;
  for (let i = 0; i < D; i++) {
    s = (s * 1103515245 + 12345) >>> 0;
    v[i] = (v[i] as number) + noise * ((s / 2 ** 32) * 2 - 1);
  }
  const n = Math.hypot(...v);
  return v.map((x) => x / n);
}

/** A track sampled every `step` seconds; `sceneAt(t)` names what each frame shows. */
export function track(
  durationSec: number,
  step: number,
  sceneAt: (t: number) => Concept[],
  noise = 0,
): FrameTrack {
  const times: number[] = [];
  for (let t = 0; t < durationSec - 1e-9; t += step) times.push(Math.round(t * 1000) / 1000);
  const embeds = new Float32Array(times.length * D);
  times.forEach((t, i) => {
    const parts: Partial<Record<Concept, number>> = {};
    for (const c of sceneAt(t)) parts[c] = 1;
    embeds.set(unit(parts, noise, i + 7), i * D);
  });
  return { dim: D, count: times.length, embeds, times: Float64Array.from(times), endSec: durationSec };
}

/** A text whose words each stand for one concept (contextual word tokens), sentence = their sum. */
export function text(...concepts: Concept[]): TextVectors {
  const words = new Float32Array(concepts.length * D);
  concepts.forEach((c, i) => words.set(unit({ [c]: 1 }), i * D));
  const parts: Partial<Record<Concept, number>> = {};
  for (const c of concepts) parts[c] = 1;
  return { sentence: unit(parts), words, wordCount: concepts.length };
}

/** Even odds at cosine 0.5. */
export const CAL: Calibration = { sentence: { scale: 10, bias: -5 }, word: { scale: 10, bias: -5 } };
