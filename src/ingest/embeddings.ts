/**
 * The optional embeddings output (`clipstream.embeddings.v1`, docs/worker.md): the frame
 * embeddings of one video and their times, split into chunks that each fit in one message.
 */
import { z } from 'zod';
import type { FrameTrack } from '../match/index.js';
import type { ResultDocument } from '../pipeline/index.js';

export const EMBEDDINGS_SCHEMA = 'clipstream.embeddings.v1';

/** One chunk of a video's frame embeddings (the message value). Extra fields allowed. */
export const EmbeddingsChunkSchema = z.looseObject({
  schema: z.literal(EMBEDDINGS_SCHEMA),
  videoId: z.string().min(1),
  /** the `resultId` of the video's result document */
  resultId: z.string().min(1),
  model: z.looseObject({ name: z.string(), sha256: z.string(), embedDim: z.number().int().positive() }),
  /** this chunk's place among the video's chunks */
  chunk: z.looseObject({ index: z.number().int().min(0), count: z.number().int().min(1) }),
  /** index of this chunk's first frame among the video's sampled frames */
  firstFrame: z.number().int().min(0),
  /** frames in this chunk */
  frames: z.number().int().min(0),
  /** each frame's time on the source timeline, in seconds */
  timesSec: z.array(z.number()),
  dtype: z.literal('float32'),
  byteOrder: z.literal('little'),
  /** frames x embedDim float32 values, row-major, little-endian, base64 */
  embeddings: z.base64(),
});

export type EmbeddingsChunk = z.output<typeof EmbeddingsChunkSchema>;

/** Bytes kept for the chunk's JSON besides the embeddings and times. */
const ENVELOPE_BYTES = 4096;
/** Longest decimal of one time in the JSON, with its comma. */
const TIME_BYTES = 24;

/** Most frames per chunk so that one chunk's message stays within `maxMessageBytes`. */
export function framesPerChunk(dim: number, maxMessageBytes: number, idBytes = 0): number {
  const perFrame = Math.ceil((dim * 4) / 3) * 4 + TIME_BYTES;
  return Math.max(1, Math.floor((maxMessageBytes - ENVELOPE_BYTES - idBytes) / perFrame));
}

function littleEndianBase64(values: Float32Array): string {
  const bytes = Buffer.alloc(values.length * 4);
  for (let i = 0; i < values.length; i++) bytes.writeFloatLE(values[i] as number, i * 4);
  return bytes.toString('base64');
}

/** Splits a video's frame track into chunk messages, in frame order. */
export function embeddingChunks(
  result: ResultDocument,
  track: FrameTrack,
  maxMessageBytes: number,
): EmbeddingsChunk[] {
  const D = track.dim;
  const idBytes =
    2 *
    (Buffer.byteLength(result.videoId) +
      Buffer.byteLength(result.resultId) +
      Buffer.byteLength(result.model.name));
  const per = framesPerChunk(D, maxMessageBytes, idBytes);
  const count = Math.max(1, Math.ceil(track.count / per));
  const chunks: EmbeddingsChunk[] = [];
  for (let c = 0; c < count; c++) {
    const first = c * per;
    const n = Math.min(per, track.count - first);
    chunks.push({
      schema: EMBEDDINGS_SCHEMA,
      videoId: result.videoId,
      resultId: result.resultId,
      model: { name: result.model.name, sha256: result.model.sha256, embedDim: D },
      chunk: { index: c, count },
      firstFrame: first,
      frames: n,
      timesSec: Array.from(track.times.subarray(first, first + n)),
      dtype: 'float32',
      byteOrder: 'little',
      embeddings: littleEndianBase64(track.embeds.subarray(first * D, (first + n) * D)),
    });
  }
  return chunks;
}

/** Decodes a chunk's embeddings (for consumers and tests). */
export function decodeEmbeddings(
  chunk: Pick<EmbeddingsChunk, 'embeddings' | 'frames' | 'model'>,
): Float32Array {
  const bytes = Buffer.from(chunk.embeddings, 'base64');
  const out = new Float32Array(chunk.frames * chunk.model.embedDim);
  for (let i = 0; i < out.length; i++) out[i] = bytes.readFloatLE(i * 4);
  return out;
}
