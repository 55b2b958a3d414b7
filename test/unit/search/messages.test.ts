import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isClipstreamError } from '../../../src/errors.js';
import { embeddingChunks } from '../../../src/ingest/embeddings.js';
import type { ResultDocument } from '../../../src/pipeline/index.js';
import {
  SearchResultSchema,
  loadSearchOptions,
  parseChunk,
  parseResultMeta,
  parseVector,
  vectorText,
} from '../../../src/search/index.js';

const D = 4;
const doc = {
  schema: 'clipstream.result.v1',
  resultId: 'r1',
  videoId: 'v1',
  source: { uri: 'file:///m/v1.mp4', durationSec: 3 },
  model: { name: 'm', sha256: 'abc', embedDim: D },
} as unknown as ResultDocument;
const track = {
  dim: D,
  count: 3,
  embeds: new Float32Array([1, 0, 0, 0, 0, 1, 0, 0, 0.6, 0.8, 0, 0]),
  times: new Float64Array([0, 0.5, 1]),
  endSec: 1.5,
};
const chunk = () => embeddingChunks(doc, track, 1_000_000)[0]!;
const buf = (v: unknown) => Buffer.from(JSON.stringify(v));

function code(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    assert.ok(isClipstreamError(err));
    return `${err.code}: ${err.message}`;
  }
  return 'no error';
}

describe('search: embeddings chunks as untrusted input', () => {
  it('decodes a chunk the worker publishes', () => {
    const c = parseChunk(buf(chunk()));
    assert.equal(c.videoId, 'v1');
    assert.equal(c.resultId, 'r1');
    assert.deepEqual(c.model, { name: 'm', sha256: 'abc', embedDim: D });
    assert.deepEqual(c.timesSec, [0, 0.5, 1]);
    assert.deepEqual(Array.from(c.embeds), Array.from(track.embeds).map(Math.fround));
  });

  it('refuses what is not a valid chunk, with CLIPSTREAM_BAD_CHUNK and the reason', () => {
    assert.match(
      code(() => parseChunk(null)),
      /^CLIPSTREAM_BAD_CHUNK: empty/,
    );
    assert.match(
      code(() => parseChunk(Buffer.from('{'))),
      /^CLIPSTREAM_BAD_CHUNK: .*not valid JSON/,
    );
    assert.match(
      code(() => parseChunk(buf({ ...chunk(), schema: 'x' }))),
      /^CLIPSTREAM_BAD_CHUNK: .*schema/,
    );
    assert.match(
      code(() => parseChunk(buf({ ...chunk(), frames: 2 }))),
      /3 times for 2 frames/,
    );
    assert.match(
      code(() => parseChunk(buf({ ...chunk(), timesSec: [0, 1, 0.5] }))),
      /not ascending/,
    );
    assert.match(
      code(() => parseChunk(buf({ ...chunk(), embeddings: Buffer.alloc(8).toString('base64') }))),
      /holds 8 bytes, expected 3 x 4 float32/,
    );
    const nan = Buffer.alloc(48);
    nan.writeFloatLE(Number.NaN, 4);
    assert.match(
      code(() => parseChunk(buf({ ...chunk(), embeddings: nan.toString('base64') }))),
      /not finite/,
    );
    assert.match(
      code(() => parseChunk(buf({ ...chunk(), model: { name: 'm', sha256: 'a', embedDim: 5000 } }))),
      /model\.embedDim/,
    );
  });

  it('takes source metadata from result documents and skips everything else on the results topic', () => {
    assert.deepEqual(parseResultMeta(buf(doc)), {
      videoId: 'v1',
      resultId: 'r1',
      uri: 'file:///m/v1.mp4',
      durationSec: 3,
      modelSha256: 'abc',
    });
    assert.equal(parseResultMeta(Buffer.from('nope')), undefined);
    assert.equal(parseResultMeta(buf({ ...doc, live: true })), undefined);
    assert.equal(parseResultMeta(buf({ ...doc, schema: 'clipstream.result.v2' })), undefined);
    assert.equal(parseResultMeta(null), undefined);
  });
});

describe('search: vectors, options, result schema', () => {
  it("pgvector's text form gives back the same float32 values", () => {
    const v = new Float32Array([0.1, -1e-7, 0.333333343, 1, 0]);
    const out = new Float32Array(5);
    parseVector(vectorText(v), out, 0);
    assert.deepEqual(Array.from(out), Array.from(v));
  });

  it('options: flags over environment over defaults; a bad value names its setting', () => {
    assert.equal(loadSearchOptions({}, {}).top, 10);
    assert.equal(loadSearchOptions({}, { CLIPSTREAM_SEARCH_TOP: '7' }).top, 7);
    assert.equal(loadSearchOptions({ top: '3' }, { CLIPSTREAM_SEARCH_TOP: '7' }).top, 3);
    assert.equal(loadSearchOptions({}, { CLIPSTREAM_STORE: 'postgres://h/db' }).store, 'postgres://h/db');
    assert.match(
      code(() => loadSearchOptions({ top: '0' }, {})),
      /^CLIPSTREAM_BAD_CONFIG: --top:/,
    );
    assert.match(
      code(() => loadSearchOptions({}, { CLIPSTREAM_SEARCH_PORT: 'x' })),
      /CLIPSTREAM_SEARCH_PORT/,
    );
  });

  it('the clipstream.search.v1 schema accepts a result and refuses a wrong one', () => {
    const ok = {
      schema: 'clipstream.search.v1',
      query: 'a red circle',
      model: { name: 'm', sha256: 'abc' },
      hits: [{ videoId: 'v', uri: null, startSec: 1, endSec: 2, peakSec: 1.5, score: 0.9 }],
    };
    assert.equal(SearchResultSchema.safeParse(ok).success, true);
    assert.equal(SearchResultSchema.safeParse({ ...ok, schema: 'clipstream.search.v2' }).success, false);
    assert.equal(SearchResultSchema.safeParse({ ...ok, hits: [{ videoId: 'v' }] }).success, false);
  });
});

describe('search settings are documented', () => {
  it('docs/configuration.md lists every CLIPSTREAM_* variable of src/search/options.ts', async () => {
    const { readFileSync } = await import('node:fs');
    const { SEARCH_ENV } = await import('../../../src/search/index.js');
    const doc = readFileSync(new URL('../../../../docs/configuration.md', import.meta.url), 'utf8');
    for (const name of Object.values(SEARCH_ENV))
      assert.ok(doc.includes(`\`${name}\``), `${name} is not documented`);
  });
});
