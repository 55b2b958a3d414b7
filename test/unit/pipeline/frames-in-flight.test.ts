import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DEFAULT_FRAME_BYTES_IN_FLIGHT, framesInFlightFor } from '../../../src/pipeline/pipeline.js';

describe('frames in flight', () => {
  it('the count bound governs small model inputs', () => {
    assert.equal(framesInFlightFor({ framesInFlight: 32 }, 224 * 224 * 3), 32);
  });

  it('the byte bound lowers the count for large model inputs, never below one frame', () => {
    const big = 4096 * 4096 * 3; // 48 MiB per frame
    assert.equal(framesInFlightFor({ framesInFlight: 32 }, big), 1);
    assert.equal(
      framesInFlightFor({ framesInFlight: 32, frameBytesInFlight: 10 * 1024 * 1024 }, 1024 * 1024 * 3),
      3,
    );
    assert.equal(
      framesInFlightFor({}, 1024 * 1024 * 3),
      Math.min(32, Math.floor(DEFAULT_FRAME_BYTES_IN_FLIGHT / (3 * 1024 * 1024))),
    );
    assert.equal(framesInFlightFor({ frameBytesInFlight: 1 }, 100), 1);
  });
});
