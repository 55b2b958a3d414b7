import ipaddr from 'ipaddr.js';
/**
 * Options of the ingest stage (the Kafka worker): zod schema, defaults and units. `config.ts`
 * composes the process configuration from this schema and the other stages' ones, and maps
 * each field onto its CLIPSTREAM_* variable; the `Worker` takes exactly these options.
 */
import { z } from 'zod';
import { liveConfigShape } from '../live/options.js';
import { LEVELS } from '../log.js';

const topic = (name: string) => z.string().min(1).max(249).default(name);
const int = (min: number, max: number) => z.number().int().min(min).max(max);

export const IngestOptionsSchema = z.object({
  /** Kafka bootstrap servers, host:port each. @defaultValue ['127.0.0.1:9092'] */
  brokers: z
    .array(z.string().regex(/^[^\s:]+:\d{1,5}$/, 'must be host:port'))
    .min(1)
    .default(['127.0.0.1:9092']),
  /** Topic of video events. @defaultValue 'clipstream.videos' */
  inputTopic: topic('clipstream.videos'),
  /** Topic of result documents. @defaultValue 'clipstream.results' */
  outputTopic: topic('clipstream.results'),
  /** Topic of DLQ records. @defaultValue 'clipstream.videos.dlq' */
  dlqTopic: topic('clipstream.videos.dlq'),
  /** Compacted topic of standing queries. @defaultValue 'clipstream.queries' */
  queriesTopic: topic('clipstream.queries'),
  /** Topic of frame-embedding chunks. @defaultValue 'clipstream.embeddings' */
  embeddingsTopic: topic('clipstream.embeddings'),
  /** Publish frame embeddings to the embeddings topic. @defaultValue false */
  publishEmbeddings: z.boolean().default(false),
  /** Consumer group. @defaultValue 'clipstream' */
  group: z.string().min(1).max(255).default('clipstream'),
  /** Kafka client id. @defaultValue 'clipstream' */
  clientId: z.string().min(1).max(255).default('clipstream'),
  /** The only folder file:// sources may be read from; unset = file:// refused in the worker. */
  mediaRoot: z.string().min(1).optional(),
  /** Let network sources reach loopback, private and other non-public addresses. @defaultValue false */
  allowPrivateNetworks: z.boolean().default(false),
  /** Non-public networks that network sources may reach anyway (CIDRs, e.g. 10.20.0.0/16). @defaultValue [] */
  allowedNetworks: z
    .array(
      z.string().refine((c) => ipaddr.isValidCIDR(c), 'must be comma-separated CIDRs (e.g. 10.20.0.0/16)'),
    )
    .default([]),
  /** Create missing topics at start-up. @defaultValue true */
  createTopics: z.boolean().default(true),
  /** Partitions of topics the worker creates. @defaultValue 6 */
  topicPartitions: int(1, 10_000).default(6),
  /** Replication factor of topics the worker creates. @defaultValue 1 */
  topicReplication: int(1, 100).default(1),
  /** Most videos processed at once by one worker. @defaultValue 2 */
  maxVideosInFlight: int(1, 256).default(2),
  /** Most frames of one video between the decoder and the encoder. @defaultValue 32 */
  maxFramesInFlight: int(1, 4096).default(32),
  /** Most bytes of one video's decoded frames in flight (lowers the frame count for large model inputs). @defaultValue 64 MiB */
  maxFrameBytesInFlight: int(1_000_000, 16_000_000_000).default(64 * 1024 * 1024),
  /** Attempts for a retryable fault before the event goes to the DLQ. @defaultValue 5 */
  maxAttempts: int(1, 100).default(5),
  /**
   * Deliveries of one event whose processing ended the worker process (out of memory, a native
   * crash) before the next owner dead-letters it with CLIPSTREAM_WORKER_CRASHED. @defaultValue 3
   */
  crashAttempts: int(1, 100).default(3),
  /** Consumer-group session timeout in ms: how soon a dead worker's partitions move on. @defaultValue 30000 */
  sessionTimeoutMs: int(6000, 300_000).default(30_000),
  /** TEST ONLY: the worker kills itself (SIGKILL) when it starts processing this videoId. */
  testCrashOnVideo: z.string().min(1).optional(),
  /** First retry delay, in milliseconds; doubles per attempt, with jitter. @defaultValue 1000 */
  retryBackoffMs: int(1, 600_000).default(1000),
  /** Longest retry delay, in milliseconds. @defaultValue 30000 */
  retryBackoffMaxMs: int(1, 3_600_000).default(30_000),
  /** On SIGTERM/SIGINT, how long in-flight videos may run on before they are aborted, in ms. @defaultValue 10000 */
  shutdownGraceMs: int(0, 600_000).default(10_000),
  /** Largest message the worker publishes, in bytes (keep below the broker's message.max.bytes). @defaultValue 1000000 */
  maxMessageBytes: int(10_000, 100_000_000).default(1_000_000),
  /** Per-video decode limit, in seconds (ffmpeg is killed past it). @defaultValue 600 */
  decodeTimeoutSec: int(1, 86_400).default(600),
  /** Log level; kafkajs' own lines are passed on at info only with `debug`. @defaultValue 'info' */
  logLevel: z.enum(LEVELS).default('info'),
  // Kafka security for real clusters
  /** Connect with TLS. @defaultValue false */
  ssl: z.boolean().default(false),
  /** PEM file of the CA that signed the brokers' certificates. */
  sslCaFile: z.string().optional(),
  /** Check the brokers' certificates. @defaultValue true */
  sslRejectUnauthorized: z.boolean().default(true),
  /** SASL mechanism; needs saslUsername and saslPassword. */
  saslMechanism: z.enum(['plain', 'scram-sha-256', 'scram-sha-512']).optional(),
  saslUsername: z.string().optional(),
  /** Secret: marked so, and redacted from every log line (log.ts SECRET_KEYS). */
  saslPassword: z.string().optional().meta({ secret: true }),
  // Alerts for videos (design.md 3.6): the live stage's settings, the same schema.
  alertsTopic: liveConfigShape.alertsTopic,
  alertCooldownSec: liveConfigShape.alertCooldownSec,
});

export type IngestOptions = z.output<typeof IngestOptionsSchema>;
export type IngestOptionsInput = z.input<typeof IngestOptionsSchema>;

/** The ingest options of a composed configuration (the other stages' fields left out). */
export function ingestOptionsOf(c: Readonly<IngestOptions>): Readonly<IngestOptions> {
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(IngestOptionsSchema.shape) as (keyof IngestOptions)[]) {
    if (c[k] !== undefined) out[k] = c[k];
  }
  return Object.freeze(out as IngestOptions);
}
