/**
 * The Kafka worker: a consumer-group member that turns video events into result documents.
 *
 * Delivery: at-least-once. Each partition is handled one event at a time (kafkajs `eachMessage`),
 * and an event's offset + 1 is committed only after its result or DLQ record is acknowledged, so
 * a commit can never skip an unfinished earlier event of its partition. Work that cannot finish
 * (shutdown, rebalance, broker trouble) throws out of the handler: kafkajs then re-reads from
 * that offset, and a crash anywhere means a redelivery, never a loss.
 *
 * Bounds: at most `maxVideosInFlight` videos at once (`partitionsConsumedConcurrently`), each
 * with at most `maxFramesInFlight` frames between ffmpeg and the encoder, whose shared batcher
 * queue is bounded too. kafkajs fetches again only when the previous fetch is handled, so
 * buffered events are bounded by the fetch size.
 */
import { EventEmitter, once } from 'node:events';
import type { Admin, Consumer, Kafka } from 'kafkajs';
import type { Embedder } from '../embed/index.js';
import { ClipstreamError, formatError, toClipstreamError } from '../errors.js';
import { PolicyProxy, checkSourcePolicy, sourcePolicyFor } from '../frames/index.js';
import type { MediaLimits, SourcePolicy } from '../frames/index.js';
import type { Logger } from '../log.js';
import type { Calibration, MatchOptions } from '../match/index.js';
import { contextFromConfig } from '../pipeline/index.js';
import type { PipelineContext } from '../pipeline/index.js';
import { createInstruments } from '../telemetry/index.js';
import type { Instruments } from '../telemetry/index.js';
import { AttemptLedger, kafkaOffsetStore } from './attempts.js';
import { createKafka } from './client.js';
import { GroupState } from './group.js';
import { handBack } from './hand-back.js';
import { EventHandler } from './handler.js';
import type { Outcome } from './handler.js';
import type { IngestOptions } from './options.js';
import { Publisher } from './publisher.js';
import { withTimeout } from './retry.js';
import { QueryReader } from './query-reader.js';
import { StandingQueries } from './standing.js';
import { ensureTopics } from './topics.js';

export interface WorkerOptions {
  /** The worker's own options (ingest/options.ts); `ingestOptionsOf(config)` picks them from a Config. */
  readonly config: Readonly<IngestOptions>;
  /**
   * The pipeline context every video runs with; default: `contextFromConfig(config, ...)` with the
   * matcher's default thresholds. The CLI passes the one made from the whole configuration.
   */
  readonly context?: PipelineContext;
  /** The opened model; the worker uses it but does not close it (its opener does). */
  readonly embedder: Embedder;
  readonly log: Logger;
  readonly instruments?: Instruments;
  /** Media limits beyond the configured decode timeout. */
  readonly limits?: Partial<MediaLimits>;
  readonly match?: MatchOptions;
  readonly calibration?: Calibration;
  /** How often a running handler heartbeats the group, in ms. Default 1000 (kafkajs sends at most one per 3 s). */
  readonly heartbeatMs?: number;
  /** Called once when the consumer stops for good (a crash kafkajs will not restart). */
  readonly onFatal?: (err: ClipstreamError) => void;
}

export interface WorkerStats {
  results: number;
  dlq: number;
  handedBack: number;
}

interface Job {
  readonly controller: AbortController;
  readonly offset: string;
}

/** Errors kafkajs answers by re-joining the group at once. */
const REJOIN = new Set([
  'REBALANCE_IN_PROGRESS',
  'NOT_COORDINATOR_FOR_GROUP',
  'ILLEGAL_GENERATION',
  'UNKNOWN_MEMBER_ID',
]);

/**
 * Shutdown budget beyond the grace period (docs/worker.md): at most STARTUP_STOP_MS for a start-up
 * under way or ABORT_WAIT_MS for aborted videos to unwind, then DISCONNECT_MS for the Kafka
 * clients, closed together: a worker exits within grace + 5 s whatever state the broker is in.
 */
const STARTUP_STOP_MS = 1500;
const ABORT_WAIT_MS = 1500;
const DISCONNECT_MS = 2500;

