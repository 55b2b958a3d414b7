/** Timing helpers and the small statistics the report needs. */
import { performance } from 'node:perf_hooks';

export interface RepeatOptions {
  /** Untimed runs first (allocations, kernel selection, caches). */
  readonly warmup: number;
  /** Timed runs at least... */
  readonly minRuns: number;
  /** ...and until this much time has passed, in milliseconds... */
  readonly minMs: number;
  /** ...but never more runs than this. */
  readonly maxRuns: number;
}

/** Runs `fn` repeatedly; returns the wall time of each timed run in milliseconds. */
export async function repeat(fn: () => Promise<unknown> | unknown, o: RepeatOptions): Promise<number[]> {
  for (let i = 0; i < o.warmup; i++) await fn();
  const samples: number[] = [];
  const start = performance.now();
  while (samples.length < o.minRuns || (performance.now() - start < o.minMs && samples.length < o.maxRuns)) {
    const t0 = performance.now();
    await fn();
    samples.push(performance.now() - t0);
  }
  return samples;
}

export async function timed<T>(fn: () => Promise<T>): Promise<{ value: T; ms: number }> {
  const t0 = performance.now();
  const value = await fn();
  return { value, ms: performance.now() - t0 };
}

export function median(xs: readonly number[]): number {
  if (xs.length === 0) return Number.NaN;
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
}

/** Items per second from a count and milliseconds. */
export function perSecond(count: number, ms: number): number {
  return ms > 0 ? (count * 1000) / ms : Number.NaN;
}

/** Rounds for reports: 3 significant digits for small values, whole numbers for large ones. */
export function round(x: number, digits = 3): number {
  if (!Number.isFinite(x)) return x;
  if (x === 0) return 0;
  const mag = Math.floor(Math.log10(Math.abs(x)));
  const decimals = Math.max(0, digits - 1 - mag);
  const f = 10 ** decimals;
  return Math.round(x * f) / f;
}
