import type { Calibration, FrameTrack, TextVectors } from './types.js';

/** out[t] = <frame_t, v> for every frame. */
export function dotFrames(track: FrameTrack, v: Float32Array, vOffset: number, out: Float32Array): void {
  const { dim, count, embeds } = track;
  for (let t = 0; t < count; t++) {
    const base = t * dim;
    let s = 0;
    for (let k = 0; k < dim; k++) s += (embeds[base + k] as number) * (v[vOffset + k] as number);
    out[t] = s;
  }
}

export function sigmoid(x: number): number {
  return x >= 0 ? 1 / (1 + Math.exp(-x)) : Math.exp(x) / (1 + Math.exp(x));
}

export function logit(p: number): number {
  const q = Math.min(Math.max(p, 1e-7), 1 - 1e-7);
  return Math.log(q / (1 - q));
}

/** Per-frame evidence for one text, as logits (calibrated). */
export interface TextEvidence {
  /** sentence-level logit per frame */
  readonly sentence: Float32Array;
  /** fine-grained logit per frame: soft minimum over the words' logits (every word must find support) */
  readonly words: Float32Array;
  /** combined logit per frame */
  readonly combined: Float32Array;
  /** per word: its best logit over the video (each word's best frame) */
  readonly wordBest: Float32Array;
}

/**
 * Frame-level and frame-word scores of one text against every frame. Word logits are combined
 * with a soft minimum, so a frame scores high only when it carries every word of the text; a
 * text with no word tokens falls back to its sentence evidence.
 */
export function textEvidence(
  track: FrameTrack,
  text: TextVectors,
  cal: Calibration,
  wordWeight: number,
  softness: number,
  scratch?: Float32Array,
): TextEvidence {
  const T = track.count;
  const D = track.dim;
  const sentence = new Float32Array(T);
  dotFrames(track, text.sentence, 0, sentence);
  for (let t = 0; t < T; t++) sentence[t] = cal.sentence.scale * (sentence[t] as number) + cal.sentence.bias;

  const W = text.wordCount;
  const words = new Float32Array(T);
  const wordBest = new Float32Array(W).fill(-Infinity);
  const combined = new Float32Array(T);
  if (W === 0 || wordWeight === 0) {
    words.set(sentence);
    combined.set(sentence);
    return { sentence, words, combined, wordBest };
  }
  // Soft minimum: -1/k * log(mean_j exp(-k z_j)), computed stably around the hard minimum.
  const row = scratch && scratch.length >= T ? scratch : new Float32Array(T);
  const minZ = new Float32Array(T).fill(Infinity);
  const acc = new Float64Array(T);
  const zs = new Float32Array(W * T);
  for (let j = 0; j < W; j++) {
    dotFrames(track, text.words, j * D, row);
    for (let t = 0; t < T; t++) {
      const z = cal.word.scale * (row[t] as number) + cal.word.bias;
      zs[j * T + t] = z;
      if (z < (minZ[t] as number)) minZ[t] = z;
      if (z > (wordBest[j] as number)) wordBest[j] = z;
    }
  }
  for (let j = 0; j < W; j++) {
    for (let t = 0; t < T; t++)
      acc[t] = (acc[t] as number) + Math.exp(-softness * ((zs[j * T + t] as number) - (minZ[t] as number)));
  }
  for (let t = 0; t < T; t++) {
    const soft = (minZ[t] as number) - Math.log((acc[t] as number) / W) / softness;
    words[t] = soft;
    combined[t] = (1 - wordWeight) * (sentence[t] as number) + wordWeight * soft;
  }
  return { sentence, words, combined, wordBest };
}
