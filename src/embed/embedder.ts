import { ClipstreamError, toClipstreamError } from '../errors.js';
import type { Logger } from '../log.js';
import { Batcher } from './batcher.js';
import type { ModelPack } from './pack.js';
import { openEncoders } from './sessions.js';
import { DEFAULT_TEXT_CACHE_BYTES, TextCache } from './text-cache.js';
import type { EncoderSessions, Provider, RuntimeOptions } from './sessions.js';
import { TextTokenizer } from './tokenizer.js';

export interface BatchOptions {
  /** Most frames the image encoder runs at once, over all lanes (each lane takes its share). Default 16. */
  readonly maxBatch: number;
  /** Longest a frame waits for a fuller batch, in milliseconds. Default 10. */
  readonly maxWaitMs: number;
  /** Most frames queued for the encoder across all videos (backpressure beyond it). Default 64. */
  readonly maxQueued: number;
}

export const DEFAULT_BATCH: BatchOptions = Object.freeze({ maxBatch: 16, maxWaitMs: 10, maxQueued: 64 });

export interface TextEmbedding {
  readonly text: string;
  /** sentence embedding, unit length, D values */
  readonly sentence: Float32Array;
  /** word-token embeddings, each row unit length: `wordCount` rows of D values */
  readonly words: Float32Array;
  readonly wordCount: number;
  /** the word tokens, as the tokenizer spells them */
  readonly wordTokens: readonly string[];
  /** the text was longer than the model's context and was cut to it */
  readonly truncated: boolean;
}

export interface EmbedderStats {
  imageBatches: number;
  imageFrames: number;
  /** milliseconds of image-encoder runs, summed over the lanes */
  imageMs: number;
  textRuns: number;
  textCacheHits: number;
}

export interface EmbedderOptions {
  readonly runtime: RuntimeOptions;
  readonly batch: BatchOptions;
  /** Bytes of text embeddings kept in the LRU cache. Default 64 MiB (DEFAULT_TEXT_CACHE_BYTES). */
  readonly textCacheBytes?: number;
  /** Observes each image batch (frames, milliseconds), e.g. for metrics. */
  readonly onImageBatch?: (size: number, ms: number) => void;
}

function normaliseRows(data: Float32Array, rows: number, dim: number): void {
  for (let r = 0; r < rows; r++) {
    const off = r * dim;
    let s = 0;
    for (let k = 0; k < dim; k++) {
      const v = data[off + k] as number;
      s += v * v;
    }
    const inv = s > 0 ? 1 / Math.sqrt(s) : 0;
    for (let k = 0; k < dim; k++) data[off + k] = (data[off + k] as number) * inv;
  }
}

/**
 * The embed stage: ONNX Runtime sessions of one model pack, a frame batcher shared by every
 * video in the process, and the tokenizer with an LRU cache of text embeddings.
 */
export class Embedder {
  readonly stats: EmbedderStats = {
    imageBatches: 0,
    imageFrames: 0,
    imageMs: 0,
    textRuns: 0,
    textCacheHits: 0,
  };
  private readonly batcher: Batcher<Uint8Array, Float32Array>;
  private readonly cache: TextCache<TextEmbedding>;
  private readonly frameBytes: number;
  private closing: Promise<void> | undefined;

  private constructor(
    readonly pack: ModelPack,
    private readonly sessions: EncoderSessions,
    private readonly tokenizer: TextTokenizer,
    opts: EmbedderOptions,
  ) {
    const m = pack.manifest;
    this.frameBytes = m.image.height * m.image.width * 3;
    this.cache = new TextCache(opts.textCacheBytes ?? DEFAULT_TEXT_CACHE_BYTES, (texts) =>
      this.runTexts(texts),
    );
    this.batcher = new Batcher({
      ...opts.batch,
      maxConcurrent: sessions.lanes,
      run: (frames) => this.runImages(frames),
      onBatch: (size, ms) => {
        this.stats.imageBatches++;
        this.stats.imageFrames += size;
        this.stats.imageMs += ms;
        opts.onImageBatch?.(size, ms);
      },
    });
  }

  static async open(pack: ModelPack, opts: EmbedderOptions, log: Logger): Promise<Embedder> {
    const m = pack.manifest;
    const tokenizer = await TextTokenizer.fromFile(pack.paths.tokenizer, m.text.contextLength, m.text.padId);
    const sessions = await openEncoders(pack, opts.runtime, log);
    return new Embedder(pack, sessions, tokenizer, opts);
  }

  get provider(): Provider {
    return this.sessions.provider;
  }