export class Worker {
  readonly stats: WorkerStats = { results: 0, dlq: 0, handedBack: 0 };
  readonly standing = new StandingQueries();
  private readonly kafka: Kafka;
  private readonly publisher: Publisher;
  private readonly reader: QueryReader;
  private readonly consumer: Consumer;
  private readonly handler: EventHandler;
  private readonly instruments: Instruments;
  private readonly policy: SourcePolicy;
  /** Every connection ffmpeg makes for an http(s) source goes through it (docs/security.md). */
  private readonly proxy: PolicyProxy;
  private readonly jobs = new Map<string, Job>();
  private readonly idle = new EventEmitter();
  private readonly group: GroupState;
  private unobserve: (() => void) | undefined;
  private started = false;
  private stopping = false;
  private closing: Promise<void> | undefined;
  private starting: Promise<void> | undefined;
  /** the start-up admin client while it is open (closed by `close()` if start-up hangs on it) */
  private admin: Admin | undefined;
  /** committed offsets with their attempt metadata (crash-loop protection) */
  private readonly offsets: ReturnType<typeof kafkaOffsetStore>;
  private readonly ledger: AttemptLedger;

  constructor(private readonly opts: WorkerOptions) {
    const { config, log } = opts;
    this.instruments = opts.instruments ?? createInstruments();
    this.kafka = createKafka(config, log.child({ component: 'kafka' }));
    this.publisher = new Publisher(this.kafka);
    this.group = new GroupState(
      log,
      () => this.stopping,
      (err) => opts.onFatal?.(err),
    );
    this.reader = new QueryReader(
      this.kafka,
      this.standing,
      { topic: config.queriesTopic, groupPrefix: config.group },
      log,
    );
    this.consumer = this.kafka.consumer({
      groupId: config.group,
      allowAutoTopicCreation: false,
      sessionTimeout: config.sessionTimeoutMs,
      rebalanceTimeout: 60_000,
      heartbeatInterval: 3000,
      maxWaitTimeInMs: 1000,
      // Events are small; these cap what kafkajs holds between fetches.
      maxBytesPerPartition: 1024 * 1024,
      maxBytes: 8 * 1024 * 1024,
      retry: {
        initialRetryTime: 300,
        maxRetryTime: 10_000,
        retries: 10,
        restartOnFailure: async () => !this.stopping,
      },
    });
    this.policy = sourcePolicyFor('worker', config);
    this.proxy = new PolicyProxy(log);
    this.offsets = kafkaOffsetStore(this.kafka, this.consumer, config.group);
    this.ledger = new AttemptLedger(this.offsets, config.crashAttempts);
    this.handler = new EventHandler({
      attempts: this.ledger,
      settings: config,
      retry: {
        maxAttempts: config.maxAttempts,
        baseMs: config.retryBackoffMs,
        maxMs: config.retryBackoffMaxMs,
      },
      context: contextFromConfig('worker', config, opts.embedder, log, {
        ...opts.context,
        // The worker's own policy and proxy, whatever context it was given.
        policy: this.policy,
        proxy: this.proxy,
        ...(opts.limits ? { limits: { ...opts.context?.limits, ...opts.limits } } : {}),
        ...(opts.match ? { match: opts.match } : {}),
        ...(opts.calibration ? { calibration: opts.calibration } : {}),
      }),
      publisher: this.publisher,
      standing: this.standing,
      instruments: this.instruments,
      log,
      commit: (topic, partition, offset) => this.commit(topic, partition, offset),
    });
  }

  /** Creates and starts a worker (see `start`). */
  static async start(opts: WorkerOptions): Promise<Worker> {
    const w = new Worker(opts);
    await w.start();
    return w;
  }

  /**
   * Checks or creates the topics, loads the standing queries, connects the producer and joins
   * the group. On failure everything opened so far is closed again and a coded error thrown.
   * `close()` may be called while this runs (a signal during start-up): it then stops early.
   */
  async start(): Promise<void> {
    this.starting = this.startInner();
    try {
      await this.starting;
    } catch (err) {
      await this.close();
      throw toClipstreamError(err, 'CLIPSTREAM_KAFKA_UNAVAILABLE');
    }
  }

