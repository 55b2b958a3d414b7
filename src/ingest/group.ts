/**
 * What the worker knows about its consumer-group membership, from kafkajs' instrumentation
 * events: whether it is joined (for /readyz), each assigned partition's lag (for the gauge), and
 * crashes kafkajs will not restart from (fatal for the process).
 */
import type { Consumer } from 'kafkajs';
import { formatError, toClipstreamError } from '../errors.js';
import type { ClipstreamError } from '../errors.js';
import type { Logger } from '../log.js';

interface PartitionLag {
  topic: string;
  partition: number;
  /** the partition's end (high watermark) at the last fetch */
  high: bigint;
  /** the next offset to be committed */
  next: bigint;
}

export class GroupState {
  private readonly lag = new Map<string, PartitionLag>();
  private joinedFlag = false;

  constructor(
    private readonly log: Logger,
    /** whether a crash is expected (the worker is stopping) */
    private readonly stopping: () => boolean,
    private readonly onFatal: (err: ClipstreamError) => void,
  ) {}

  get joined(): boolean {
    return this.joinedFlag;
  }

  /** Records per partition between the committed position and the end, as last seen. */
  lags(): { topic: string; partition: number; lag: number }[] {
    return [...this.lag.values()].map((p) => ({
      topic: p.topic,
      partition: p.partition,
      lag: Number(p.high > p.next ? p.high - p.next : 0n),
    }));
  }

  /** After a commit of `next` (offset + 1) for a partition. */
  committed(topic: string, partition: number, next: string): void {
    const p = this.lag.get(`${topic}/${partition}`);
    if (p && BigInt(next) > p.next) p.next = BigInt(next);
  }

  watch(consumer: Consumer): void {
    const { events } = consumer;
    consumer.on(events.GROUP_JOIN, (e) => {
      this.joinedFlag = true;
      const assigned = new Set<string>();
      for (const [topic, partitions] of Object.entries(e.payload.memberAssignment)) {
        for (const p of partitions) assigned.add(`${topic}/${p}`);
      }
      for (const key of this.lag.keys()) if (!assigned.has(key)) this.lag.delete(key);
      this.log.info('joined the consumer group', {
        group: e.payload.groupId,
        assignment: e.payload.memberAssignment,
        leader: e.payload.isLeader,
      });
    });
    consumer.on(events.START_BATCH_PROCESS, (e) => {
      const key = `${e.payload.topic}/${e.payload.partition}`;
      const prev = this.lag.get(key);
      const first = BigInt(e.payload.firstOffset);
      this.lag.set(key, {
        topic: e.payload.topic,
        partition: e.payload.partition,
        high: BigInt(e.payload.highWatermark),
        next: prev && prev.next > first ? prev.next : first,
      });
    });
    consumer.on(events.STOP, () => {
      this.joinedFlag = false;
    });
    consumer.on(events.CRASH, (e) => {
      this.joinedFlag = false;
      const err = toClipstreamError(e.payload.error, 'CLIPSTREAM_KAFKA_UNAVAILABLE');
      if (e.payload.restart) {
        this.log.warn('consumer crashed; kafkajs restarts it', { error: formatError(err) });
      } else if (!this.stopping()) {
        this.log.error('consumer stopped for good', { error: formatError(err) });
        this.onFatal(err);
      }
    });
  }
}
