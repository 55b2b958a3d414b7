/**
 * The worker's one producer: idempotent (`maxInFlightRequests: 1`, acks from all in-sync
 * replicas), keyed by videoId. A send resolves only once the broker has acknowledged every
 * message in it; the worker commits an offset only after that.
 */
import { CompressionTypes, Partitioners } from 'kafkajs';
import type { IHeaders, Kafka, Message, Producer } from 'kafkajs';
import { ClipstreamError } from '../errors.js';

/** Broker answers that mean "this message can never be accepted", not "try again later". */
const TOO_LARGE = new Set(['MESSAGE_TOO_LARGE', 'RECORD_LIST_TOO_LARGE']);

function causeTypes(err: unknown, depth = 0): string[] {
  if (!err || typeof err !== 'object' || depth > 5) return [];
  const e = err as { type?: unknown; cause?: unknown; originalError?: unknown; errors?: unknown[] };
  return [
    ...(typeof e.type === 'string' ? [e.type] : []),
    ...causeTypes(e.cause, depth + 1),
    ...causeTypes(e.originalError, depth + 1),
    ...(Array.isArray(e.errors) ? e.errors.flatMap((x) => causeTypes(x, depth + 1)) : []),
  ];
}

export interface OutgoingMessage {
  readonly topic: string;
  readonly key: string | Buffer | null;
  readonly value: string;
  readonly headers?: IHeaders;
}

export class Publisher {
  private readonly producer: Producer;
  private connected = false;
  private closing: Promise<void> | undefined;

  constructor(kafka: Kafka) {
    this.producer = kafka.producer({
      idempotent: true,
      maxInFlightRequests: 1,
      allowAutoTopicCreation: false,
      createPartitioner: Partitioners.DefaultPartitioner,
    });
  }

  async connect(): Promise<void> {
    try {
      await this.producer.connect();
      this.connected = true;
    } catch (err) {
      throw new ClipstreamError(
        'CLIPSTREAM_KAFKA_UNAVAILABLE',
        `producer cannot connect: ${(err as Error).message}`,
        { cause: err },
      );
    }
  }

  /**
   * Sends messages (possibly to several topics) and resolves when all are acknowledged. Throws
   * CLIPSTREAM_RESULT_TOO_LARGE when the broker refuses a message for its size, otherwise
   * CLIPSTREAM_PUBLISH_FAILED (retryable: the caller hands the event back uncommitted).
   */
  async send(messages: readonly OutgoingMessage[]): Promise<void> {
    if (messages.length === 0) return;
    const byTopic = new Map<string, Message[]>();
    for (const m of messages) {
      const list = byTopic.get(m.topic) ?? [];
      list.push({ key: m.key, value: m.value, ...(m.headers ? { headers: m.headers } : {}) });
      byTopic.set(m.topic, list);
    }
    try {
      await this.producer.sendBatch({
        acks: -1,
        compression: CompressionTypes.None,
        topicMessages: [...byTopic.entries()].map(([topic, msgs]) => ({ topic, messages: msgs })),
      });
    } catch (err) {
      const types = causeTypes(err);
      if (types.some((t) => TOO_LARGE.has(t))) {
        throw new ClipstreamError(
          'CLIPSTREAM_RESULT_TOO_LARGE',
          `the broker refused a message as too large (${types.join(', ')})`,
          {
            cause: err,
          },
        );
      }
      throw new ClipstreamError(
        'CLIPSTREAM_PUBLISH_FAILED',
        `publishing to ${[...byTopic.keys()].join(', ')} failed: ${(err as Error).message}`,
        {
          cause: err,
        },
      );
    }
  }

  /**
   * Waits for nothing more (sends are awaited by their callers) and disconnects. Idempotent.
   * Also while a connect is still under way (a broker that never answered): its sockets close.
   */
  close(): Promise<void> {
    this.closing ??= this.producer.disconnect();
    return this.closing;
  }
}
