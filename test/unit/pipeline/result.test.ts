import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { canonicalJson, computeResultId, ResultDocumentSchema } from '../../../src/pipeline/result.js';

const parts = {
  videoId: 'v1',
  uri: 'file:///media/v1.mp4',
  modelSha256: 'ab'.repeat(32),
  sampling: { strategy: 'fps', fps: 2 },
  queries: [{ id: 'q1', text: 'a red circle' }],
  captions: ['nothing'],
  settings: { momentThreshold: 0.5 },
};

describe('result document', () => {
  it('canonical JSON sorts keys at every level', () => {
    assert.equal(
      canonicalJson({ b: 1, a: { d: [1, { z: 0, y: 1 }], c: null } }),
      '{"a":{"c":null,"d":[1,{"y":1,"z":0}]},"b":1}',
    );
  });

  it('resultId is deterministic and changes with any input that changes the result', () => {
    const id = computeResultId(parts);
    assert.match(id, /^[0-9a-f]{64}$/);
    assert.equal(computeResultId({ ...parts, sampling: { fps: 2, strategy: 'fps' } }), id);
    for (const change of [
      { videoId: 'v2' },
      { uri: 'file:///media/other.mp4' },
      { modelSha256: 'cd'.repeat(32) },
      { sampling: { strategy: 'fps', fps: 1 } },
      { queries: [{ id: 'q1', text: 'a red square' }] },
      { captions: [] },
      { settings: { momentThreshold: 0.6 } },
    ]) {
      assert.notEqual(computeResultId({ ...parts, ...change }), id, JSON.stringify(change));
    }
  });

  it('the schema accepts the design example and rejects a wrong schema tag', () => {
    const doc = {
      schema: 'clipstream.result.v1',
      resultId: 'x',
      videoId: 'abc',
      source: { uri: 'file:///a.mp4', durationSec: 29, width: 640, height: 360, fps: 25 },
      model: { name: 'm', sha256: 's', embedDim: 512 },
      sampling: { strategy: 'fps', fps: 2, frames: 58 },
      queries: [
        {
          id: 'q1',
          text: 'a red circle',
          score: 0.41,
          matched: true,
          moments: [{ startSec: 6, endSec: 12, score: 0.44, peakSec: 8.5 }],
        },
      ],
      captions: [{ startSec: 0, endSec: 6, text: 'a red circle', score: 0.38 }],
      timings: { decodeMs: 0, embedMs: 0, matchMs: 0, totalMs: 0 },
    };
    assert.equal(ResultDocumentSchema.safeParse(doc).success, true);
    assert.equal(ResultDocumentSchema.safeParse({ ...doc, schema: 'clipstream.result.v2' }).success, false);
  });
});