  private async startInner(): Promise<void> {
    const { config, log } = this.opts;
    if (this.stopping) return;
    await checkSourcePolicy(this.policy);
    if (this.policy.localFiles === 'refused') {
      log.warn('no media root set (CLIPSTREAM_MEDIA_ROOT): events with local file URIs will go to the DLQ');
    }
    const admin: Admin = this.kafka.admin();
    this.admin = admin;
    try {
      await admin.connect();
      await ensureTopics(
        admin,
        [
          { topic: config.inputTopic },
          { topic: config.outputTopic },
          { topic: config.dlqTopic },
          { topic: config.queriesTopic, config: { 'cleanup.policy': 'compact' } },
          ...(config.publishEmbeddings ? [{ topic: config.embeddingsTopic }] : []),
          ...(config.alertsTopic !== undefined ? [{ topic: config.alertsTopic }] : []),
        ],
        {
          create: config.createTopics,
          partitions: config.topicPartitions,
          replication: config.topicReplication,
        },
        log,
      );
    } catch (err) {
      throw toClipstreamError(err, 'CLIPSTREAM_KAFKA_UNAVAILABLE');
    } finally {
      this.admin = undefined;
      await admin.disconnect().catch(() => undefined);
    }
    this.unobserve = this.instruments.observe({
      lag: () => this.group.lags(),
      inFlight: () => this.jobs.size,
      standingQueries: () => this.standing.size,
    });
    if (this.stopping) return;
    await this.publisher.connect();
    if (this.stopping) return;
    await Promise.race([this.reader.start(), once(this.idle, 'stopping')]);
    if (this.stopping) return;
    this.group.watch(this.consumer);
    // Partitions may move at every join: what this process knew of their attempts is stale.
    this.consumer.on(this.consumer.events.GROUP_JOIN, () => this.ledger.forget());
    await this.consumer.connect();
    if (this.stopping) return;
    await this.consumer.subscribe({ topics: [config.inputTopic], fromBeginning: true });
    await this.consumer.run({
      autoCommit: false,
      partitionsConsumedConcurrently: config.maxVideosInFlight,
      eachMessage: ({ topic, partition, message, heartbeat }) =>
        this.onMessage(topic, partition, message, heartbeat),
    });
    this.started = true;
    log.info('worker started', {
      group: config.group,
      inputTopic: config.inputTopic,
      maxVideosInFlight: config.maxVideosInFlight,
      maxFramesInFlight: config.maxFramesInFlight,
      standingQueries: this.standing.size,
    });
  }

  /** Named readiness checks (all true = ready). */
  readiness(): { standingQueries: boolean; consumer: boolean } {
    return {
      standingQueries: this.reader.caughtUp,
      consumer: this.started && this.group.joined && !this.stopping,
    };
  }

  get ready(): boolean {
    const r = this.readiness();
    return r.standingQueries && r.consumer;
  }

  private async onMessage(
    topic: string,
    partition: number,
    message: Parameters<EventHandler['handle']>[0]['message'],
    heartbeat: () => Promise<void>,
  ): Promise<void> {
    if (this.stopping)
      throw handBack(new ClipstreamError('CLIPSTREAM_ABORTED', 'the worker is shutting down'));
    const key = `${topic}/${partition}`;
    const controller = new AbortController();
    this.jobs.set(key, { controller, offset: message.offset });
    let rejoin: unknown;
    const beat = setInterval(() => {
      heartbeat().catch((err: { type?: string; message?: string }) => {
        if (err.type && REJOIN.has(err.type)) {
          rejoin ??= err;
          controller.abort(
            new ClipstreamError('CLIPSTREAM_ABORTED', `the group is rebalancing (${err.type})`),
          );
        } else {
          this.opts.log.debug('heartbeat failed', { error: err.message });
        }
      });
    }, this.opts.heartbeatMs ?? 1000);
    let outcome: Outcome | undefined;
    try {
      outcome = await this.handler.handle({ topic, partition, message }, controller.signal);
    } catch (err) {
      this.stats.handedBack++;
      const e = toClipstreamError(err);
      this.opts.log.info('event handed back uncommitted; it will be delivered again', {
        topic,
        partition,
        offset: message.offset,
        reason: formatError(e),
      });
      // Handed back cleanly: this attempt did not kill the process, so it does not count.
      await withTimeout(this.ledger.release(topic, partition, message.offset), 1000, 'attempt release').catch(
        () => undefined,
      );
      // A rebalance error goes back as kafkajs' own, so it re-joins at once instead of retrying.
      throw rejoin ?? handBack(e);
    } finally {
      clearInterval(beat);
      this.jobs.delete(key);
      if (this.jobs.size === 0) this.idle.emit('idle');
    }
    if (outcome === 'result') this.stats.results++;
    else this.stats.dlq++;
  }

