import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { TextCache, cachedBytes } from '../../../src/embed/text-cache.js';

interface Fake {
  text: string;
  sentence: Float32Array;
  words: Float32Array;
}

/** A stand-in encoder that records its runs: `dim` floats per sentence, one word row per word. */
function encoder(dim = 8) {
  const runs: string[][] = [];
  const run = (texts: string[]): Promise<Fake[]> => {
    runs.push([...texts]);
    return Promise.resolve(
      texts.map((text) => ({
        text,
        sentence: new Float32Array(dim).fill(text.length),
        words: new Float32Array(dim * text.split(' ').length),
      })),
    );
  };
  return { runs, run };
}

describe('text-embedding cache (lru-cache, bounded in bytes)', () => {
  it('concurrent misses for the same text are computed once, in one batch', async () => {
    const enc = encoder();
    const cache = new TextCache<Fake>(1 << 20, enc.run);
    const [a, b] = await Promise.all([cache.get(['a red circle', 'x']), cache.get(['a red circle'])]);
    assert.equal(enc.runs.length, 1);
    assert.deepEqual(enc.runs[0], ['a red circle', 'x']);
    assert.equal(a[0], b[0], 'the same embedding object');
    assert.equal(a[1]?.text, 'x');
    await cache.get(['x']);
    assert.equal(enc.runs.length, 1, 'a later request is a hit');
    assert.ok(cache.hits >= 2);
  });

  it('keeps at most its byte budget, evicting the least recently used', async () => {
    const enc = encoder(64);
    const one = cachedBytes({ text: 'aaaa', sentence: new Float32Array(64), words: new Float32Array(64) });
    const cache = new TextCache<Fake>(one * 3, enc.run);
    for (const t of ['aaaa', 'bbbb', 'cccc', 'dddd']) await cache.get([t]);
    assert.equal(cache.size, 3);
    assert.ok(cache.bytes <= one * 3);
    await cache.get(['aaaa']);
    assert.equal(enc.runs.length, 5, 'the oldest was evicted and computed again');
  });

  it('a failed run rejects its callers and is not cached', async () => {
    let fail = true;
    const cache = new TextCache<Fake>(1 << 20, (texts) =>
      fail ? Promise.reject(new Error('encoder down')) : encoder().run(texts),
    );
    await assert.rejects(cache.get(['t']), /encoder down/);
    fail = false;
    assert.equal((await cache.get(['t']))[0]?.text, 't');
  });

  it('splits a large miss into runs of at most maxBatch texts', async () => {
    const enc = encoder();
    const cache = new TextCache<Fake>(1 << 20, enc.run, 4);
    const texts = Array.from({ length: 10 }, (_, i) => `t${i}`);
    const out = await cache.get(texts);
    assert.deepEqual(
      enc.runs.map((r) => r.length),
      [4, 4, 2],
    );
    assert.deepEqual(
      out.map((e) => e.text),
      texts,
    );
  });
});
