/**
 * Crash-loop protection: attempts of an event counted across process deaths, durably in Kafka.
 *
 * Before a worker starts on offset O it commits O itself (not O + 1) with the attempt count in
 * the commit's metadata. If the process dies while on O (out of memory, a native crash, SIGKILL),
 * the next owner of the partition starts at O, reads that metadata and counts on from it; once
 * the budget is spent it dead-letters the event (CLIPSTREAM_WORKER_CRASHED) instead of running
 * it again. The usual commit of O + 1 after a result or DLQ record clears the count. Retries of
 * transient faults within one process are not counted here (src/ingest/retry.ts does those).
 */
import type { Admin, Consumer, Kafka } from 'kafkajs';

/** Offset-commit metadata of an attempt (Kafka keeps up to `offset.metadata.max.bytes`, 4 KiB). */
export const ATTEMPT_SCHEMA = 'clipstream.attempt.v1';

export function encodeAttempts(attempts: number): string {
  return JSON.stringify({ schema: ATTEMPT_SCHEMA, attempts });
}

/** Attempts recorded in a commit's metadata; 0 for none or for metadata that is not ours. */
export function decodeAttempts(metadata: string | null | undefined): number {
  if (!metadata) return 0;
  try {
    const m = JSON.parse(metadata) as { schema?: unknown; attempts?: unknown };
    if (m.schema !== ATTEMPT_SCHEMA) return 0;
    const n = m.attempts;
    return typeof n === 'number' && Number.isInteger(n) && n > 0 ? n : 0;
  } catch {
    return 0;
  }
}

/** Where the group's committed offsets live (the broker; an in-memory map in unit tests). */
export interface OffsetStore {
  /** The group's committed offset of a partition and its metadata; undefined when none. */
  fetch(topic: string, partition: number): Promise<{ offset: string; metadata: string | null } | undefined>;
  commit(topic: string, partition: number, offset: string, metadata: string | null): Promise<void>;
}

export interface Claim {
  /** attempts recorded before this one (each a process that died on the event, or a hand-back not undone) */
  readonly previous: number;
  /** the budget is spent: dead-letter the event, do not run it */
  readonly spent: boolean;
}

export class AttemptLedger {
  /** what this process last committed per partition, valid until the next rebalance */
  private readonly known = new Map<string, { offset: string; attempts: number }>();

  constructor(
    private readonly store: OffsetStore,
    readonly budget: number,
  ) {}

  /**
   * Records one more attempt at `offset`, durably, before the event is processed; or says the
   * budget is spent (nothing recorded). Throws when the broker cannot be reached (hand back).
   */
  async claim(topic: string, partition: number, offset: string): Promise<Claim> {
    const key = `${topic}/${partition}`;
    const k = this.known.get(key);
    let previous: number;
    if (k && k.offset === offset) previous = k.attempts;
    else {
      const c = await this.store.fetch(topic, partition);
      previous = c && c.offset === offset ? decodeAttempts(c.metadata) : 0;
    }
    if (previous >= this.budget) return { previous, spent: true };
    await this.store.commit(topic, partition, offset, encodeAttempts(previous + 1));
    this.known.set(key, { offset, attempts: previous + 1 });
    return { previous, spent: false };
  }

  /** The attempt ended cleanly without finishing (shutdown, rebalance): take it back. Best effort. */
  async release(topic: string, partition: number, offset: string): Promise<void> {
    const key = `${topic}/${partition}`;
    const k = this.known.get(key);
    if (!k || k.offset !== offset) return;
    const attempts = k.attempts - 1;
    this.known.delete(key);
    await this.store.commit(topic, partition, offset, attempts > 0 ? encodeAttempts(attempts) : null);
  }

  /** `next` was committed after a result or DLQ record: no attempts on it yet. */
  done(topic: string, partition: number, next: string): void {
    this.known.set(`${topic}/${partition}`, { offset: next, attempts: 0 });
  }

  /** Partitions may have moved (a rebalance): read the broker again before trusting the cache. */
  forget(): void {
    this.known.clear();
  }
}

/**
 * The broker as an OffsetStore: commits through the group's consumer (so they carry its
 * generation), reads committed offsets and their metadata through an admin client connected on
 * first use. `close()` disconnects that client.
 */
export function kafkaOffsetStore(
  kafka: Kafka,
  consumer: Consumer,
  groupId: string,
): OffsetStore & { close(): Promise<void> } {
  let admin: Promise<Admin> | undefined;
  const connected = async (): Promise<Admin> => {
    admin ??= (async () => {
      const a = kafka.admin();
      await a.connect();
      return a;
    })();
    try {
      return await admin;
    } catch (err) {
      admin = undefined;
      throw err;
    }
  };
  return {
    async fetch(topic, partition) {
      const [entry] = await (await connected()).fetchOffsets({ groupId, topics: [topic] });
      const p = entry?.partitions.find((x) => x.partition === partition);
      return p && BigInt(p.offset) >= 0n ? { offset: p.offset, metadata: p.metadata } : undefined;
    },
    async commit(topic, partition, offset, metadata) {
      await consumer.commitOffsets([{ topic, partition, offset, metadata }]);
    },
    async close() {
      const a = await admin?.catch(() => undefined);
      await a?.disconnect();
    },
  };
}
