import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { cpuBudget } from '../../src/budget.js';
import { budgetVariants } from '../../src/bench/budget.js';
import { laneLayout } from '../../src/embed/sessions.js';

describe('CPU budget', () => {
  it('on a CPU node the encoder keeps the cores in two lanes, never spins, and each decoder gets one thread per two cores', () => {
    assert.deepEqual(cpuBudget(2, 'cpu'), {
      decoderThreads: 1,
      encoderLanes: 2,
      intraOpThreads: 1,
      allowSpinning: false,
      videosInFlight: 2,
    });
    assert.equal(cpuBudget(16, 'cpu').decoderThreads, 8);
    assert.equal(cpuBudget(1, 'cpu').decoderThreads, 1);
    assert.equal(cpuBudget(0.5, 'cpu').decoderThreads, 1);
    // One core: one lane with the runtime's own thread count; more cores split between two lanes.
    assert.deepEqual([cpuBudget(1, 'cpu').encoderLanes, cpuBudget(1, 'cpu').intraOpThreads], [1, 0]);
    assert.deepEqual([cpuBudget(16, 'cpu').encoderLanes, cpuBudget(16, 'cpu').intraOpThreads], [2, 8]);
    assert.deepEqual([cpuBudget(3, 'cpu').encoderLanes, cpuBudget(3, 'cpu').intraOpThreads], [2, 1]);
  });

  it('lane layout: the budget unless set, the cores split between the lanes unless the threads are set, one lane on CUDA', () => {
    assert.deepEqual(laneLayout({ intraOpThreads: 0 }, 2), { encoderLanes: 2, intraOpThreads: 1 });
    assert.deepEqual(laneLayout({ lanes: 0, intraOpThreads: 0 }, 8), { encoderLanes: 2, intraOpThreads: 4 });
    assert.deepEqual(laneLayout({ lanes: 1, intraOpThreads: 0 }, 8), { encoderLanes: 1, intraOpThreads: 0 });
    assert.deepEqual(laneLayout({ lanes: 4, intraOpThreads: 0 }, 2), { encoderLanes: 4, intraOpThreads: 1 });
    assert.deepEqual(laneLayout({ lanes: 2, intraOpThreads: 3 }, 2), { encoderLanes: 2, intraOpThreads: 3 });
    assert.deepEqual(laneLayout({ lanes: 3, intraOpThreads: 0 }, 16, 'cuda'), {
      encoderLanes: 1,
      intraOpThreads: 0,
    });
    assert.equal(cpuBudget(16, 'cuda').encoderLanes, 1);
  });

  it('on a GPU node the cores go to the decoders', () => {
    const b = cpuBudget(16, 'cuda');
    assert.equal(b.intraOpThreads, 1);
    assert.equal(b.videosInFlight, 4);
    assert.equal(b.decoderThreads, 4);
    assert.equal(b.allowSpinning, false);
  });

  it('the bench adds one change at a time, from the old settings to the budget', () => {
    const v = budgetVariants(2);
    assert.equal(v[0]?.decode, 'all');
    assert.equal(v[0]?.allowSpinning, true);
    const last = v[v.length - 1];
    assert.equal(last?.decode, 'auto');
    assert.equal(last?.allowSpinning, false);
    assert.equal(last?.decodeThreads, 1);
    assert.equal(last?.videos, 2);
    assert.equal(last?.encoderLanes, 2);
    assert.equal(v[0]?.encoderLanes, 1);
    for (let i = 1; i < v.length; i++) {
      const a = v[i - 1]!;
      const b = v[i]!;
      const changed = (
        ['decode', 'decodeThreads', 'allowSpinning', 'encoderLanes', 'videos'] as const
      ).filter((k) => a[k] !== b[k]);
      assert.equal(changed.length, 1, `${b.change}: ${changed.join(',')}`);
    }
  });
});
