import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseBenchOptions } from '../../../src/bench/index.js';
import { expertFfmpegArgs } from '../../../src/bench/expert.js';
import { SCENARIO_NAMES, scenarioList } from '../../../src/bench/scenarios.js';
import type { ScenarioComparison } from '../../../src/bench/scenarios.js';
import { summarise } from '../../../src/bench/report.js';
import { renderText } from '../../../src/bench/render.js';
import { ClipstreamError } from '../../../src/errors.js';
import { measurements as measurementsFixture } from './measurements-fixture.js';

describe('the expert script', () => {
  it("samples, scales and crops in ffmpeg's own filter graph into rgb24 on a pipe", () => {
    const a = expertFfmpegArgs('/v.mp4', { strategy: 'fps', fps: 2 }, 224, 224);
    assert.equal(
      a[a.indexOf('-vf') + 1],
      'fps=2,scale=224:224:force_original_aspect_ratio=increase,crop=224:224',
    );
    assert.equal(a.includes('-skip_frame'), false, 'decodes every frame, as the script would');
    assert.deepEqual(a.slice(-5), ['-f', 'rawvideo', '-pix_fmt', 'rgb24', 'pipe:1']);
    const k = expertFfmpegArgs('/v.mp4', { strategy: 'keyframes' }, 224, 224);
    assert.equal(k[k.indexOf('-skip_frame') + 1], 'nokey');
    assert.ok(k.indexOf('-skip_frame') < k.indexOf('-i'));
  });
});

describe('bench scenarios', () => {
  it('covers the scenarios of issue 10 and shrinks the videos in quick mode', () => {
    const all = scenarioList(SCENARIO_NAMES, false);
    assert.deepEqual(
      all.map((s) => [s.video.width, s.video.fps, s.videos]),
      [
        [1280, 30, 1],
        [1280, 30, 1],
        [1280, 30, 1],
        [1920, 60, 1],
        [1280, 30, 4],
      ],
    );
    assert.ok(scenarioList(['720p30-fps2'], true)[0]!.video.width < 1280);
  });

  it('options: all scenarios by default, a chosen list, unknown names refused', () => {
    assert.deepEqual(parseBenchOptions({}).scenarios, [...SCENARIO_NAMES]);
    assert.deepEqual(parseBenchOptions({ scenarios: ['1080p60-fps2'] }).scenarios, ['1080p60-fps2']);
    assert.throws(
      () => parseBenchOptions({ scenarios: ['nope' as never] }),
      (e: unknown) => e instanceof ClipstreamError && e.code === 'CLIPSTREAM_BAD_ARGUMENT',
    );
  });

  it('summary and table report the speed-up over the expert script per scenario and model', () => {
    const side = { frames: 120, runs: 2 };
    const cmp = (model: 'fp32' | 'int8', a: number[], b: number[], over?: number): ScenarioComparison => ({
      model,
      clipstream: { ...side, framesPerSec: a[0]!, framesPerSecRuns: a } as ScenarioComparison['clipstream'],
      expert: { ...side, framesPerSec: b[0]!, framesPerSecRuns: b } as ScenarioComparison['expert'],
      speedupOverExpert: a[0]! / b[0]!,
      ...(over === undefined ? {} : { speedupOverFp32Expert: over }),
    });
    const m = measurementsFixture({
      scenarios: [
        {
          name: '720p30-fps2',
          video: { durationSec: 60, width: 1280, height: 720, fps: 30, gopSec: 2 },
          sampling: 'fps 2',
          videos: 1,
          comparisons: [cmp('fp32', [13], [10]), cmp('int8', [30], [15], 3)],
        },
      ],
    });
    const s = summarise(m);
    assert.deepEqual(s.speedupOverExpert, [
      { scenario: '720p30-fps2', fp32: 1.3, int8: 2, int8OverFp32Expert: 3 },
    ]);
    const text = renderText({ ...m, summary: s });
    assert.match(text, /Against the expert script/);
    assert.match(text, /720p30-fps2: fp32 1\.3x; int8 2x the int8 script, 3x the fp32 script/);
  });
});
