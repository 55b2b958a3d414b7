/**
 * Fits a pack's cosine-to-logit calibration (model.json `matching.calibration`) on labelled
 * frames: one-dimensional logistic regression, class-balanced, for the sentence cosine and for
 * the weakest word's cosine (the fine-grained evidence is a soft minimum over words). Run on a
 * calibration set rendered from seeds disjoint from the evaluation's.
 */
import type { Calibration, FrameTrack } from '../../src/match/index.js';
import type { TextEmbedding } from '../../src/embed/index.js';
import { dotFrames } from '../../src/match/scores.js';

export interface LabelledTrack {
  track: FrameTrack;
  /** for each query, the truth of every frame */
  truth: (queryIndex: number, frame: number) => boolean;
}

/** Newton's method on a weighted 1-D logistic regression: p(y) = sigmoid(a x + b). */
export function fitLogistic(
  x: Float64Array,
  y: Uint8Array,
  iterations = 50,
): { scale: number; bias: number } {
  const n = x.length;
  let pos = 0;
  for (let i = 0; i < n; i++) pos += y[i]!;
  const neg = n - pos;
  if (pos === 0 || neg === 0) throw new Error('calibration needs both true and false examples');
  const wPos = n / (2 * pos);
  const wNeg = n / (2 * neg);
  let a = 1;
  let b = 0;
  const l2 = 1e-6;
  for (let it = 0; it < iterations; it++) {
    let ga = 0,
      gb = 0,
      haa = l2,
      hab = 0,
      hbb = l2;
    for (let i = 0; i < n; i++) {
      const xi = x[i]!;
      const p = 1 / (1 + Math.exp(-(a * xi + b)));
      const w = y[i] ? wPos : wNeg;
      const r = w * (p - y[i]!);
      ga += r * xi;
      gb += r;
      const h = w * p * (1 - p);
      haa += h * xi * xi;
      hab += h * xi;
      hbb += h;
    }
    ga += l2 * a;
    gb += l2 * b;
    const det = haa * hbb - hab * hab;
    if (!(Math.abs(det) > 0)) break;
    const da = (hbb * ga - hab * gb) / det;
    const db = (haa * gb - hab * ga) / det;
    a -= da;
    b -= db;
    if (Math.abs(da) < 1e-9 && Math.abs(db) < 1e-9) break;
  }
  return { scale: a, bias: b };
}

export function fitCalibration(
  tracks: readonly LabelledTrack[],
  queries: readonly TextEmbedding[],
): Calibration {
  const xs: number[] = [];
  const xw: number[] = [];
  const ys: number[] = [];
  for (const { track, truth } of tracks) {
    const T = track.count;
    const D = track.dim;
    const row = new Float32Array(T);
    const minW = new Float32Array(T);
    queries.forEach((q, qi) => {
      dotFrames(track, q.sentence, 0, row);
      minW.fill(Infinity);
      const w = new Float32Array(T);
      for (let j = 0; j < q.wordCount; j++) {
        dotFrames(track, q.words, j * D, w);
        for (let t = 0; t < T; t++) minW[t] = Math.min(minW[t]!, w[t]!);
      }
      for (let t = 0; t < T; t++) {
        xs.push(row[t]!);
        xw.push(q.wordCount > 0 ? minW[t]! : row[t]!);
        ys.push(truth(qi, t) ? 1 : 0);
      }
    });
  }
  const y = Uint8Array.from(ys);
  return {
    sentence: round(fitLogistic(Float64Array.from(xs), y)),
    word: round(fitLogistic(Float64Array.from(xw), y)),
  };
}

function round(c: { scale: number; bias: number }): { scale: number; bias: number } {
  return { scale: Math.round(c.scale * 1e4) / 1e4, bias: Math.round(c.bias * 1e4) / 1e4 };
}
