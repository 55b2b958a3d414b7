import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  averagePrecision,
  bestIoU,
  captionTimeAccuracy,
  temporalIoU,
} from '../../../eval/matching/metrics.js';
import { buildQueries, captionBank } from '../../../eval/matching/evaluate.js';
import { randomVideoSpec } from '../../../eval/shapes/world.js';

describe('evaluation metrics', () => {
  it('temporal IoU', () => {
    assert.equal(temporalIoU({ startSec: 0, endSec: 4 }, { startSec: 2, endSec: 6 }), 2 / 6);
    assert.equal(temporalIoU({ startSec: 0, endSec: 1 }, { startSec: 2, endSec: 3 }), 0);
    assert.equal(
      bestIoU({ startSec: 5, endSec: 9 }, [
        { startSec: 0, endSec: 2 },
        { startSec: 5, endSec: 10 },
      ]),
      0.8,
    );
  });

  it('average precision: perfect, worst and tie-pessimistic rankings', () => {
    assert.equal(
      averagePrecision([
        { score: 0.9, relevant: true },
        { score: 0.1, relevant: false },
      ]),
      1,
    );
    assert.equal(
      averagePrecision([
        { score: 0.1, relevant: true },
        { score: 0.9, relevant: false },
      ]),
      0.5,
    );
    assert.equal(
      averagePrecision([
        { score: 0.5, relevant: true },
        { score: 0.5, relevant: false },
      ]),
      0.5,
    );
    assert.equal(averagePrecision([{ score: 0.5, relevant: false }]), undefined);
  });

  it('caption time-accuracy counts only the right stretches of the timeline', () => {
    const scenes = [
      { startSec: 0, endSec: 4, accepts: (t: string) => t === 'a' },
      { startSec: 4, endSec: 10, accepts: (t: string) => t === 'b' || t === 'b2' },
    ];
    const spans = [
      { startSec: 0, endSec: 5, text: 'a' }, // right for 4 s, wrong for 1 s
      { startSec: 5, endSec: 10, text: 'b2' }, // right for 5 s
    ];
    assert.equal(captionTimeAccuracy(spans, scenes, 10), 0.9);
  });

  it('the query set has singles, nothing, each scene pair and its swapped twin; the bank every ordered pair', () => {
    const specs = [randomVideoSpec(1, { durationSec: 30 }), randomVideoSpec(2, { durationSec: 30 })];
    const q = buildQueries(specs, 0, 1);
    assert.equal(q[0], 'nothing');
    assert.equal(q.filter((x) => !x.includes(' and ')).length, 13);
    for (const spec of specs) {
      for (const s of spec.scenes.filter((s) => s.objects.length === 2)) {
        const [a, b] = [...s.objects].sort((x, y) => x.start.x - y.start.x);
        assert.ok(q.includes(`a ${a!.colour} ${a!.shape} and a ${b!.colour} ${b!.shape}`));
      }
    }
    assert.equal(captionBank().length, 1 + 12 + 12 * 11);
  });
});
