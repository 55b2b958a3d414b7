/**
 * Dead-letter records, contract `clipstream.dlq.v1` (design.md 3.3): one per refused event,
 * keyed by the original key, carrying the original headers and bytes so the event can be
 * inspected and replayed.
 */
import type { IHeaders } from 'kafkajs';
import { z } from 'zod';
import type { ClipstreamError, ErrorCode } from '../errors.js';

export const DLQ_SCHEMA = 'clipstream.dlq.v1';

/** Where the refused event was read. */
export interface SourcePosition {
  readonly topic: string;
  readonly partition: number;
  readonly offset: string;
}

/** The DLQ record (the message value), as consumers may validate it. Extra fields allowed. */
export const DlqRecordSchema = z.looseObject({
  schema: z.literal(DLQ_SCHEMA),
  /** why the event was refused: a code of docs/errors.md and a one-line message */
  error: z.looseObject({
    code: z.string().regex(/^CLIPSTREAM_[A-Z0-9_]+$/),
    message: z.string(),
  }),
  /** where the refused event was read; offset as a decimal string (Kafka offsets are 64-bit) */
  source: z.looseObject({
    topic: z.string().min(1),
    partition: z.number().int().min(0),
    offset: z.string().regex(/^[0-9]+$/),
  }),
  /** the original message value, base64; null when the message had none */
  value: z.base64().nullable(),
  /** present (true) only when `value` holds just the first `valueBytes`' prefix: see below */
  valueTruncated: z.literal(true).optional(),
  /** the original value's length in bytes, present with `valueTruncated` */
  valueBytes: z.number().int().min(0).optional(),
});

export type DlqRecord = z.output<typeof DlqRecordSchema> & { error: { code: ErrorCode } };

export interface DlqMessage {
  key: Buffer | null;
  value: string;
  headers: IHeaders;
}

/** Longest error message kept in a record, in characters. */
const MAX_MESSAGE_CHARS = 2000;
/** Room kept for the record's JSON around the base64 value, headers and key, in bytes. */
const ENVELOPE_BYTES = 8192;

function headerBytes(headers: IHeaders | undefined): number {
  let n = 0;
  for (const [k, v] of Object.entries(headers ?? {})) {
    n += Buffer.byteLength(k);
    const values = Array.isArray(v) ? v : [v];
    for (const x of values)
      n += x === undefined ? 0 : Buffer.isBuffer(x) ? x.length : Buffer.byteLength(String(x));
  }
  return n;
}

/**
 * Builds the DLQ message of a refused event. The original value is kept whole unless the record
 * would exceed `maxMessageBytes` (base64 grows it by a third: an event near the broker's limit
 * would make an unpublishable record and block its partition); then only a prefix is kept and
 * `valueTruncated`/`valueBytes` say so.
 */
export function buildDlqMessage(
  error: Pick<ClipstreamError, 'code' | 'message'>,
  source: SourcePosition,
  original: { key: Buffer | null; value: Buffer | null; headers?: IHeaders | undefined },
  maxMessageBytes: number,
): DlqMessage {
  const message = error.message.replace(/\s*\n\s*/g, ' ').slice(0, MAX_MESSAGE_CHARS);
  const record: DlqRecord = {
    schema: DLQ_SCHEMA,
    error: { code: error.code, message },
    source: { topic: source.topic, partition: source.partition, offset: source.offset },
    value: null,
  };
  const value = original.value;
  if (value) {
    const budget =
      maxMessageBytes -
      ENVELOPE_BYTES -
      Buffer.byteLength(message) -
      headerBytes(original.headers) -
      (original.key?.length ?? 0);
    const maxRaw = Math.max(0, Math.floor(budget / 4) * 3);
    if (value.length <= maxRaw) {
      record.value = value.toString('base64');
    } else {
      record.value = value.subarray(0, maxRaw).toString('base64');
      record.valueTruncated = true;
      record.valueBytes = value.length;
    }
  }
  return { key: original.key, value: JSON.stringify(record), headers: { ...(original.headers ?? {}) } };
}
