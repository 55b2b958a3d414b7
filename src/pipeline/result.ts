import { createHash } from 'node:crypto';
import { z } from 'zod';

/** The result document, contract `clipstream.result.v1` (design.md 3.2). Extra fields allowed. */
export const RESULT_SCHEMA = 'clipstream.result.v1';

const MomentSchema = z.object({
  startSec: z.number().min(0),
  endSec: z.number().min(0),
  score: z.number(),
  peakSec: z.number().min(0),
});

export const ResultDocumentSchema = z.looseObject({
  schema: z.literal(RESULT_SCHEMA),
  resultId: z.string().min(1),
  videoId: z.string().min(1),
  source: z.looseObject({
    uri: z.string(),
    durationSec: z.number().min(0),
    width: z.number().int().min(0),
    height: z.number().int().min(0),
    fps: z.number().min(0),
  }),
  model: z.looseObject({ name: z.string(), sha256: z.string(), embedDim: z.number().int().positive() }),
  sampling: z.looseObject({
    strategy: z.enum(['fps', 'keyframes', 'scene']),
    fps: z.number().positive().optional(),
    frames: z.number().int().min(0),
  }),
  queries: z.array(
    z.looseObject({
      id: z.string(),
      text: z.string(),
      score: z.number(),
      matched: z.boolean(),
      moments: z.array(MomentSchema),
      truncated: z.literal(true).optional(),
    }),
  ),
  captions: z.array(
    z.looseObject({ startSec: z.number(), endSec: z.number(), text: z.string(), score: z.number() }),
  ),
  timings: z.looseObject({
    decodeMs: z.number().min(0),
    embedMs: z.number().min(0),
    matchMs: z.number().min(0),
    totalMs: z.number().min(0),
  }),
});

export interface ResultDocument {
  schema: typeof RESULT_SCHEMA;
  resultId: string;
  videoId: string;
  source: {
    uri: string;
    durationSec: number;
    width: number;
    height: number;
    fps: number;
    [extra: string]: unknown;
  };
  model: { name: string; sha256: string; embedDim: number; [extra: string]: unknown };
  sampling: {
    strategy: 'fps' | 'keyframes' | 'scene';
    fps?: number;
    frames: number;
    [extra: string]: unknown;
  };
  queries: {
    id: string;
    text: string;
    score: number;
    matched: boolean;
    moments: { startSec: number; endSec: number; score: number; peakSec: number }[];
    truncated?: true;
  }[];
  captions: { startSec: number; endSec: number; text: string; score: number }[];
  timings: { decodeMs: number; embedMs: number; matchMs: number; totalMs: number; [extra: string]: unknown };
}

/** JSON with object keys sorted at every level: a stable byte form for hashing. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

/**
 * Deterministic id of a result: the same video, source, model and settings always give the same
 * id, so consumers can de-duplicate redeliveries (at-least-once made effectively-once).
 */
export function computeResultId(parts: {
  videoId: string;
  uri: string;
  modelSha256: string;
  sampling: unknown;
  queries: readonly { id: string; text: string }[];
  captions: readonly string[];
  settings: unknown;
}): string {
  return createHash('sha256')
    .update(canonicalJson({ schema: RESULT_SCHEMA, ...parts }))
    .digest('hex');
}
