import { captionSpans, viterbiCaptions } from './captions.js';
import { findMoments } from './moments.js';
import type { MatchOptions } from './options.js';
import { sigmoid, textEvidence } from './scores.js';
import { frameEnds, smoothOverTime } from './timeline.js';
import type { Calibration, CaptionSpan, FrameTrack, QueryResult, TextVectors } from './types.js';

export interface QueryInput {
  readonly id: string;
  readonly text: string;
  readonly vectors: TextVectors;
}

export interface CaptionInput {
  readonly text: string;
  readonly vectors: TextVectors;
}

export interface MatchOutput {
  queries: QueryResult[];
  captions: CaptionSpan[];
}

/**
 * Matches one video's frames against its queries and caption bank (design.md section 4):
 * frame-level and frame-word evidence per frame, calibrated to probabilities, smoothed over time,
 * thresholded into moments; the video-level score is the best smoothed probability; captions by
 * dynamic programming with a switching penalty.
 */
export function matchVideo(
  track: FrameTrack,
  queries: readonly QueryInput[],
  captions: readonly CaptionInput[],
  cal: Calibration,
  opts: MatchOptions,
): MatchOutput {
  const T = track.count;
  const ends = frameEnds(track.times, track.endSec);
  const probs = new Float32Array(T);
  const smooth = new Float32Array(T);
  const scratch = new Float32Array(T);

  const queryResults: QueryResult[] = queries.map((q) => {
    const ev = textEvidence(track, q.vectors, cal, opts.wordWeight, opts.wordSoftness, scratch);
    for (let t = 0; t < T; t++) probs[t] = sigmoid(ev.combined[t] as number);
    smoothOverTime(probs, track.times, opts.smoothingSec, smooth);
    let score = 0;
    for (let t = 0; t < T; t++) if ((smooth[t] as number) > score) score = smooth[t] as number;
    const moments = findMoments(smooth, track.times, ends, {
      threshold: opts.momentThreshold,
      mergeGapSec: opts.mergeGapSec,
      minMomentSec: opts.minMomentSec,
      maxMoments: opts.maxMoments,
    });
    const matched = moments.length > 0 && score >= opts.matchThreshold;
    return {
      id: q.id,
      text: q.text,
      score: round(score),
      matched,
      moments: matched ? moments.map(roundMoment) : [],
    };
  });

  let captionResults: CaptionSpan[] = [];
  const K = captions.length;
  if (K > 0 && T > 0) {
    const logits = new Float32Array(T * K);
    const capProbs = new Float32Array(T * K);
    captions.forEach((c, k) => {
      const ev = textEvidence(track, c.vectors, cal, opts.wordWeight, opts.wordSoftness, scratch);
      for (let t = 0; t < T; t++) {
        logits[t * K + k] = ev.combined[t] as number;
        capProbs[t * K + k] = sigmoid(ev.combined[t] as number);
      }
    });
    // Emission: log-softmax across the bank, so each frame prefers the caption that fits best.
    const emit = new Float32Array(T * K);
    for (let t = 0; t < T; t++) {
      let max = -Infinity;
      for (let k = 0; k < K; k++) max = Math.max(max, logits[t * K + k] as number);
      let z = 0;
      for (let k = 0; k < K; k++) z += Math.exp((logits[t * K + k] as number) - max);
      const lse = max + Math.log(z);
      for (let k = 0; k < K; k++) emit[t * K + k] = (logits[t * K + k] as number) - lse;
    }
    const path = viterbiCaptions(emit, T, K, opts.captionSwitchPenalty);
    captionResults = captionSpans(
      path,
      captions.map((c) => c.text),
      capProbs,
      K,
      track.times,
      ends,
    ).map((s) => ({ ...s, startSec: round(s.startSec), endSec: round(s.endSec), score: round(s.score) }));
  }
  return { queries: queryResults, captions: captionResults };
}

function round(x: number): number {
  return Math.round(x * 1e4) / 1e4;
}

function roundMoment(m: { startSec: number; endSec: number; score: number; peakSec: number }) {
  return {
    startSec: round(m.startSec),
    endSec: round(m.endSec),
    score: round(m.score),
    peakSec: round(m.peakSec),
  };
}