  private async commit(topic: string, partition: number, next: string): Promise<void> {
    await this.consumer.commitOffsets([{ topic, partition, offset: next, metadata: null }]);
    this.group.committed(topic, partition, next);
    this.ledger.done(topic, partition, next);
  }

  /** Resolves true once nothing is in flight, false after `ms`. */
  private async waitIdle(ms: number): Promise<boolean> {
    if (this.jobs.size === 0) return true;
    const ac = new AbortController();
    const timer = setTimeout(() => ac.abort(), ms);
    try {
      await once(this.idle, 'idle', { signal: ac.signal });
      return true;
    } catch {
      return this.jobs.size === 0;
    } finally {
      clearTimeout(timer);
    }
  }

  /**
   * Graceful stop, idempotent: stop fetching, let in-flight videos finish (and commit) within
   * the grace period, abort the rest (uncommitted: redelivered), leave the group, stop the
   * standing-query reader, flush and close the producer. Each step runs even if one before failed.
   */
  close(): Promise<void> {
    this.closing ??= (async () => {
      this.stopping = true;
      this.idle.emit('stopping');
      const { config, log } = this.opts;
      const step = async (what: string, fn: () => Promise<unknown> | unknown) => {
        try {
          await fn();
        } catch (err) {
          log.warn(`shutdown: ${what} failed`, { error: formatError(err) });
        }
      };
      // First end a start-up connection still trying (a broker that never answered).
      await step('closing the start-up admin client', () =>
        this.admin ? withTimeout(this.admin.disconnect(), DISCONNECT_MS, 'admin disconnect') : undefined,
      );
      // A start-up step in progress stops at its next check; a long one (a broker that is not
      // there) is not waited for beyond a moment: the disconnects below end it.
      await step('waiting for start-up to stop', () =>
        this.starting
          ? withTimeout(
              this.starting.catch(() => undefined),
              STARTUP_STOP_MS,
              'start-up',
            )
          : undefined,
      );
      await step('pausing the consumer', () => {
        if (this.started) this.consumer.pause([{ topic: config.inputTopic }]);
      });
      await step('draining in-flight videos', async () => {
        if (this.jobs.size === 0) return;
        log.info('waiting for in-flight videos', { videos: this.jobs.size, graceMs: config.shutdownGraceMs });
        if (await this.waitIdle(config.shutdownGraceMs)) return;
        log.warn(
          'grace period over: aborting in-flight videos (they stay uncommitted and will be redelivered)',
          {
            videos: [...this.jobs.entries()].map(([k, j]) => `${k}@${j.offset}`),
          },
        );
        for (const job of this.jobs.values())
          job.controller.abort(new ClipstreamError('CLIPSTREAM_ABORTED', 'shutdown grace period over'));
        await this.waitIdle(ABORT_WAIT_MS);
      });
      // Leave the group, stop the standing-query reader and close the producer at once (every
      // send was awaited by its handler, so nothing is left to flush), each bounded: a broker
      // that is gone cannot be left politely, and shutdown must still end within grace + 5 s.
      await Promise.all([
        step('leaving the group', () =>
          withTimeout(this.consumer.disconnect(), DISCONNECT_MS, 'consumer disconnect'),
        ),
        step('stopping the standing-query reader', () =>
          withTimeout(this.reader.close(), DISCONNECT_MS, 'query reader disconnect'),
        ),
        step('closing the producer', () =>
          withTimeout(this.publisher.close(), DISCONNECT_MS, 'producer disconnect'),
        ),
        step('closing the offsets admin client', () =>
          withTimeout(this.offsets.close(), DISCONNECT_MS, 'admin disconnect'),
        ),
      ]);
      await step('closing the policy proxy', () => this.proxy.close());
      this.unobserve?.();
      log.info('worker stopped', { ...this.stats });
    })();
    return this.closing;
  }
}
