/**
 * Evaluation metrics for matching on the shapes world. Pure functions over results and truth,
 * unit-tested in test/unit/eval.
 */

export interface Interval {
  startSec: number;
  endSec: number;
}

/** Temporal intersection over union of two intervals (0 when either is empty). */
export function temporalIoU(a: Interval, b: Interval): number {
  const inter = Math.max(0, Math.min(a.endSec, b.endSec) - Math.max(a.startSec, b.startSec));
  const union = Math.max(a.endSec, b.endSec) - Math.min(a.startSec, b.startSec);
  return union > 0 ? inter / union : 0;
}

/** Best IoU of a predicted interval against any truth interval. */
export function bestIoU(pred: Interval, truth: readonly Interval[]): number {
  let best = 0;
  for (const t of truth) best = Math.max(best, temporalIoU(pred, t));
  return best;
}

/** Average precision of a ranking (scores, relevance), ties broken pessimistically. */
export function averagePrecision(items: readonly { score: number; relevant: boolean }[]): number | undefined {
  const total = items.filter((i) => i.relevant).length;
  if (total === 0) return undefined;
  const sorted = [...items].sort((a, b) => b.score - a.score || Number(a.relevant) - Number(b.relevant));
  let hits = 0;
  let sum = 0;
  sorted.forEach((it, i) => {
    if (it.relevant) {
      hits++;
      sum += hits / (i + 1);
    }
  });
  return sum / total;
}

/**
 * Share of [0, durationSec) where the caption spans say something accepted by `isRight` for the
 * truth at that time. `truthAt` gives the truth scenes as intervals with their accepted captions.
 */
export function captionTimeAccuracy(
  spans: readonly (Interval & { text: string })[],
  scenes: readonly (Interval & { accepts: (text: string) => boolean })[],
  durationSec: number,
): number {
  if (durationSec <= 0) return 0;
  let right = 0;
  for (const s of spans) {
    for (const sc of scenes) {
      const inter = Math.max(
        0,
        Math.min(s.endSec, sc.endSec, durationSec) - Math.max(s.startSec, sc.startSec, 0),
      );
      if (inter > 0 && sc.accepts(s.text)) right += inter;
    }
  }
  return right / durationSec;
}

export function mean(xs: readonly number[]): number {
  return xs.length === 0 ? NaN : xs.reduce((a, b) => a + b, 0) / xs.length;
}
