/**
 * Time helpers over sampled frames. Frame t stands for the stretch of source time from its own
 * timestamp to the next frame's (the last one to the end of the video, capped at the typical
 * frame spacing), so moments and captions land on the source timeline, not on frame indices.
 */

/** End of frame t's stretch, for every t. */
export function frameEnds(times: Float64Array, endSec: number): Float64Array {
  const T = times.length;
  const ends = new Float64Array(T);
  const gaps: number[] = [];
  for (let t = 0; t + 1 < T; t++) {
    ends[t] = times[t + 1] as number;
    gaps.push((times[t + 1] as number) - (times[t] as number));
  }
  if (T > 0) {
    gaps.sort((a, b) => a - b);
    const typical =
      gaps.length > 0 ? (gaps[gaps.length >> 1] as number) : Math.max(0, endSec - (times[0] as number));
    const last = times[T - 1] as number;
    ends[T - 1] = Math.max(last, Math.min(endSec > last ? endSec : last + typical, last + typical));
  }
  return ends;
}

/**
 * Centred moving average over a window of `windowSec` seconds, using timestamps (irregular
 * sampling is fine). Two pointers: O(T).
 */
export function smoothOverTime(
  values: Float32Array,
  times: Float64Array,
  windowSec: number,
  out: Float32Array,
): void {
  const T = values.length;
  if (windowSec <= 0 || T === 0) {
    out.set(values);
    return;
  }
  const half = windowSec / 2;
  let lo = 0;
  let hi = 0;
  let sum = 0;
  for (let t = 0; t < T; t++) {
    const c = times[t] as number;
    while (hi < T && (times[hi] as number) <= c + half + 1e-9) sum += values[hi++] as number;
    while ((times[lo] as number) < c - half - 1e-9) sum -= values[lo++] as number;
    out[t] = sum / (hi - lo);
  }
}
