/**
 * Time helpers over sampled frames. Frame t stands for the stretch of source time from its own
 * timestamp to the next frame's (the last one to the end of the video, capped at the typical
 * frame spacing), so moments and captions land on the source timeline, not on frame indices.
 */

/** End of frame t's stretch, for every t. */
export function frameEnds(times: Float64Array, endSec: number): Float64Array {
  const T = times.length;
  const ends = new Float64Array(T);
  for (let t = 0; t + 1 < T; t++) ends[t] = times[t + 1] as number;
  if (T > 0) {
    const last = times[T - 1] as number;
    const typical = T > 1 ? typicalSpacing(times) : Math.max(0, endSec - last);
    ends[T - 1] = Math.max(last, endSec > last ? Math.min(endSec, last + typical) : last + typical);
  }
  return ends;
}

/**
 * Edge-preserving temporal smoothing: a centred running median over `2k+1` frames, where `k`
 * frames on each side span about half of `windowSec` at the typical frame spacing (the window
 * shrinks symmetrically at the ends of the video, so it is always odd). A median removes blips
 * shorter than half the window but keeps a step (a hard cut) exactly where it is, which a moving
 * average would smear across the cut and shift by a frame.
 */
export function smoothOverTime(
  values: Float32Array,
  times: Float64Array,
  windowSec: number,
  out: Float32Array,
): void {
  const T = values.length;
  const spacing = typicalSpacing(times);
  const k = windowSec > 0 && spacing > 0 ? Math.round(windowSec / 2 / spacing) : 0;
  if (k <= 0 || T < 3) {
    out.set(values);
    return;
  }
  const buf = new Float32Array(2 * k + 1);
  for (let t = 0; t < T; t++) {
    const r = Math.min(k, t, T - 1 - t);
    const n = 2 * r + 1;
    for (let i = 0; i < n; i++) buf[i] = values[t - r + i] as number;
    const w = buf.subarray(0, n);
    w.sort();
    out[t] = w[r] as number;
  }
}

/** Median gap between consecutive timestamps (0 with fewer than two frames). */
export function typicalSpacing(times: Float64Array): number {
  const gaps: number[] = [];
  for (let t = 0; t + 1 < times.length; t++) gaps.push((times[t + 1] as number) - (times[t] as number));
  if (gaps.length === 0) return 0;
  gaps.sort((a, b) => a - b);
  return gaps[gaps.length >> 1] as number;
}
