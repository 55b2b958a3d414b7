/** What the matcher needs of a text: its sentence vector and its word-token vectors (unit length). */
export interface TextVectors {
  readonly sentence: Float32Array;
  /** `wordCount` rows of `dim` values */
  readonly words: Float32Array;
  readonly wordCount: number;
}

/** The sampled frames of one video: unit-length embeddings with their times on the source timeline. */
export interface FrameTrack {
  readonly dim: number;
  /** number of frames */
  readonly count: number;
  /** `count` rows of `dim` values */
  readonly embeds: Float32Array;
  /** seconds, ascending */
  readonly times: Float64Array;
  /** end of the sampled timeline in seconds (the source duration) */
  readonly endSec: number;
}

/** Affine maps from cosine to logit, per evidence kind: logit = scale * cos + bias. */
export interface Calibration {
  readonly sentence: { readonly scale: number; readonly bias: number };
  readonly word: { readonly scale: number; readonly bias: number };
}

export interface Moment {
  startSec: number;
  endSec: number;
  score: number;
  peakSec: number;
}

export interface QueryResult {
  id: string;
  text: string;
  score: number;
  matched: boolean;
  moments: Moment[];
  /** present (true) when the text was longer than the model's context and was cut to it */
  truncated?: true;
}

export interface CaptionSpan {
  startSec: number;
  endSec: number;
  text: string;
  score: number;
}
