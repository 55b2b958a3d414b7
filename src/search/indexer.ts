/**
 * `clipstream index`: a member of the consumer group `<group>.index` on the embeddings topic
 * (frame embeddings) and the results topic (source metadata), writing both into the store.
 * Each message is written in its own transaction and the batch's offsets are committed only
 * after its writes, so a crash replays messages, and replays change nothing (idempotent writes).
 * A chunk from another model than the store's, or one that is not a valid chunk, goes to the
 * DLQ with its code and is committed; the indexer goes on.
 */
import type { Meter, ObservableResult } from '@opentelemetry/api';
import type { Consumer, EachBatchPayload, IHeaders, Kafka, Producer } from 'kafkajs';
import { ClipstreamError, toClipstreamError } from '../errors.js';
import { buildDlqMessage, ensureTopics, withTimeout } from '../ingest/index.js';
import type { Logger } from '../log.js';
import { parseChunk, parseResultMeta } from './messages.js';
import type { Store } from './store.js';

/** Longest each Kafka disconnect may take at close, in ms (as the worker's). */
const DISCONNECT_MS = 2500;

export interface IndexerSettings {
  readonly embeddingsTopic: string;
  /** the results topic (source metadata) */
  readonly outputTopic: string;
  readonly dlqTopic: string;
  /** the worker's group; the indexer joins `<group>.index` */
  readonly group: string;
  readonly maxMessageBytes: number;
  readonly createTopics: boolean;
  readonly topicPartitions: number;
  readonly topicReplication: number;
}

export interface IndexerOptions {
  readonly kafka: Kafka;
  readonly store: Store;
  readonly settings: IndexerSettings;
  readonly log: Logger;
  readonly meter?: Meter;
  /** The consumer stopped for good (e.g. the store stayed unwritable). */
  readonly onFatal?: (err: unknown) => void;
  readonly heartbeatMs?: number;
  /** How often progress (frames/s, lag) is logged, in ms; 0 = never. Default 30000. */
  readonly progressMs?: number;
}

export interface IndexerStats {
  chunks: number;
  frames: number;
  results: number;
  refused: number;
  skipped: number;
}

const STORE_ATTEMPTS = 5;

export class Indexer {
  readonly stats: IndexerStats = { chunks: 0, frames: 0, results: 0, refused: 0, skipped: 0 };
  private readonly consumer: Consumer;
  private readonly producer: Producer;
  private readonly lags = new Map<string, number>();
  private readonly started = Date.now();
  private progress: NodeJS.Timeout | undefined;
  private closing: Promise<void> | undefined;

  private constructor(private readonly o: IndexerOptions) {
    this.consumer = o.kafka.consumer({
      groupId: `${o.settings.group}.index`,
      allowAutoTopicCreation: false,
      maxWaitTimeInMs: 500,
      ...(o.heartbeatMs ? { heartbeatInterval: o.heartbeatMs } : {}),
    });
    this.producer = o.kafka.producer({
      idempotent: true,
      maxInFlightRequests: 1,
      allowAutoTopicCreation: false,
    });
    const m = o.meter;
    if (m) {
      this.framesCounter = m.createCounter('clipstream.index.frames', {
        description: 'frames written into the search store',
        unit: '{frame}',
      });
      this.chunksCounter = m.createCounter('clipstream.index.messages', {
        description: 'messages handled by the indexer, by outcome (indexed, refused, result, skipped)',
        unit: '{message}',
      });
      m.createObservableGauge('clipstream.index.lag', {
        description: 'messages on the embeddings and results topics not yet indexed',
        unit: '{message}',
      }).addCallback((r: ObservableResult) => r.observe(this.lag()));
    }
  }

  private framesCounter: { add(n: number): void } | undefined;
  private chunksCounter: { add(n: number, attrs: Record<string, string>): void } | undefined;

  /** Joins the group and starts indexing; resolves once the consumer runs. */
  static async start(o: IndexerOptions): Promise<Indexer> {
    const ix = new Indexer(o);
    try {
      await ix.run();
    } catch (err) {
      await ix.close();
      throw err;
    }
    return ix;
  }

  /** Messages not yet indexed, over every assigned partition (as of each partition's last batch). */
  lag(): number {
    let n = 0;
    for (const v of this.lags.values()) n += v;
    return n;
  }

  /** Frames written per second since start. */
  framesPerSec(): number {
    const s = (Date.now() - this.started) / 1000;
    return s > 0 ? this.stats.frames / s : 0;
  }

