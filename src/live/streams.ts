/**
 * The worker's stream manager (design.md 3.6): ownership of streams through the `<group>.streams`
 * consumer group on the compacted streams topic.
 *
 * - Offsets are never committed, so on every assignment each owned partition is read from the
 *   beginning: the compacted topic is the set of streams; a tombstone removes one.
 * - The owner runs every stream keyed into its partitions (up to `maxStreams`; the rest wait,
 *   counted as unassigned, and start when a slot frees) and stops those of partitions it no
 *   longer owns after a rebalance (without a final document: the stream moves, it does not end).
 * - Window documents go to the results topic keyed by streamId; alerts to the alerts topic when
 *   set; a lost source's final document is followed by a DLQ record CLIPSTREAM_STREAM_LOST, and
 *   a spec that is not `clipstream.stream.v1` gets a DLQ record CLIPSTREAM_BAD_STREAM.
 * - Every stream matches its own queries, then the worker's standing queries, up to the limit
 *   videos have (`withStanding`, the rule of src/ingest/handler.ts); a standing query added or
 *   removed while a stream runs applies from its next window on.
 */
import type { Consumer, Kafka } from 'kafkajs';
import type { Config } from '../config.js';
import type { Embedder } from '../embed/index.js';
import type { ClipstreamError } from '../errors.js';
import { formatError, toClipstreamError } from '../errors.js';
import type { PolicyProxy, SourcePolicy } from '../frames/index.js';
import { Publisher, buildDlqMessage, ensureTopics, withStanding, withTimeout } from '../ingest/index.js';
import type { Logger } from '../log.js';
import { calibrationFor } from '../pipeline/index.js';
import type { MatchOptions } from '../match/index.js';
import { canonicalJson } from '../pipeline/index.js';
import type { QuerySpec } from '../pipeline/index.js';
import { parseStreamSpec } from './messages.js';
import type { StreamSpec } from './messages.js';
import { createStreamMetrics } from './metrics.js';
import { runStream } from './runner.js';

/** Longest a Kafka client of the stream manager may take to disconnect at shutdown, in ms. */
const DISCONNECT_MS = 2500;

type Settings = Pick<
  Config,
  | 'group'
  | 'streamsTopic'
  | 'alertsTopic'
  | 'outputTopic'
  | 'dlqTopic'
  | 'maxStreams'
  | 'windowSec'
  | 'alertCooldownSec'
  | 'streamStallSec'
  | 'streamReconnects'
  | 'streamsSessionTimeoutMs'
  | 'createTopics'
  | 'topicPartitions'
  | 'topicReplication'
  | 'maxMessageBytes'
>;

export interface StreamManagerOptions {
  readonly settings: Settings;
  readonly kafka: Kafka;
  readonly embedder: Embedder;
  readonly policy: SourcePolicy;
  readonly proxy?: PolicyProxy;
  readonly match: MatchOptions;
  readonly log: Logger;
  /** The worker's standing-query table (`Worker.standing`); none: streams run their own queries only. */
  readonly standing?: { list(): readonly QuerySpec[] };
}

interface Entry {
  readonly streamId: string;
  readonly partition: number;
  readonly offset: string;
  readonly spec: StreamSpec;
  readonly specKey: string;
  abort?: AbortController;
  /** Stopped because its partition moved: no final document. */
  moved?: boolean;
  done?: Promise<void>;
}

export interface StreamManagerStatus {
  readonly running: string[];
  readonly unassigned: string[];
  readonly partitions: number[];
}

export class StreamManager {
  private readonly consumer: Consumer;
  private readonly publisher: Publisher;
  private readonly entries = new Map<string, Entry>();
  private assigned = new Set<number>();
  private closing: Promise<void> | undefined;
  private readonly metrics = createStreamMetrics();

  constructor(private readonly o: StreamManagerOptions) {
    const s = o.settings;
    this.consumer = o.kafka.consumer({
      groupId: `${s.group}.streams`,
      sessionTimeout: s.streamsSessionTimeoutMs,
      heartbeatInterval: Math.max(1000, Math.floor(s.streamsSessionTimeoutMs / 10)),
      // kafkajs heartbeats between fetches, and a fetch on this quiet topic waits its whole
      // maxWaitTime (default 5 s) for data: a short wait is what lets a surviving worker hear
      // of a rebalance within about a second of the dead one's session timeout.
      maxWaitTimeInMs: 500,
      allowAutoTopicCreation: false,
    });
    this.publisher = new Publisher(o.kafka);
    this.metrics.observeStreams(() => {
      const st = this.status();
      return { running: st.running.length, unassigned: st.unassigned.length };
    });
  }

