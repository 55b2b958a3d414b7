import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { findMoments, frameEnds, smoothOverTime } from '../../../src/match/index.js';

describe('timeline', () => {
  it('each frame stands until the next; the last until the end of the video', () => {
    const ends = frameEnds(Float64Array.from([0, 1, 2, 3]), 3.5);
    assert.deepEqual(Array.from(ends), [1, 2, 3, 3.5]);
    // A last frame long before the end stands for one typical spacing, not the whole tail.
    const tail = frameEnds(Float64Array.from([0, 1, 2]), 30);
    assert.equal(tail[2], 3);
  });

  it('smoothing is a centred moving average over seconds, not frames', () => {
    const v = Float32Array.from([0, 0, 1, 0, 0]);
    const out = new Float32Array(5);
    smoothOverTime(v, Float64Array.from([0, 1, 2, 3, 4]), 2, out);
    assert.deepEqual(
      Array.from(out).map((x) => +x.toFixed(3)),
      [0, 0.333, 0.333, 0.333, 0],
    );
    smoothOverTime(v, Float64Array.from([0, 1, 2, 3, 4]), 0, out);
    assert.deepEqual(Array.from(out), [0, 0, 1, 0, 0]);
  });

  it('findMoments: threshold, merge, min length, best first', () => {
    const p = Float32Array.from([0.9, 0.9, 0.1, 0.6, 0.6, 0.1, 0.1, 0.1, 0.7, 0.1]);
    const times = Float64Array.from(p.map((_, i) => i));
    const ends = frameEnds(times, 10);
    const m = findMoments(p, times, ends, {
      threshold: 0.5,
      mergeGapSec: 1.5,
      minMomentSec: 1.5,
      maxMoments: 5,
    });
    assert.deepEqual(
      m.map((x) => [x.startSec, x.endSec]),
      [[0, 5]],
    );
    assert.equal(m[0]!.peakSec, 0);
  });
});
