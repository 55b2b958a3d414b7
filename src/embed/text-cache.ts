/**
 * The text-embedding cache: `lru-cache` bounded in bytes (a sentence vector plus one row per word
 * token, so a long caption bank on a 768-d model cannot grow it past its budget), with `fetch()`
 * so that concurrent misses for the same text, from videos running at once, are computed once.
 * Misses of the same tick are batched into one text-encoder run (up to `maxBatch` texts).
 */
import { LRUCache } from 'lru-cache';

/** What the cache holds per text (the embedder's TextEmbedding). */
export interface CachedText {
  readonly text: string;
  readonly sentence: Float32Array;
  readonly words: Float32Array;
}

/** Default budget of the text-embedding cache, in bytes (64 MiB). */
export const DEFAULT_TEXT_CACHE_BYTES = 64 * 1024 * 1024;

/** Bytes one cached text costs: its vectors, its string, and a fixed allowance for the objects. */
export function cachedBytes(e: CachedText): number {
  return e.sentence.byteLength + e.words.byteLength + e.text.length * 2 + 256;
}

interface Waiting<V> {
  readonly text: string;
  readonly resolve: (v: V) => void;
  readonly reject: (e: unknown) => void;
}

export class TextCache<V extends CachedText> {
  private readonly cache: LRUCache<string, V>;
  private waiting: Waiting<V>[] = [];
  private scheduled = false;
  hits = 0;

  constructor(
    maxBytes: number,
    private readonly run: (texts: string[]) => Promise<V[]>,
    private readonly maxBatch = 64,
  ) {
    this.cache = new LRUCache<string, V>({
      maxSize: Math.max(1, maxBytes),
      sizeCalculation: (v) => Math.max(1, cachedBytes(v)),
      fetchMethod: (text) => this.enqueue(text),
    });
  }

  /** Bytes held now. */
  get bytes(): number {
    return this.cache.calculatedSize;
  }

  get size(): number {
    return this.cache.size;
  }

  /** Embeddings of `texts` in order: from the cache, from a run already under way, or computed. */
  async get(texts: readonly string[]): Promise<V[]> {
    return Promise.all(
      texts.map(async (text) => {
        const status: LRUCache.Status<string, V> = {};
        const v = await this.cache.fetch(text, { status });
        if (status.fetch === 'hit' || status.fetch === 'inflight') this.hits++;
        // A value larger than the whole budget is computed but not kept: return it anyway.
        return v ?? (await this.runOne(text));
      }),
    );
  }

  private async runOne(text: string): Promise<V> {
    const [v] = await this.run([text]);
    return v as V;
  }

  private enqueue(text: string): Promise<V> {
    return new Promise<V>((resolve, reject) => {
      this.waiting.push({ text, resolve, reject });
      if (!this.scheduled) {
        this.scheduled = true;
        queueMicrotask(() => void this.flush());
      }
    });
  }

  private async flush(): Promise<void> {
    this.scheduled = false;
    const all = this.waiting;
    this.waiting = [];
    for (let start = 0; start < all.length; start += this.maxBatch) {
      const chunk = all.slice(start, start + this.maxBatch);
      try {
        const out = await this.run(chunk.map((w) => w.text));
        chunk.forEach((w, i) => w.resolve(out[i] as V));
      } catch (err) {
        for (const w of chunk) w.reject(err);
      }
    }
  }
}