  status(): StreamManagerStatus {
    const all = [...this.entries.values()];
    return {
      running: all.filter((e) => e.abort).map((e) => e.streamId),
      unassigned: all.filter((e) => !e.abort).map((e) => e.streamId),
      partitions: [...this.assigned].sort((a, b) => a - b),
    };
  }

  private unlistenJoin: (() => void) | undefined;

  /** Joins the streams group and starts reading; safe to call again after it failed. */
  async start(): Promise<void> {
    const s = this.o.settings;
    const admin = this.o.kafka.admin();
    await admin.connect();
    try {
      await ensureTopics(
        admin,
        [
          { topic: s.streamsTopic, config: { 'cleanup.policy': 'compact' } },
          ...(s.alertsTopic ? [{ topic: s.alertsTopic }] : []),
        ],
        { create: s.createTopics, partitions: s.topicPartitions, replication: s.topicReplication },
        this.o.log,
      );
    } finally {
      await admin.disconnect().catch(() => undefined);
    }
    await this.publisher.connect();
    await this.consumer.connect();
    // start() may be called again after a failed try (the caller retries): one listener only.
    this.unlistenJoin ??= this.consumer.on(this.consumer.events.GROUP_JOIN, (e) => {
      const parts = new Set(e.payload.memberAssignment[s.streamsTopic] ?? []);
      this.assigned = parts;
      for (const entry of [...this.entries.values()]) {
        if (!parts.has(entry.partition)) this.remove(entry.streamId, true);
      }
      this.o.log.info('streams partitions assigned', { partitions: [...parts] });
    });
    await this.consumer.subscribe({ topics: [s.streamsTopic], fromBeginning: true });
    await this.consumer.run({
      autoCommit: false,
      eachMessage: async ({ partition, message }) => {
        const streamId = message.key?.toString('utf8');
        if (!streamId) return;
        if (message.value === null || message.value.length === 0) {
          this.remove(streamId, false);
          return;
        }
        let spec: StreamSpec;
        try {
          spec = parseStreamSpec(message.value);
        } catch (err) {
          this.remove(streamId, false);
          await this.deadLetter(toClipstreamError(err), {
            partition,
            offset: message.offset,
            key: message.key,
            value: message.value,
          });
          return;
        }
        const key = canonicalJson(spec);
        const old = this.entries.get(streamId);
        if (old && old.specKey === key) return; // a replay after a rebalance: it runs already
        if (old) this.remove(streamId, false);
        this.entries.set(streamId, { streamId, partition, offset: message.offset, spec, specKey: key });
        this.fill();
      },
    });
  }

  /** Starts waiting streams while there are free slots. */
  private fill(): void {
    let running = [...this.entries.values()].filter((e) => e.abort).length;
    for (const e of this.entries.values()) {
      if (running >= this.o.settings.maxStreams) break;
      if (e.abort) continue;
      this.launch(e);
      running += 1;
    }
    const { unassigned } = this.status();
    if (unassigned.length > 0)
      this.o.log.warn('streams over CLIPSTREAM_MAX_STREAMS wait unassigned', {
        unassigned: unassigned.length,
      });
  }

  private remove(streamId: string, moved: boolean): void {
    const e = this.entries.get(streamId);
    if (!e) return;
    this.entries.delete(streamId);
    e.moved = moved;
    e.abort?.abort();
  }

