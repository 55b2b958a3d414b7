import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { findMoments } from '../../../src/match/moments.js';
import { frameEnds, smoothOverTime } from '../../../src/match/timeline.js';

describe('timeline', () => {
  it('each frame stands until the next; the last until the end of the video', () => {
    const ends = frameEnds(Float64Array.from([0, 1, 2, 3]), 3.5);
    assert.deepEqual(Array.from(ends), [1, 2, 3, 3.5]);
    // A last frame long before the end stands for one typical spacing, not the whole tail.
    const tail = frameEnds(Float64Array.from([0, 1, 2]), 30);
    assert.equal(tail[2], 3);
  });

  it('smoothing is a running median: blips vanish, cuts stay exactly where they are', () => {
    const times = Float64Array.from([0, 0.5, 1, 1.5, 2, 2.5, 3, 3.5, 4]);
    const out = new Float32Array(9);
    // a one-frame blip at 1.0 s and a step (cut) at 3.0 s, window 1 s = one frame each side
    smoothOverTime(Float32Array.from([0, 0, 1, 0, 0, 0, 1, 1, 1]), times, 1, out);
    assert.deepEqual(Array.from(out), [0, 0, 0, 0, 0, 0, 1, 1, 1]);
    // regression: a moving average moved moment edges by a frame at hard cuts
    const step = Float32Array.from([0.99, 0.99, 0.99, 0.99, 0.01, 0.01, 0.01, 0.01, 0.01]);
    smoothOverTime(step, times, 1, out);
    assert.deepEqual(Array.from(out), Array.from(step));
    smoothOverTime(step, times, 0, out);
    assert.deepEqual(Array.from(out), Array.from(step));
    // sparse sampling (spacing longer than the window): no smoothing at all
    smoothOverTime(Float32Array.from([0, 1, 0]), Float64Array.from([0, 4, 8]), 1, out);
    assert.deepEqual(Array.from(out.subarray(0, 3)), [0, 1, 0]);
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
