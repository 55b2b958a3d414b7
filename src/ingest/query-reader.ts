/**
 * Reads the compacted queries topic from the beginning into the standing-query table and keeps
 * it current. "Caught up" means every partition has been read to the end offset it had when
 * the reader started; the worker only takes videos (and only reports ready) after that.
 *
 * kafkajs needs a group to consume, so each reader uses a throwaway group of its own and never
 * commits: every worker sees every query record, from offset zero, on every start.
 */
import { randomBytes } from 'node:crypto';
import type { Admin, Consumer, Kafka } from 'kafkajs';
import { ClipstreamError } from '../errors.js';
import type { Logger } from '../log.js';
import { retryKafka } from './client.js';
import type { StandingQueries } from './standing.js';

export interface QueryReaderOptions {
  readonly topic: string;
  /** prefix of the reader's throwaway group id */
  readonly groupPrefix: string;
  /** Past this, the reader is treated as caught up with a warning (a compacted tail). Default 60000 ms. */
  readonly catchUpTimeoutMs?: number;
}

export class QueryReader {
  private readonly consumer: Consumer;
  private readonly targets = new Map<number, bigint>();
  private readonly positions = new Map<number, bigint>();
  private caughtUpFlag = false;
  private resolveCaughtUp!: () => void;
  private readonly caughtUpPromise = new Promise<void>((resolve) => (this.resolveCaughtUp = resolve));
  private timer: NodeJS.Timeout | undefined;
  private closing: Promise<void> | undefined;
  private admin: Admin | undefined;

  constructor(
    private readonly kafka: Kafka,
    private readonly table: StandingQueries,
    private readonly opts: QueryReaderOptions,
    private readonly log: Logger,
  ) {
    this.consumer = kafka.consumer({
      groupId: `${opts.groupPrefix}.queries.${process.pid}-${randomBytes(4).toString('hex')}`,
      allowAutoTopicCreation: false,
      sessionTimeout: 30_000,
      heartbeatInterval: 3000,
      maxWaitTimeInMs: 1000,
      // kafkajs restarts a crashed consumer on a timer of its own; once closing, it must not.
      retry: { restartOnFailure: async () => this.closing === undefined },
    });
  }

  get caughtUp(): boolean {
    return this.caughtUpFlag;
  }

  /** Starts reading; resolves once caught up with the end offsets seen at start. */
  async start(): Promise<void> {
    const admin = this.kafka.admin();
    this.admin = admin;
    try {
      await admin.connect();
      for (const p of await retryKafka(
        () => admin.fetchTopicOffsets(this.opts.topic),
        20,
        500,
        () => this.closing !== undefined,
      )) {
        const high = BigInt(p.high);
        if (high > BigInt(p.low)) this.targets.set(p.partition, high);
      }
    } catch (err) {
      throw new ClipstreamError(
        'CLIPSTREAM_KAFKA_UNAVAILABLE',
        `cannot read the end offsets of ${this.opts.topic}: ${(err as Error).message}`,
        {
          cause: err,
        },
      );
    } finally {
      this.admin = undefined;
      await admin.disconnect().catch(() => undefined);
    }
    if (this.closing) return;
    await this.consumer.connect();
    await this.consumer.subscribe({ topics: [this.opts.topic], fromBeginning: true });
    await this.consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: true,
      eachBatch: async ({ batch }) => {
        for (const m of batch.messages) {
          const r = this.table.apply(m.key, m.value);
          if (r.outcome === 'invalid') {
            this.log.warn('skipped an invalid standing-query record', {
              topic: batch.topic,
              partition: batch.partition,
              offset: m.offset,
              reason: r.reason,
            });
          } else {
            this.log.debug('standing query updated', { queryId: m.key?.toString(), outcome: r.outcome });
          }
        }
        this.advance(batch.partition, BigInt(batch.lastOffset()) + 1n);
      },
    });
    this.check();
    const timeout = this.opts.catchUpTimeoutMs ?? 60_000;
    this.timer = setTimeout(() => {
      if (this.caughtUpFlag) return;
      this.log.warn(
        'standing queries: did not reach the start-up end offsets in time; going on with what was read',
        {
          topic: this.opts.topic,
          waitedMs: timeout,
        },
      );
      this.markCaughtUp();
    }, timeout);
    this.timer.unref();
    await this.caughtUpPromise;
  }

  private advance(partition: number, next: bigint): void {
    const prev = this.positions.get(partition) ?? 0n;
    if (next > prev) this.positions.set(partition, next);
    if (!this.caughtUpFlag) this.check();
  }

  private check(): void {
    for (const [partition, target] of this.targets) {
      if ((this.positions.get(partition) ?? 0n) < target) return;
    }
    this.markCaughtUp();
  }

  private markCaughtUp(): void {
    if (this.caughtUpFlag) return;
    this.caughtUpFlag = true;
    if (this.timer) clearTimeout(this.timer);
    this.log.info('standing queries loaded', { topic: this.opts.topic, queries: this.table.size });
    this.resolveCaughtUp();
  }

  /** Stops reading and leaves the throwaway group. Idempotent. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      if (this.timer) clearTimeout(this.timer);
      this.resolveCaughtUp();
      await this.admin?.disconnect().catch(() => undefined);
      await this.consumer.disconnect();
    })();
    return this.closing;
  }
}