  private async run(): Promise<void> {
    const s = this.o.settings;
    const admin = this.o.kafka.admin();
    try {
      await admin.connect();
      await ensureTopics(
        admin,
        [{ topic: s.embeddingsTopic }, { topic: s.outputTopic }, { topic: s.dlqTopic }],
        { create: s.createTopics, partitions: s.topicPartitions, replication: s.topicReplication },
        this.o.log,
      );
    } catch (err) {
      throw err instanceof ClipstreamError
        ? err
        : new ClipstreamError(
            'CLIPSTREAM_KAFKA_UNAVAILABLE',
            `cannot reach Kafka: ${(err as Error).message}`,
            {
              cause: err,
            },
          );
    } finally {
      await admin.disconnect().catch(() => undefined);
    }
    try {
      await this.producer.connect();
      await this.consumer.connect();
      await this.consumer.subscribe({ topics: [s.embeddingsTopic, s.outputTopic], fromBeginning: true });
    } catch (err) {
      throw new ClipstreamError(
        'CLIPSTREAM_KAFKA_UNAVAILABLE',
        `cannot join ${s.group}.index: ${(err as Error).message}`,
        {
          cause: err,
        },
      );
    }
    this.consumer.on(this.consumer.events.CRASH, (e) => {
      if (!e.payload.restart) this.o.onFatal?.(e.payload.error);
    });
    await this.consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      eachBatch: (p) => this.batch(p),
    });
    const every = this.o.progressMs ?? 30_000;
    if (every > 0) {
      let last = -1;
      this.progress = setInterval(() => {
        if (this.stats.frames === last && this.lag() === 0) return;
        last = this.stats.frames;
        this.o.log.info('indexing', {
          ...this.stats,
          framesPerSec: round(this.framesPerSec()),
          lag: this.lag(),
        });
      }, every);
      this.progress.unref();
    }
    this.o.log.info('indexer running', { group: `${s.group}.index`, store: this.o.store.where });
  }

  private async batch({
    batch,
    resolveOffset,
    heartbeat,
    isRunning,
    isStale,
  }: EachBatchPayload): Promise<void> {
    const key = `${batch.topic}/${batch.partition}`;
    const isEmbeddings = batch.topic === this.o.settings.embeddingsTopic;
    let last: string | undefined;
    for (const m of batch.messages) {
      if (!isRunning() || isStale()) break;
      if (isEmbeddings) await this.chunk(batch.topic, batch.partition, m);
      else this.result(await this.withRetry(() => this.resultWrite(m.value)));
      resolveOffset(m.offset);
      last = m.offset;
      this.lags.set(key, Math.max(0, Number(BigInt(batch.highWatermark) - BigInt(m.offset) - 1n)));
      await heartbeat();
    }
    if (last !== undefined) {
      await this.consumer.commitOffsets([
        { topic: batch.topic, partition: batch.partition, offset: (BigInt(last) + 1n).toString() },
      ]);
    }
  }

  private async resultWrite(value: Buffer | null): Promise<'result' | 'skipped'> {
    const meta = parseResultMeta(value);
    if (!meta) return 'skipped';
    return (await this.o.store.writeResult(meta)) ? 'result' : 'skipped';
  }

  private result(outcome: 'result' | 'skipped'): void {
    if (outcome === 'result') this.stats.results++;
    else this.stats.skipped++;
    this.chunksCounter?.add(1, { outcome });
  }

  private async chunk(
    topic: string,
    partition: number,
    m: { offset: string; key: Buffer | null; value: Buffer | null; headers?: IHeaders },
  ): Promise<void> {
    try {
      const c = parseChunk(m.value);
      const added = await this.withRetry(() => this.o.store.writeChunk(c));
      this.stats.chunks++;
      this.stats.frames += added;
      this.framesCounter?.add(added);
      this.chunksCounter?.add(1, { outcome: 'indexed' });
    } catch (err) {
      const e = toClipstreamError(err);
      if (e.retryable) throw e;
      this.stats.refused++;
      this.chunksCounter?.add(1, { outcome: 'refused' });
      this.o.log.warn('embeddings chunk refused', {
        code: e.code,
        error: e.message,
        topic,
        partition,
        offset: m.offset,
      });
      const dlq = buildDlqMessage(
        e,
        { topic, partition, offset: m.offset },
        m,
        this.o.settings.maxMessageBytes,
      );
      await this.producer.send({ topic: this.o.settings.dlqTopic, acks: -1, messages: [dlq] });
    }
  }

  /** Retries a store write that failed transiently; the last failure ends the consumer. */
  private async withRetry<T>(fn: () => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await fn();
      } catch (err) {
        const e = toClipstreamError(err);
        if (!e.retryable || attempt >= STORE_ATTEMPTS) throw e;
        this.o.log.warn('store write failed: retrying', { error: e.message, attempt });
        await new Promise((r) => setTimeout(r, 200 * 2 ** attempt));
      }
    }
  }

  /** Stops consuming (the current message finishes and is committed), leaves the group. Idempotent. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      if (this.progress) clearInterval(this.progress);
      // Bounded like the worker's disconnects: a broker that is gone cannot be left politely.
      for (const [what, step] of [
        ['consumer disconnect', () => this.consumer.disconnect()],
        ['producer disconnect', () => this.producer.disconnect()],
      ] as const) {
        try {
          await withTimeout(step(), DISCONNECT_MS, what);
        } catch (err) {
          this.o.log.warn('indexer: close step failed', { error: (err as Error).message });
        }
      }
      this.o.log.info('indexer stopped', { ...this.stats, framesPerSec: round(this.framesPerSec()) });
    })();
    return this.closing;
  }
}

function round(x: number): number {
  return Math.round(x * 10) / 10;
}
