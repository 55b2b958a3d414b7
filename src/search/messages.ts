/**
 * What the indexer reads, checked as untrusted input: embeddings chunks
 * (`clipstream.embeddings.v1`, src/ingest/embeddings.ts) and, from the results topic, the source
 * metadata of result documents.
 */
import { z } from 'zod';
import { ClipstreamError } from '../errors.js';
import { EmbeddingsChunkSchema } from '../ingest/index.js';
import type { ChunkWrite, ResultWrite } from './store.js';

/** Widest embedding the store takes (pgvector's HNSW indexes `vector` up to 2,000 dimensions). */
export const MAX_EMBED_DIM = 2000;
const MAX_FRAMES = 100_000;
const id = z.string().min(1).max(1024);

/**
 * The one embeddings contract (src/ingest/embeddings.ts), with the bounds the store needs on top:
 * ids it can key on, a dimension pgvector's HNSW index takes, finite non-negative times.
 */
const ChunkSchema = EmbeddingsChunkSchema.extend({
  videoId: id,
  resultId: id,
  model: z.object({
    name: z.string().max(1024),
    sha256: id,
    embedDim: z.number().int().min(1).max(MAX_EMBED_DIM),
  }),
  firstFrame: z.number().int().min(0).max(10_000_000),
  frames: z.number().int().min(1).max(MAX_FRAMES),
  timesSec: z.array(z.number().finite().min(0)).max(MAX_FRAMES),
});

function badChunk(message: string): ClipstreamError {
  return new ClipstreamError('CLIPSTREAM_BAD_CHUNK', message);
}

/** Parses and checks one embeddings message; throws CLIPSTREAM_BAD_CHUNK naming what is wrong. */
export function parseChunk(value: Buffer | null): ChunkWrite {
  if (!value || value.length === 0) throw badChunk('empty embeddings message');
  let json: unknown;
  try {
    json = JSON.parse(value.toString('utf8'));
  } catch {
    throw badChunk('embeddings message is not valid JSON');
  }
  const parsed = ChunkSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw badChunk(`embeddings message: ${issue.path.join('.') || '(root)'}: ${issue.message}`);
  }
  const c = parsed.data;
  if (c.timesSec.length !== c.frames)
    throw badChunk(`embeddings message has ${c.timesSec.length} times for ${c.frames} frames`);
  for (let i = 1; i < c.timesSec.length; i++)
    if ((c.timesSec[i] as number) < (c.timesSec[i - 1] as number))
      throw badChunk('embeddings message times are not ascending');
  const D = c.model.embedDim;
  const bytes = Buffer.from(c.embeddings, 'base64');
  if (bytes.length !== c.frames * D * 4)
    throw badChunk(`embeddings message holds ${bytes.length} bytes, expected ${c.frames} x ${D} float32`);
  const embeds = new Float32Array(c.frames * D);
  for (let i = 0; i < embeds.length; i++) {
    const v = bytes.readFloatLE(i * 4);
    if (!Number.isFinite(v)) throw badChunk('embeddings message holds a value that is not finite');
    embeds[i] = v;
  }
  return {
    videoId: c.videoId,
    resultId: c.resultId,
    model: { name: c.model.name, sha256: c.model.sha256, embedDim: D },
    firstFrame: c.firstFrame,
    timesSec: c.timesSec,
    embeds,
  };
}

const ResultMetaSchema = z.looseObject({
  schema: z.literal('clipstream.result.v1'),
  resultId: id,
  videoId: id,
  source: z.looseObject({
    uri: z.string().min(1).max(8192),
    durationSec: z.number().finite().min(0).optional(),
  }),
  model: z.looseObject({ sha256: id }),
});

/**
 * The source metadata of a result document; undefined for anything else on the results topic
 * (live windows, other schemas, unreadable messages): the results topic is not the indexer's to
 * dead-letter.
 */
export function parseResultMeta(value: Buffer | null): ResultWrite | undefined {
  if (!value || value.length === 0) return undefined;
  let json: unknown;
  try {
    json = JSON.parse(value.toString('utf8'));
  } catch {
    return undefined;
  }
  const r = ResultMetaSchema.safeParse(json);
  if (!r.success || (json as { live?: unknown }).live === true) return undefined;
  return {
    videoId: r.data.videoId,
    resultId: r.data.resultId,
    uri: r.data.source.uri,
    durationSec: r.data.source.durationSec,
    modelSha256: r.data.model.sha256,
  };
}
