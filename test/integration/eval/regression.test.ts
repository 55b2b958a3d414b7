/**
 * Matching regression: a small fixed subset of the evaluation (`npm run eval`; figures in
 * docs/matching.md) through the real pipeline with the bundled model. Thresholds sit a little
 * under the reported figures, so a change that makes matching worse fails here. Not timed.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { evaluate } from '../../../eval/matching/evaluate.js';
import type { EvalReport } from '../../../eval/matching/evaluate.js';
import { makeTempDir, removeTempDir } from '../../helpers/media.js';

describe('matching regression (shapes-world subset, bundled model)', () => {
  let dir: string;
  let report: EvalReport;
  before(async () => {
    dir = await makeTempDir('clipstream-eval-');
    report = await evaluate({
      videos: 6,
      seed: 11,
      fps: 2,
      durationSec: 16,
      extraPairs: 8,
      cacheDir: join(dir, 'cache'),
    });
  });
  after(() => removeTempDir(dir));

  it('the test set has true, false and swapped-binding queries', () => {
    assert.equal(report.counts.videos, 6);
    assert.ok(report.counts.truePairs >= 20, JSON.stringify(report.counts));
    assert.ok(report.counts.falsePairs >= 100, JSON.stringify(report.counts));
    assert.ok(report.counts.swappedPairs >= 1, JSON.stringify(report.counts));
  });

  it('combined matcher: moments found, false and swapped matches rejected, captions right, ranking right', () => {
    const m = report.variants.combined;
    assert.ok(m.momentRecall >= 0.9, `moment recall ${m.momentRecall}`);
    assert.ok(m.falseMatchRate <= 0.03, `false-match rate ${m.falseMatchRate}`);
    assert.ok(m.swappedFalseMatchRate <= 0.05, `swapped-binding false-match rate ${m.swappedFalseMatchRate}`);
    assert.ok(m.captionTimeAccuracy >= 0.9, `caption time-accuracy ${m.captionTimeAccuracy}`);
    assert.ok(m.mAP >= 0.9, `mAP ${m.mAP}`);
  });

  it('word-level evidence does not make the combined matcher worse than frame level alone', () => {
    const c = report.variants.combined;
    const f = report.variants.frameLevel;
    assert.ok(c.falseMatchRate <= f.falseMatchRate + 1e-9, `${c.falseMatchRate} vs ${f.falseMatchRate}`);
    assert.ok(c.momentRecall >= f.momentRecall - 0.05);
  });
});