  private launch(e: Entry): void {
    const s = this.o.settings;
    const ac = new AbortController();
    e.abort = ac;
    const log = this.o.log.child({ streamId: e.streamId });
    const spec = e.spec;
    e.done = runStream(
      {
        streamId: e.streamId,
        uri: spec.uri,
        queries: spec.queries ?? [],
        captions: spec.captions ?? [],
        sampling: spec.sampling ?? { strategy: 'fps', fps: 1 },
        window: { windowSec: spec.windowSec ?? s.windowSec, alertCooldownSec: s.alertCooldownSec },
        ...(spec.rtspTransport ? { rtspTransport: spec.rtspTransport } : {}),
      },
      {
        embedder: this.o.embedder,
        policy: this.o.policy,
        ...(this.o.proxy ? { proxy: this.o.proxy } : {}),
        match: this.o.match,
        calibration: calibrationFor(this.o.embedder.pack.manifest),
        log,
        ...(this.o.standing ? { queries: withStandingOf(spec.queries ?? [], this.o.standing, log) } : {}),
        source: { stallSec: s.streamStallSec, reconnects: s.streamReconnects },
        onStats: (st) => this.metrics.onStats(st),
        onDrop: (d) => this.metrics.onDrop(d.streamId),
        onDocument: async (doc) => {
          if (doc.final && e.moved) return;
          await this.publisher.send([{ topic: s.outputTopic, key: e.streamId, value: JSON.stringify(doc) }]);
        },
        ...(s.alertsTopic
          ? {
              onAlert: (a) =>
                this.publisher.send([{ topic: s.alertsTopic!, key: e.streamId, value: JSON.stringify(a) }]),
            }
          : {}),
      },
      ac.signal,
    )
      .then(
        async (out) => {
          log.info('stream ended', { reason: out.reason, documents: out.documents });
          if (out.error) await this.deadLetter(out.error, e);
        },
        async (err: unknown) => {
          const ce = toClipstreamError(err);
          log.warn('stream failed', { error: formatError(ce) });
          if (!ac.signal.aborted) await this.deadLetter(ce, e);
        },
      )
      .finally(() => {
        if (this.entries.get(e.streamId) === e) this.entries.delete(e.streamId);
        this.metrics.forget(e.streamId);
        if (this.closing === undefined) this.fill();
      });
  }

  private async deadLetter(
    error: ClipstreamError,
    at: {
      partition: number;
      offset: string;
      key?: Buffer | null;
      value?: Buffer | null;
      streamId?: string;
      spec?: StreamSpec;
    },
  ): Promise<void> {
    const key = at.key ?? (at.streamId !== undefined ? Buffer.from(at.streamId) : null);
    const value = at.value ?? (at.spec ? Buffer.from(JSON.stringify(at.spec)) : null);
    const msg = buildDlqMessage(
      error,
      { topic: this.o.settings.streamsTopic, partition: at.partition, offset: at.offset },
      { key, value },
      this.o.settings.maxMessageBytes,
    );
    try {
      await this.publisher.send([
        { topic: this.o.settings.dlqTopic, key: msg.key, value: msg.value, headers: msg.headers },
      ]);
    } catch (err) {
      this.o.log.error('stream DLQ record not sent', { error: formatError(err) });
    }
  }

  /** Stops consuming, stops every stream (they move: no final document), disconnects. Idempotent. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      const step = async (fn: () => Promise<unknown>) => {
        try {
          await fn();
        } catch (err) {
          this.o.log.warn('stream manager shutdown step failed', { error: formatError(err) });
        }
      };
      // Bounded like the worker's own disconnects: a broker that is gone cannot be left politely.
      await step(() => withTimeout(this.consumer.disconnect(), DISCONNECT_MS, 'streams consumer disconnect'));
      const all = [...this.entries.values()];
      // The streams move to the next owner of their partitions: no final document here.
      for (const e of all) {
        e.moved = true;
        e.abort?.abort();
      }
      await step(() => Promise.all(all.map((e) => e.done)));
      this.entries.clear();
      await step(() => withTimeout(this.publisher.close(), DISCONNECT_MS, 'streams producer disconnect'));
    })();
    return this.closing;
  }
}

/**
 * The queries of a stream now: its own, then the standing ones, as for a video; recomputed only
 * when the standing table changed (its `list()` is a new array then). Logs once per change when
 * standing queries did not fit in the limit.
 */
export function withStandingOf(
  own: readonly QuerySpec[],
  standing: { list(): readonly QuerySpec[] },
  log: Pick<Logger, 'warn'>,
): () => readonly QuerySpec[] {
  let seen: readonly QuerySpec[] | undefined;
  let out: readonly QuerySpec[] = own;
  return () => {
    const list = standing.list();
    if (list === seen) return out;
    seen = list;
    const r = withStanding(own, list);
    out = r.queries;
    if (r.dropped > 0)
      log.warn('standing queries did not fit in the query limit and were left out of this stream', {
        dropped: r.dropped,
      });
    return out;
  };
}
