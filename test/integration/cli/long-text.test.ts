/**
 * Long texts through the real CLI with the bundled model: truncated to the context, never a crash.
 * Regression: a 30,000-character --query used to kill `clipstream run` with SIGSEGV (exit 139)
 * inside ONNX Runtime's start-up, which matches the whole command line with a recursive regex.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import { renderVideo } from '../../../eval/shapes/render.js';
import { randomVideoSpec } from '../../../eval/shapes/world.js';
import { ResultDocumentSchema } from '../../../src/pipeline/index.js';
import type { ResultDocument } from '../../../src/pipeline/index.js';
import { clipstream, errorLine } from '../../helpers/cli.js';
import { makeTempDir, removeTempDir } from '../../helpers/media.js';

function paragraph(chars: number): string {
  return 'a red circle and a blue square '
    .repeat(Math.ceil(chars / 31))
    .slice(0, chars)
    .trim();
}

describe('clipstream run with long texts', () => {
  let dir: string;
  let video: string;
  before(async () => {
    dir = await makeTempDir('clipstream-long-');
    video = join(dir, 'clip.mp4');
    await renderVideo(
      randomVideoSpec(7, { width: 320, height: 180, fps: 10, durationSec: 2, sceneCount: 1 }),
      video,
    );
  });
  after(() => removeTempDir(dir));

  it('a 100,000-character query gives a valid result document with truncated: true', async () => {
    const long = paragraph(100_000);
    const r = await clipstream(['run', video, '--query', long, '--query', 'a red circle']);
    assert.equal(r.code, 0, r.stderr);
    const doc = JSON.parse(r.stdout) as ResultDocument;
    const check = ResultDocumentSchema.safeParse(doc);
    assert.equal(check.success, true, JSON.stringify(check.error));
    assert.equal(doc.queries.length, 2);
    assert.equal(doc.queries[0]?.text, long, 'the text is echoed exactly as given');
    assert.equal(doc.queries[0]?.truncated, true);
    assert.equal(doc.queries[1]?.truncated, undefined);
  });

  it('regression: a 30,000-character query with a missing file is one coded line, not SIGSEGV', async () => {
    const r = await clipstream(['run', join(dir, 'missing.mp4'), '--query', paragraph(30_000)]);
    assert.equal(r.code, 1);
    assert.match(errorLine(r), /^clipstream: CLIPSTREAM_SOURCE_NOT_FOUND: /);
  });

  it('property: any query text (any Unicode, control characters, up to 100,000 characters) gives one coded line, never a crash', async () => {
    const text = fc.oneof(
      fc.string({ unit: 'grapheme', minLength: 1, maxLength: 2000 }),
      fc.string({ unit: 'binary', minLength: 1, maxLength: 500 }),
      fc
        .string({ unit: 'binary', minLength: 1, maxLength: 8 })
        .map((u) => u.repeat(Math.ceil(100_000 / u.length)).slice(0, 100_000)),
    );
    await fc.assert(
      fc.asyncProperty(
        // An argv string cannot hold NUL, and Linux refuses one over 128 KiB (E2BIG) before we run.
        text.filter((t) => !t.includes('\u0000') && Buffer.byteLength(t) < 128 * 1024),
        async (t) => {
          const r = await clipstream(['run', join(dir, 'missing.mp4'), '--query', t]);
          assert.equal(r.code, 1, `exit ${r.code}: ${r.stderr.slice(0, 300)}`);
          assert.match(errorLine(r), /^clipstream: CLIPSTREAM_(SOURCE_NOT_FOUND|BAD_TEXT): /);
        },
      ),
      { numRuns: 6 },
    );
  });
});
