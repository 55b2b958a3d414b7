/**
 * Options of the embed stage: zod schema, defaults and units, and the one place that turns them
 * into the Embedder's options (the CLI, the worker, `model verify` and the benchmark all open
 * their Embedder through `embedderOptions`).
 */
import { z } from 'zod';
import { ClipstreamError } from '../errors.js';
import type { EmbedderOptions } from './embedder.js';
import { DEFAULT_TEXT_CACHE_BYTES } from './text-cache.js';

export const EmbedOptionsSchema = z.object({
  /** Model pack folder. @defaultValue the bundled pack (chosen by the CLI) */
  model: z.string().min(1).optional(),
  /** Execution provider: `auto` tries CUDA then CPU; `cuda` fails without CUDA. @defaultValue 'auto' */
  device: z.enum(['auto', 'cpu', 'cuda']).default('auto'),
  /**
   * ONNX Runtime intra-op threads of each encoder session (0 = the CPU budget's share: the
   * cores split between the lanes, or the runtime's one per core with one lane). @defaultValue 0
   */
  threads: z.number().int().min(0).max(1024).default(0),
  /**
   * Image-encoder lanes on the CPU: sessions in their own threads, one batch each at a time
   * (0 = the CPU budget's: two on two or more cores; always one on CUDA). @defaultValue 0
   */
  encoderLanes: z.number().int().min(0).max(64).default(0),
  /** Most frames the image encoder runs at once, over all its lanes (each lane's run takes its share). @defaultValue 16 */
  batchSize: z.number().int().min(1).max(1024).default(16),
  /** Longest a frame waits for a fuller batch, in milliseconds. @defaultValue 10 */
  batchWaitMs: z.number().int().min(0).max(10_000).default(10),
  /** Bytes of text embeddings kept in the LRU cache (sentence + word tokens). @defaultValue 64 MiB */
  textCacheBytes: z
    .number()
    .int()
    .min(1024)
    .max(64 * 1024 ** 3)
    .default(DEFAULT_TEXT_CACHE_BYTES),
});

/** Embed options as callers write them (defaults optional). */
export type EmbedOptionsInput = z.input<typeof EmbedOptionsSchema>;
export type EmbedOptions = z.output<typeof EmbedOptionsSchema>;

export interface EmbedderExtras {
  /** Most frames queued for the encoder across all videos. Default: 4 batches. */
  readonly maxQueued?: number;
  /** Observes each image batch (frames, milliseconds), e.g. for metrics. */
  readonly onImageBatch?: (size: number, ms: number) => void;
}

/** The Embedder's options from the stage options; throws CLIPSTREAM_BAD_CONFIG naming the field. */
export function embedderOptions(input: EmbedOptionsInput, extras: EmbedderExtras = {}): EmbedderOptions {
  const r = EmbedOptionsSchema.safeParse(input);
  if (!r.success) {
    const issue = r.error.issues[0];
    throw new ClipstreamError(
      'CLIPSTREAM_BAD_CONFIG',
      `invalid embed options: ${issue?.path.join('.') || '(root)'}: ${issue?.message ?? 'invalid'}`,
    );
  }
  const o = r.data;
  return {
    runtime: { device: o.device, intraOpThreads: o.threads, lanes: o.encoderLanes, cudaDeviceId: 0 },
    batch: {
      maxBatch: o.batchSize,
      maxWaitMs: o.batchWaitMs,
      maxQueued: Math.max(o.batchSize, extras.maxQueued ?? o.batchSize * 4),
    },
    textCacheBytes: o.textCacheBytes,
    ...(extras.onImageBatch ? { onImageBatch: extras.onImageBatch } : {}),
  };
}