  /** image-encoder lanes: batches that compute at once (sessions.ts) */
  get lanes(): number {
    return this.sessions.lanes;
  }

  /** process id of each lane's inference process (sessions.ts; diagnostics) */
  get laneProcessIds(): readonly (number | undefined)[] {
    return this.sessions.processIds;
  }

  /** image batches run so far on each lane */
  get runsPerLane(): readonly number[] {
    return this.sessions.runsPerLane;
  }

  get dim(): number {
    return this.pack.manifest.embedDim;
  }

  get input(): { height: number; width: number; resize: 'crop' | 'letterbox' | 'stretch' } {
    const { height, width, resize } = this.pack.manifest.image;
    return { height, width, resize };
  }

  get modelKey(): string {
    return this.pack.sha256;
  }

  /** Embeds one rgb24 frame of the pack's input size; frames from all callers share batches. */
  embedFrame(frame: Uint8Array, signal?: AbortSignal): Promise<Float32Array> {
    if (frame.length !== this.frameBytes) {
      return Promise.reject(
        new ClipstreamError(
          'CLIPSTREAM_INTERNAL',
          `frame has ${frame.length} bytes, expected ${this.frameBytes}`,
        ),
      );
    }
    return this.batcher.submit(frame, signal);
  }

  /**
   * Runs a batch of frames directly (no batcher) on the least busy lane; used by `model verify`
   * and the benchmark (which runs `lanes` of them at once to measure the whole encoder).
   */
  async embedFramesNow(frames: Uint8Array[]): Promise<Float32Array[]> {
    return this.runImages(frames);
  }

  /** The image encoder's output as it comes from the graph (no re-normalisation), for checks. */
  async rawImageEmbeds(frames: Uint8Array[]): Promise<Float32Array> {
    return this.runImagesRaw(frames);
  }

  private async runImages(frames: Uint8Array[]): Promise<Float32Array[]> {
    const data = await this.runImagesRaw(frames);
    const D = this.pack.manifest.embedDim;
    const rows: Float32Array[] = [];
    for (let i = 0; i < frames.length; i++) {
      const r = data.slice(i * D, (i + 1) * D);
      normaliseRows(r, 1, D);
      rows.push(r);
    }
    return rows;
  }

  private async runImagesRaw(frames: Uint8Array[]): Promise<Float32Array> {
    const n = frames.length;
    const buf = new Uint8Array(n * this.frameBytes);
    frames.forEach((f, i) => buf.set(f, i * this.frameBytes));
    return this.sessions.runImage(buf, n);
  }

  /**
   * Embeds texts (sentence and word tokens), using the cache; results in input order. Concurrent
   * calls that miss on the same text share one computation.
   */
  async embedTexts(texts: readonly string[]): Promise<TextEmbedding[]> {
    const before = this.cache.hits;
    const out = await this.cache.get(texts);
    this.stats.textCacheHits += this.cache.hits - before;
    return out;
  }

  private async runTexts(texts: string[]): Promise<TextEmbedding[]> {
    const m = this.pack.manifest;
    const L = m.text.contextLength;
    const D = m.embedDim;
    const encoded = texts.map((t) => this.tokenizer.encode(t));
    const n = texts.length;
    const ids = new BigInt64Array(n * L);
    const mask = new BigInt64Array(n * L);
    encoded.forEach((e, i) => {
      for (let j = 0; j < L; j++) {
        ids[i * L + j] = BigInt(e.ids[j] as number);
        mask[i * L + j] = BigInt(e.mask[j] as number);
      }
    });
    const { sentence: sent, tokens: tok } = await this.sessions.runText(ids, mask, n);
    this.stats.textRuns++;
    return encoded.map((e, i) => {
      const sentence = sent.slice(i * D, (i + 1) * D);
      normaliseRows(sentence, 1, D);
      const W = e.wordPositions.length;
      const words = new Float32Array(W * D);
      e.wordPositions.forEach((pos, w) => {
        const off = (i * L + pos) * D;
        words.set(tok.subarray(off, off + D), w * D);
      });
      normaliseRows(words, W, D);
      return {
        text: texts[i] as string,
        sentence,
        words,
        wordCount: W,
        wordTokens: e.words,
        truncated: e.truncated,
      };
    });
  }

  /** Releases the sessions and rejects queued frames. Idempotent. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      this.batcher.close();
      try {
        await this.sessions.release();
      } catch (err) {
        throw toClipstreamError(err);
      }
    })();
    return this.closing;
  }
}
