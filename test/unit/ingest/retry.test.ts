import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ClipstreamError, ERROR_CODES } from '../../../src/errors.js';
import type { ErrorCode } from '../../../src/errors.js';
import { backoffMs, decide, sleep } from '../../../src/ingest/retry.js';

const policy = { maxAttempts: 4, baseMs: 100, maxMs: 1000 };
const err = (code: ErrorCode, message = 'm') => new ClipstreamError(code, message);

describe('retry classification', () => {
  it('decides by code: non-retryable codes go to the DLQ at once', () => {
    for (const code of [
      'CLIPSTREAM_BAD_EVENT',
      'CLIPSTREAM_SOURCE_NOT_FOUND',
      'CLIPSTREAM_NO_VIDEO_STREAM',
      'CLIPSTREAM_DECODE_FAILED',
      'CLIPSTREAM_URI_REFUSED',
    ] as const) {
      const d = decide(err(code), 1, policy);
      assert.equal(d.action, 'dlq', code);
      assert.equal(d.error.code, code);
    }
  });

  it('retries retryable codes with a delay until the attempts run out, then DLQ naming the last code', () => {
    const d1 = decide(err('CLIPSTREAM_SOURCE_UNAVAILABLE'), 1, policy);
    assert.equal(d1.action, 'retry');
    assert.equal(decide(err('CLIPSTREAM_INFERENCE_FAILED'), 3, policy).action, 'retry');
    const last = decide(err('CLIPSTREAM_SOURCE_UNAVAILABLE', 'HTTP 503'), 4, policy);
    assert.equal(last.action, 'dlq');
    assert.equal(last.error.code, 'CLIPSTREAM_RETRIES_EXHAUSTED');
    assert.match(last.error.message, /after 4 attempts.*CLIPSTREAM_SOURCE_UNAVAILABLE: HTTP 503/);
    assert.equal(
      decide(err('CLIPSTREAM_SOURCE_UNAVAILABLE'), 1, { ...policy, maxAttempts: 1 }).action,
      'dlq',
    );
  });

  it('hands back shutdown, rebalance and broker trouble: never a DLQ record, never retried here', () => {
    for (const code of [
      'CLIPSTREAM_ABORTED',
      'CLIPSTREAM_KAFKA_UNAVAILABLE',
      'CLIPSTREAM_PUBLISH_FAILED',
    ] as const) {
      assert.equal(decide(err(code), 1, policy).action, 'hand-back', code);
      assert.equal(decide(err(code), 99, policy).action, 'hand-back', code);
    }
    const abort = Object.assign(new Error('The operation was aborted'), { name: 'AbortError' });
    assert.equal(decide(abort, 1, policy).action, 'hand-back');
  });

  it('ignores message text: the same words under another code decide differently', () => {
    assert.equal(
      decide(err('CLIPSTREAM_DECODE_FAILED', 'connection timed out, try again'), 1, policy).action,
      'dlq',
    );
    assert.equal(decide(err('CLIPSTREAM_SOURCE_UNAVAILABLE', 'no such file'), 1, policy).action, 'retry');
    // retryable overridden on one error instance wins over the code's default
    assert.equal(
      decide(new ClipstreamError('CLIPSTREAM_DECODE_FAILED', 'x', { retryable: true }), 1, policy).action,
      'retry',
    );
  });

  it('treats an uncoded error as an internal, non-retryable fault', () => {
    const d = decide(new TypeError('x is undefined'), 1, policy);
    assert.equal(d.action, 'dlq');
    assert.equal(d.error.code, 'CLIPSTREAM_INTERNAL');
  });

  it('every code has a decision', () => {
    for (const code of Object.keys(ERROR_CODES) as ErrorCode[]) {
      assert.ok(['retry', 'dlq', 'hand-back'].includes(decide(err(code), 1, policy).action));
    }
  });
});

describe('backoff', () => {
  it('doubles per attempt up to the cap, with jitter in [half, full]', () => {
    assert.equal(
      backoffMs(1, policy, () => 0),
      50,
    );
    assert.equal(
      backoffMs(1, policy, () => 0.999999),
      100,
    );
    assert.equal(
      backoffMs(2, policy, () => 0),
      100,
    );
    assert.equal(
      backoffMs(3, policy, () => 1),
      400,
    );
    assert.equal(
      backoffMs(10, policy, () => 1),
      1000,
    );
    assert.equal(
      backoffMs(10, policy, () => 0),
      500,
    );
    for (let a = 1; a < 12; a++) {
      const d = backoffMs(a, policy);
      const exp = Math.min(policy.maxMs, policy.baseMs * 2 ** (a - 1));
      assert.ok(d >= exp / 2 && d <= exp, `attempt ${a}: ${d}`);
    }
  });

  it('a retry decision carries the backoff delay', () => {
    const d = decide(err('CLIPSTREAM_SOURCE_UNAVAILABLE'), 2, policy, () => 0);
    assert.equal(d.action === 'retry' && d.delayMs, 100);
  });

  it('sleep ends early with CLIPSTREAM_ABORTED when aborted', async () => {
    const ac = new AbortController();
    const p = sleep(60_000, ac.signal);
    ac.abort();
    await assert.rejects(p, { code: 'CLIPSTREAM_ABORTED' });
    await assert.rejects(sleep(10, AbortSignal.abort()), { code: 'CLIPSTREAM_ABORTED' });
    await sleep(1);
  });
});
