import type { Moment } from './types.js';

export interface MomentOptions {
  readonly threshold: number;
  readonly mergeGapSec: number;
  readonly minMomentSec: number;
  readonly maxMoments: number;
}

/**
 * Moments from per-frame probabilities (already smoothed): runs at or above the threshold,
 * merged across short gaps, blips dropped, sorted best first (by mean probability, then length).
 */
export function findMoments(
  probs: Float32Array,
  times: Float64Array,
  ends: Float64Array,
  opts: MomentOptions,
): Moment[] {
  const T = probs.length;
  const runs: { a: number; b: number }[] = [];
  let t = 0;
  while (t < T) {
    if ((probs[t] as number) < opts.threshold) {
      t++;
      continue;
    }
    const a = t;
    while (t < T && (probs[t] as number) >= opts.threshold) t++;
    runs.push({ a, b: t - 1 });
  }
  const merged: { a: number; b: number }[] = [];
  for (const r of runs) {
    const prev = merged[merged.length - 1];
    if (prev && (times[r.a] as number) - (ends[prev.b] as number) < opts.mergeGapSec) prev.b = r.b;
    else merged.push({ ...r });
  }
  const moments: Moment[] = [];
  for (const { a, b } of merged) {
    const startSec = times[a] as number;
    const endSec = ends[b] as number;
    if (endSec - startSec < opts.minMomentSec) continue;
    let sum = 0;
    let n = 0;
    let peak = a;
    for (let i = a; i <= b; i++) {
      const p = probs[i] as number;
      if (p >= opts.threshold) {
        sum += p;
        n++;
      }
      if (p > (probs[peak] as number)) peak = i;
    }
    moments.push({ startSec, endSec, score: n > 0 ? sum / n : 0, peakSec: times[peak] as number });
  }
  moments.sort(
    (x, y) => y.score - x.score || y.endSec - y.startSec - (x.endSec - x.startSec) || x.startSec - y.startSec,
  );
  return moments.slice(0, opts.maxMoments);
}
