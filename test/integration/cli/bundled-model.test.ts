/**
 * `clipstream run` with the bundled model on the demo video of the shapes world: the right
 * moments for the right words, swapped bindings and unknown objects rejected, captions that
 * follow the cuts. Ground truth comes from the renderer's spec, not from hard-coded times.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { demoVideoSpec } from '../../../eval/shapes/demo.js';
import { renderVideo } from '../../../eval/shapes/render.js';
import { sceneCaption, sceneSpans, truthMoments } from '../../../eval/shapes/world.js';
import type { ResultDocument } from '../../../src/pipeline/index.js';
import { clipstream } from '../../helpers/cli.js';
import { makeTempDir, removeTempDir } from '../../helpers/media.js';

describe('clipstream run with the bundled model', () => {
  let dir: string;
  let doc: ResultDocument;
  const spec = demoVideoSpec();
  const queries = [
    'a red circle',
    'a blue square and a yellow triangle',
    'a yellow triangle and a blue square',
    'a yellow square and a blue triangle', // swapped binding of a scene that is present
    'a green circle', // absent
    'a purple hexagon', // unknown words in place of colour and shape
    'the green triangle, please', // filler words around a known phrase
  ];
  before(async () => {
    dir = await makeTempDir('clipstream-bundled-');
    await renderVideo(spec, join(dir, 'demo.mp4'));
    const r = await clipstream([
      'run',
      join(dir, 'demo.mp4'),
      '--fps',
      '2',
      ...queries.flatMap((q) => ['--query', q]),
      '--captions-file',
      join(process.cwd(), 'eval', 'shapes', 'captions.txt'),
    ]);
    assert.equal(r.code, 0, r.stderr);
    doc = JSON.parse(r.stdout) as ResultDocument;
  });
  after(() => removeTempDir(dir));

  it('finds every true query at the right moments (IoU >= 0.8 with the truth)', () => {
    for (const [i, text] of [
      [0, 'a red circle'],
      [1, 'a blue square and a yellow triangle'],
      [2, 'a blue square and a yellow triangle'],
      [6, 'a green triangle'],
    ] as const) {
      const q = doc.queries[i]!;
      const truth = truthMoments(spec, text);
      assert.equal(q.matched, true, q.text);
      assert.equal(q.moments.length, truth.length, `${q.text}: ${JSON.stringify(q.moments)}`);
      for (const t of truth) {
        const best = Math.max(
          ...q.moments.map(
            (m) =>
              (Math.min(m.endSec, t.endSec) - Math.max(m.startSec, t.startSec)) /
              (Math.max(m.endSec, t.endSec) - Math.min(m.startSec, t.startSec)),
          ),
        );
        assert.ok(best >= 0.8, `${q.text}: IoU ${best} for ${JSON.stringify(t)}`);
      }
    }
  });

  it('rejects a swapped binding, an absent object and unknown words', () => {
    for (const i of [3, 4, 5]) {
      const q = doc.queries[i]!;
      assert.equal(q.matched, false, `${q.text} matched: ${JSON.stringify(q)}`);
      assert.deepEqual(q.moments, []);
    }
    assert.ok(
      doc.queries[1]!.score > doc.queries[3]!.score + 0.5,
      'true binding scores far above its swapped twin',
    );
  });

  it('captions follow the scenes and switch at the cuts', () => {
    const spans = sceneSpans(spec);
    let right = 0;
    for (const c of doc.captions) {
      spec.scenes.forEach((scene, i) => {
        const s = spans[i]!;
        const overlap = Math.max(0, Math.min(c.endSec, s.endSec) - Math.max(c.startSec, s.startSec));
        const names = new Set([
          sceneCaption(scene),
          sceneCaption({
            ...scene,
            objects: [...scene.objects].reverse().map((o, k) => ({ ...o, start: { ...o.start, x: k } })),
          }),
        ]);
        if (names.has(c.text)) right += overlap;
      });
    }
    const total = spans.at(-1)!.endSec;
    assert.ok(
      right / total >= 0.9,
      `caption time-accuracy ${right / total}: ${JSON.stringify(doc.captions)}`,
    );
    assert.equal(doc.captions.length, spec.scenes.length);
  });
});
