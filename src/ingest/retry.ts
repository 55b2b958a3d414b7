/**
 * What the worker does with a failure, decided by error code only (never by message text):
 * retry it here with backoff, send the event to the DLQ, or hand the message back to Kafka
 * uncommitted so it is delivered again.
 */
import { ClipstreamError, toClipstreamError } from '../errors.js';
import type { ErrorCode } from '../errors.js';

export interface RetryPolicy {
  /** Attempts in all (the first one included) before a retryable fault goes to the DLQ. */
  readonly maxAttempts: number;
  /** Delay before the second attempt, in milliseconds; doubles per attempt. */
  readonly baseMs: number;
  /** Longest delay, in milliseconds. */
  readonly maxMs: number;
}

/**
 * Codes that say "this worker cannot finish now" rather than "this event is bad": the message is
 * handed back uncommitted (redelivered), never dead-lettered. Shutdown and rebalances abort
 * work; broker trouble while publishing must not become a DLQ record (which would need the same
 * broker) nor a lost event.
 */
const HAND_BACK: ReadonlySet<ErrorCode> = new Set<ErrorCode>([
  'CLIPSTREAM_ABORTED',
  'CLIPSTREAM_KAFKA_UNAVAILABLE',
  'CLIPSTREAM_PUBLISH_FAILED',
]);

export type Decision =
  | { readonly action: 'retry'; readonly delayMs: number; readonly error: ClipstreamError }
  | { readonly action: 'dlq'; readonly error: ClipstreamError }
  | { readonly action: 'hand-back'; readonly error: ClipstreamError };

/**
 * Exponential backoff with "equal jitter": half the exponential delay is fixed, half random, so
 * retries of many events spread out yet never collapse to zero. `attempt` is the attempt that
 * just failed (1-based); `random` returns [0, 1).
 */
export function backoffMs(
  attempt: number,
  policy: Pick<RetryPolicy, 'baseMs' | 'maxMs'>,
  random: () => number = Math.random,
): number {
  const exp = Math.min(policy.maxMs, policy.baseMs * 2 ** Math.max(0, attempt - 1));
  const half = exp / 2;
  return Math.round(half + half * Math.min(1, Math.max(0, random())));
}

/** Decides what follows the failure of `attempt` (1-based) of processing one event. */
export function decide(err: unknown, attempt: number, policy: RetryPolicy, random?: () => number): Decision {
  const error = toClipstreamError(err);
  if (HAND_BACK.has(error.code)) return { action: 'hand-back', error };
  if (!error.retryable) return { action: 'dlq', error };
  if (attempt >= policy.maxAttempts) {
    return {
      action: 'dlq',
      error: new ClipstreamError(
        'CLIPSTREAM_RETRIES_EXHAUSTED',
        `gave up after ${attempt} attempt${attempt === 1 ? '' : 's'}; last error ${error.code}: ${error.message}`,
        { cause: error },
      ),
    };
  }
  return { action: 'retry', delayMs: backoffMs(attempt, policy, random), error };
}

/** Resolves after `ms`, or rejects with CLIPSTREAM_ABORTED as soon as `signal` aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(new ClipstreamError('CLIPSTREAM_ABORTED', 'aborted', { cause: signal.reason }));
      return;
    }
    const onAbort = () => {
      clearTimeout(timer);
      reject(new ClipstreamError('CLIPSTREAM_ABORTED', 'aborted', { cause: signal?.reason }));
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** Rejects with CLIPSTREAM_INTERNAL when `p` takes longer than `ms` (shutdown steps). */
export async function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      p,
      new Promise<never>((_, reject) => {
        timer = setTimeout(
          () => reject(new ClipstreamError('CLIPSTREAM_INTERNAL', `${what} took longer than ${ms} ms`)),
          ms,
        );
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}
