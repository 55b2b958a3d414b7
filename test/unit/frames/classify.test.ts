import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { classifyFfmpegFailure } from '../../../src/frames/process-util.js';

describe('ffmpeg failure classification', () => {
  it('regression: ffmpeg reports HTTP 5xx as a literal "5XX"; it is retryable SOURCE_UNAVAILABLE', () => {
    const e = classifyFfmpegFailure(
      'CLIPSTREAM_PROBE_FAILED',
      'm',
      'http: Server returned 5XX Server Error reply',
    );
    assert.equal(e.code, 'CLIPSTREAM_SOURCE_UNAVAILABLE');
    assert.equal(e.retryable, true);
    assert.equal(
      classifyFfmpegFailure('CLIPSTREAM_PROBE_FAILED', 'm', 'Server returned 503').code,
      'CLIPSTREAM_SOURCE_UNAVAILABLE',
    );
  });

  it('404 is SOURCE_NOT_FOUND; other client errors keep the caller code', () => {
    assert.equal(
      classifyFfmpegFailure('CLIPSTREAM_PROBE_FAILED', 'm', 'Server returned 404 Not Found').code,
      'CLIPSTREAM_SOURCE_NOT_FOUND',
    );
    assert.equal(
      classifyFfmpegFailure('CLIPSTREAM_PROBE_FAILED', 'm', 'Server returned 4XX Client Error').code,
      'CLIPSTREAM_PROBE_FAILED',
    );
  });
});
