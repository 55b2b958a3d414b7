import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  parseBenchOptions,
  planFor,
  renderMarkdown,
  renderText,
  roundReport,
  summarise,
} from '../../../src/bench/index.js';
import type { BenchReport } from '../../../src/bench/index.js';
import { median, perSecond, repeat, round } from '../../../src/bench/measure.js';
import { nearestBatch, pairedSpeedup } from '../../../src/bench/report.js';
import { alternate, medianRound } from '../../../src/bench/comparison.js';
import { fmt } from '../../../src/bench/render.js';
import { ClipstreamError } from '../../../src/errors.js';
import { measurements } from './measurements-fixture.js';

describe('bench summary math', () => {
  it('derives peak, embed share of peak, slowest stage, overlap and speed-up', () => {
    const s = summarise(measurements());
    assert.equal(s.peakGflops, 128);
    assert.equal(s.embedAtPipelineBatch.batch, 16);
    assert.equal(s.embedAtPipelineBatch.ofPeakPct, (100 * 100) / 128);
    assert.equal(s.embedBestOfPeakPct, (100 * 100) / 128);
    assert.deepEqual(s.stages, { decode: 30, embed: 12.5, match: 10000 });
    assert.equal(s.slowestStage, 'embed');
    assert.equal(s.slowestFramesPerSec, 12.5);
    const serial = 1 / (1 / 30 + 1 / 12.5 + 1 / 10000);
    assert.ok(Math.abs(s.serialFramesPerSec - serial) < 1e-12);
    assert.equal(s.endToEndOfSlowestPct, 80);
    assert.equal(s.concurrentOfSlowestPct, 88);
    assert.ok(Math.abs(s.overlapRecoveredPct! - (100 * (10 - serial)) / (12.5 - serial)) < 1e-9);
    assert.equal(s.speedupOverReference, 2);
    assert.equal(s.int8, undefined);
  });

  it('leaves the overlap share out when one stage dominates (nothing for overlap to hide)', () => {
    const m = measurements({
      decode: [{ sampling: 'fps 2', frames: 120, runs: 1, medianMs: 100, framesPerSec: 1200 }],
    });
    assert.equal(summarise(m).overlapRecoveredPct, null);
    assert.match(renderText({ ...m, summary: summarise(m) }), /one stage dominates/);
  });

  it('takes the decode figure at the end-to-end sampling and refuses to guess when it is missing', () => {
    assert.throws(() => summarise(measurements({ sampling: 'fps 1' })), /no decode figure/);
  });

  it('uses the nearest measured batch when the pipeline batch was not measured', () => {
    const rows = [{ batch: 1 }, { batch: 8 }, { batch: 32 }];
    assert.equal(nearestBatch(rows, 16).batch, 8);
    assert.equal(nearestBatch(rows, 30).batch, 32);
    assert.throws(() => nearestBatch([], 1));
  });

  it('reports n/a shares when the model cost is unknown', () => {
    const m = measurements({
      embed: [{ batch: 16, lanes: 1, runs: 3, medianMs: 1280, framesPerSec: 12.5, gflops: null }],
    });
    const s = summarise(m);
    assert.equal(s.embedAtPipelineBatch.ofPeakPct, null);
    assert.equal(s.embedBestOfPeakPct, null);
    assert.match(renderText({ ...m, summary: s }), /n\/a/);
  });

  it('summarises int8 against fp32 and the reference', () => {
    const m = measurements({
      embedInt8: [{ batch: 16, lanes: 1, runs: 3, medianMs: 640, framesPerSec: 25, gflops: 200 }],
      int8Agreement: { frames: 16, meanCosine: 0.999, minCosine: 0.998 },
      endToEnd: [
        ...measurements().endToEnd,
        {
          model: 'int8',
          videos: 1,
          frames: 120,
          wallMs: 6000,
          framesPerSec: 20,
          meanBatch: 16,
          encoderBusyPct: 90,
          encoderFramesPerSec: 22,
          eventLoopMaxStallMs: 100,
          timings: [],
        },
      ],
    });
    const s = summarise(m);
    assert.deepEqual(s.int8, {
      embedFramesPerSec: 25,
      embedSpeedupOverFp32: 2,
      meanCosineToFp32: 0.999,
      endToEndFramesPerSec: 20,
      speedupOverReference: 4,
    });
    assert.equal(s.endToEndFramesPerSec, 10, 'the int8 row does not replace the fp32 figure');
  });
});

