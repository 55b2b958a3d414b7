/**
 * The standing-query table: the latest `clipstream.query.v1` record per query id from the
 * compacted queries topic; a tombstone (null value) deletes. Pure, so the rules are unit-tested
 * without a broker; `QueryReader` feeds it from Kafka.
 */
import { z } from 'zod';
import { EVENT_LIMITS, checkText } from './event.js';
import type { QuerySpec } from '../pipeline/index.js';

export const QUERY_SCHEMA = 'clipstream.query.v1';

/** A standing query (the message value; the key is the query id, a null value deletes it). */
export const QueryRecordSchema = z.looseObject({
  schema: z.literal(QUERY_SCHEMA),
  /** the query text; checked like an event's query text */
  text: z.string(),
});

export type ApplyOutcome = 'set' | 'deleted' | 'invalid';

const utf8 = new TextDecoder('utf-8', { fatal: true });

export class StandingQueries {
  private readonly byId = new Map<string, string>();
  private sorted: readonly QuerySpec[] | undefined = [];

  get size(): number {
    return this.byId.size;
  }

  /**
   * Applies one record of the queries topic. An invalid record (no key, key too long, not a
   * query record, bad text) changes nothing and returns 'invalid' with a reason for the log.
   */
  apply(
    key: Buffer | string | null | undefined,
    value: Buffer | null | undefined,
  ): { outcome: ApplyOutcome; reason?: string } {
    const id = key === null || key === undefined ? '' : typeof key === 'string' ? key : decode(key);
    if (id === undefined || id.length === 0)
      return { outcome: 'invalid', reason: 'record has no usable key (the query id)' };
    if (id.length > EVENT_LIMITS.maxIdLength)
      return { outcome: 'invalid', reason: `query id longer than ${EVENT_LIMITS.maxIdLength} characters` };
    if (value === null || value === undefined) {
      if (this.byId.delete(id)) this.sorted = undefined;
      return { outcome: 'deleted' };
    }
    let json: unknown;
    try {
      json = JSON.parse(utf8.decode(value));
    } catch {
      return { outcome: 'invalid', reason: 'value is not UTF-8 JSON' };
    }
    const r = QueryRecordSchema.safeParse(json);
    if (!r.success) return { outcome: 'invalid', reason: `not a ${QUERY_SCHEMA} record` };
    try {
      checkText(r.data.text, 'text');
    } catch (err) {
      return { outcome: 'invalid', reason: err instanceof Error ? err.message : String(err) };
    }
    this.byId.set(id, r.data.text);
    this.sorted = undefined;
    return { outcome: 'set' };
  }

  /** The standing queries, ordered by id (code-unit order): the same on every worker. */
  list(): readonly QuerySpec[] {
    this.sorted ??= Object.freeze(
      [...this.byId.entries()]
        .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
        .map(([id, text]) => Object.freeze({ id, text })),
    );
    return this.sorted;
  }
}

function decode(key: Buffer): string | undefined {
  try {
    return utf8.decode(key);
  } catch {
    return undefined;
  }
}

/**
 * The queries a video runs: its own first, then the standing ones, up to `max` in all (the
 * pipeline's bound). Returns how many standing queries did not fit, for a warning.
 */
export function withStanding(
  own: readonly QuerySpec[],
  standing: readonly QuerySpec[],
  max: number = EVENT_LIMITS.maxQueries,
): { queries: QuerySpec[]; dropped: number } {
  const room = Math.max(0, max - own.length);
  const taken = standing.slice(0, room);
  return { queries: [...own, ...taken], dropped: standing.length - taken.length };
}
