import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  EMBEDDINGS_SCHEMA,
  decodeEmbeddings,
  embeddingChunks,
  framesPerChunk,
} from '../../../src/ingest/embeddings.js';
import type { FrameTrack } from '../../../src/match/index.js';
import type { ResultDocument } from '../../../src/pipeline/index.js';

function track(count: number, dim: number): FrameTrack {
  const embeds = new Float32Array(count * dim);
  for (let i = 0; i < embeds.length; i++) embeds[i] = Math.sin(i) * 0.5;
  return {
    dim,
    count,
    embeds,
    times: Float64Array.from({ length: count }, (_, i) => i * 0.5 + 0.04),
    endSec: count * 0.5,
  };
}

const result = {
  videoId: 'video-1',
  resultId: 'r'.repeat(64),
  model: { name: 'shapes-v1', sha256: 's'.repeat(64), embedDim: 512 },
} as ResultDocument;

describe('embeddings output chunking', () => {
  it('splits frames into chunks that each fit the message limit, in order, losing nothing', () => {
    const dim = 512;
    const t = track(1000, dim);
    const limit = 200_000;
    const chunks = embeddingChunks({ ...result, model: { ...result.model, embedDim: dim } }, t, limit);
    assert.ok(chunks.length > 1);
    let next = 0;
    const all: number[] = [];
    chunks.forEach((c, i) => {
      assert.equal(c.schema, EMBEDDINGS_SCHEMA);
      assert.deepEqual(c.chunk, { index: i, count: chunks.length });
      assert.equal(c.firstFrame, next);
      assert.equal(c.timesSec.length, c.frames);
      assert.ok(
        Buffer.byteLength(JSON.stringify(c)) <= limit,
        `chunk ${i} has ${Buffer.byteLength(JSON.stringify(c))} bytes`,
      );
      all.push(...decodeEmbeddings(c));
      next += c.frames;
    });
    assert.equal(next, 1000);
    assert.deepEqual(Float32Array.from(all), t.embeds);
    assert.deepEqual(
      chunks.flatMap((c) => c.timesSec),
      Array.from(t.times),
    );
  });

  it('a small video is one chunk; no frames is one empty chunk', () => {
    assert.equal(embeddingChunks(result, track(3, 512), 1_000_000).length, 1);
    const empty = embeddingChunks(result, track(0, 512), 1_000_000);
    assert.equal(empty.length, 1);
    assert.equal(empty[0]?.frames, 0);
  });

  it('floats travel little-endian and exact', () => {
    const t = track(2, 4);
    t.embeds.set([1, -0.5, 3.25, Number.MIN_VALUE]);
    const [c] = embeddingChunks({ ...result, model: { ...result.model, embedDim: 4 } }, t, 1_000_000);
    const raw = Buffer.from(c?.embeddings ?? '', 'base64');
    assert.equal(raw.readFloatLE(0), 1);
    assert.equal(raw.readFloatLE(4), -0.5);
    assert.deepEqual(decodeEmbeddings(c!).subarray(0, 4), t.embeds.subarray(0, 4));
  });

  it('always puts at least one frame in a chunk', () => {
    assert.equal(framesPerChunk(100_000, 10_000), 1);
    assert.ok(framesPerChunk(512, 1_000_000) > 300);
  });
});