describe('bench rendering', () => {
  const m = measurements();
  const report: BenchReport = { ...m, summary: summarise(m) };

  it('prints machine info, every table and the summary', () => {
    const t = renderText(report);
    for (const s of [
      'Test CPU',
      'onnxruntime-node 1.30.0',
      'provider cpu',
      'MatMul peak',
      '2048^3',
      'Decode + sample',
      'Embed alone',
      'Match alone',
      'End to end',
      'Reference pipeline',
      '78.1%',
      '2x faster',
      'a note',
    ]) {
      assert.ok(t.includes(s), `missing ${s}`);
    }
  });

  it('renders Markdown tables with a header row and separator', () => {
    const md = renderMarkdown(report);
    assert.match(md, /\| size \| when \| runs \| median ms \| GFLOP\/s \| best GFLOP\/s \|\n(\| --- ){6}\|/);
    assert.match(md, /\| 2048\^3 \| first \| 5 \| 134 \| 128 \| 132 \|/);
  });

  it('formats numbers to 3 significant digits and rounds reports', () => {
    assert.equal(fmt(12.345), '12.3');
    assert.equal(fmt(0.012345), '0.0123');
    assert.equal(fmt(12345.6), '12,346');
    assert.equal(fmt(null), 'n/a');
    assert.equal(fmt(Number.NaN), 'n/a');
    assert.deepEqual(roundReport({ a: 1.23456789, b: 3, c: [2.0000001] }), { a: 1.23457, b: 3, c: [2] });
    assert.equal(round(123456.7), 123457);
  });
});

describe('bench measuring helpers', () => {
  it('median, rate and repeat', async () => {
    assert.equal(median([3, 1, 2]), 2);
    assert.equal(median([4, 1, 2, 3]), 2.5);
    assert.ok(Number.isNaN(median([])));
    assert.equal(perSecond(10, 500), 20);
    let calls = 0;
    const samples = await repeat(() => void calls++, { warmup: 2, minRuns: 3, minMs: 0, maxRuns: 10 });
    assert.equal(samples.length, 3);
    assert.equal(calls, 5);
  });
});

describe('bench rounds', () => {
  it('takes the speed-up over the reference as the median of paired round ratios', () => {
    assert.equal(
      pairedSpeedup(
        { framesPerSec: 3, framesPerSecRuns: [5, 3, 6] },
        { framesPerSec: 2, framesPerSecRuns: [2.5, 2, 2] },
      ),
      2,
    );
    assert.equal(pairedSpeedup({ framesPerSec: 3 }, { framesPerSec: 2 }), 1.5);
    assert.equal(pairedSpeedup({ framesPerSec: 3, framesPerSecRuns: [3] }, { framesPerSec: 2 }), 1.5);
  });

  it('alternates the two sides and reports the median round with every round', async () => {
    const order: string[] = [];
    const r = await alternate(
      3,
      async (i) => (order.push(`a${i}`), { framesPerSec: [5, 3, 4][i]!, tag: `a${i}` }),
      async (i) => (order.push(`b${i}`), i),
    );
    assert.deepEqual(order, ['a0', 'b0', 'a1', 'b1', 'a2', 'b2']);
    const m = medianRound(r.a);
    assert.equal(m.tag, 'a2');
    assert.equal(m.runs, 3);
    assert.deepEqual(m.framesPerSecRuns, [5, 3, 4]);
    assert.equal(medianRound([{ framesPerSec: 2 }, { framesPerSec: 1 }]).framesPerSec, 1);
    assert.throws(() => medianRound([]));
  });
});

describe('bench options', () => {
  it('applies defaults and includes the pipeline batch size in the plan', () => {
    const o = parseBenchOptions({});
    assert.equal(o.quick, false);
    assert.equal(o.batchSize, 16);
    assert.deepEqual(planFor(o).embedBatches, [1, 8, 16, 32]);
    assert.deepEqual(planFor({ quick: true, batchSize: 4 }).embedBatches, [1, 4, 8]);
    assert.equal(planFor(o).video.width, 1280);
  });

  it('refuses bad options with a coded error', () => {
    assert.throws(
      () => parseBenchOptions({ threads: -1 }),
      (e: unknown) => e instanceof ClipstreamError && e.code === 'CLIPSTREAM_BAD_ARGUMENT',
    );
    assert.throws(() => parseBenchOptions({ int8: true, model: 'x' }), /--int8/);
  });
});
