/**
 * The message contracts clipstream reads and writes, one zod schema each (kept where its stage
 * builds or parses the message), listed here so that `npm run schemas` can publish them as JSON
 * Schema 2020-12 files under `schemas/` for consumers in any language and for a Schema Registry.
 * A new contract is one more line in `CONTRACTS`.
 */
import { z } from 'zod';
import {
  DlqRecordSchema,
  EmbeddingsChunkSchema,
  QueryRecordSchema,
  VideoEventSchema,
} from '../ingest/index.js';
import { AlertSchema, StreamSpecSchema } from '../live/index.js';
import { ResultDocumentSchema } from '../pipeline/index.js';
import { SearchResultSchema } from '../search/index.js';

export interface Contract {
  /** the value of the message's `schema` field */
  readonly name: string;
  readonly title: string;
  readonly schema: z.ZodType;
  /**
   * `input`: a message clipstream reads (what producers may write: fields with defaults are
   * optional); `output`: a message clipstream writes (what consumers can rely on).
   */
  readonly direction: 'input' | 'output';
}

export const CONTRACTS: readonly Contract[] = [
  { name: 'clipstream.video.v1', title: 'Video event', schema: VideoEventSchema, direction: 'input' },
  { name: 'clipstream.query.v1', title: 'Standing query', schema: QueryRecordSchema, direction: 'input' },
  {
    name: 'clipstream.result.v1',
    title: 'Result document',
    schema: ResultDocumentSchema,
    direction: 'output',
  },
  { name: 'clipstream.dlq.v1', title: 'Dead-letter record', schema: DlqRecordSchema, direction: 'output' },
  {
    name: 'clipstream.embeddings.v1',
    title: 'Frame embeddings chunk',
    schema: EmbeddingsChunkSchema,
    direction: 'output',
  },
  { name: 'clipstream.stream.v1', title: 'Stream spec', schema: StreamSpecSchema, direction: 'input' },
  { name: 'clipstream.alert.v1', title: 'Alert', schema: AlertSchema, direction: 'output' },
  { name: 'clipstream.search.v1', title: 'Search result', schema: SearchResultSchema, direction: 'output' },
];

/** File name of a contract's JSON Schema under `schemas/`. */
export function schemaFileName(c: Pick<Contract, 'name'>): string {
  return `${c.name}.schema.json`;
}

/** A contract as JSON Schema 2020-12, with an `$id` naming the file. */
export function jsonSchemaOf(c: Contract): Record<string, unknown> {
  const { $schema, ...body } = z.toJSONSchema(c.schema, {
    target: 'draft-2020-12',
    io: c.direction,
  }) as Record<string, unknown>;
  return { $schema, $id: schemaFileName(c), title: `${c.title} (${c.name})`, ...body };
}

/** The text of a contract's schema file, as committed (two-space JSON, trailing newline). */
export function schemaFileText(c: Contract): string {
  return `${JSON.stringify(jsonSchemaOf(c), null, 2)}\n`;
}
