/**
 * `matching.calibration` is part of the manifest schema: a pack's own calibration is used as
 * given, and a malformed one stops loading with CLIPSTREAM_MODEL_INVALID naming the field,
 * instead of silently falling back to the default centre.
 */
import assert from 'node:assert/strict';
import { copyFile, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { loadModelPack } from '../../../src/embed/index.js';
import { ClipstreamError } from '../../../src/errors.js';
import { calibrationFor } from '../../../src/pipeline/index.js';
import { DEFAULT_CENTRE } from '../../../src/pipeline/calibration.js';

const BUNDLED = fileURLToPath(new URL('../../../../models/shapes-v1', import.meta.url));

describe('model pack manifest: matching.calibration', () => {
  let dir: string;
  let manifest: Record<string, unknown>;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'clipstream-manifest-'));
    manifest = JSON.parse(await readFile(join(BUNDLED, 'model.json'), 'utf8')) as Record<string, unknown>;
    for (const f of Object.keys(manifest.files as object)) await copyFile(join(BUNDLED, f), join(dir, f));
  });
  after(() => rm(dir, { recursive: true, force: true }));

  const withMatching = async (matching: unknown) => {
    const m = { ...manifest, matching };
    if (matching === undefined) delete m.matching;
    await writeFile(join(dir, 'model.json'), JSON.stringify(m));
    return loadModelPack(dir);
  };

  it("uses the pack's own calibration exactly, extra fields beside it allowed", async () => {
    const cal = { sentence: { scale: 12.5, bias: -1.25 }, word: { scale: 9, bias: 0.5 } };
    const pack = await withMatching({ calibration: cal, calibrationSource: 'a note' });
    assert.deepEqual(calibrationFor(pack.manifest), cal);
  });

  it('falls back to the trained temperature only when the pack has no calibration', async () => {
    const pack = await withMatching(undefined);
    const s = pack.manifest.logitScale;
    const c = calibrationFor(pack.manifest);
    assert.deepEqual(c.sentence, { scale: s, bias: -s * DEFAULT_CENTRE });
    assert.deepEqual(c.word, { scale: s, bias: -s * DEFAULT_CENTRE });
  });

  for (const [name, matching, field] of [
    ['a missing word map', { calibration: { sentence: { scale: 1, bias: 0 } } }, 'matching.calibration.word'],
    [
      'a negative scale',
      { calibration: { sentence: { scale: -3, bias: 0 }, word: { scale: 1, bias: 0 } } },
      'matching.calibration.sentence.scale',
    ],
    [
      'a bias given as text',
      { calibration: { sentence: { scale: 3, bias: '-1' }, word: { scale: 1, bias: 0 } } },
      'matching.calibration.sentence.bias',
    ],
    ['calibration that is not an object', { calibration: [1, 2] }, 'matching.calibration'],
    ['matching that is not an object', 'calibrated', 'matching'],
  ] as const) {
    it(`refuses ${name} with CLIPSTREAM_MODEL_INVALID naming ${field}`, async () => {
      await assert.rejects(
        withMatching(matching),
        (e: unknown) =>
          e instanceof ClipstreamError &&
          e.code === 'CLIPSTREAM_MODEL_INVALID' &&
          e.message.includes(`: ${field}: `),
      );
    });
  }
});
