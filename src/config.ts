import ipaddr from 'ipaddr.js';
import { z } from 'zod';
import { ClipstreamError } from './errors.js';
import { DEFAULT_MATCH_OPTIONS } from './match/index.js';
import type { MatchOptions } from './match/index.js';
import { LIVE_ENV_NAMES, liveConfigShape } from './live/options.js';

/**
 * Process configuration (design.md 3.4): flags override environment variables, which override
 * these defaults. Parsed once at start-up; a bad value stops the process with one line naming
 * the setting.
 */
const bool = z
  .union([z.boolean(), z.enum(['true', 'false', '1', '0', 'yes', 'no'])])
  .transform((v) => v === true || v === 'true' || v === '1' || v === 'yes');
const intFrom = (min: number, max: number) => z.coerce.number().int().min(min).max(max);

export const ConfigSchema = z.object({
  /** Kafka bootstrap servers, comma separated host:port. Default 127.0.0.1:9092. */
  brokers: z
    .string()
    .default('127.0.0.1:9092')
    .transform((s) =>
      s
        .split(',')
        .map((b) => b.trim())
        .filter(Boolean),
    )
    .pipe(z.array(z.string().regex(/^[^\s:]+:\d{1,5}$/, 'must be host:port')).min(1)),
  inputTopic: z.string().min(1).max(249).default('clipstream.videos'),
  outputTopic: z.string().min(1).max(249).default('clipstream.results'),
  dlqTopic: z.string().min(1).max(249).default('clipstream.videos.dlq'),
  queriesTopic: z.string().min(1).max(249).default('clipstream.queries'),
  embeddingsTopic: z.string().min(1).max(249).default('clipstream.embeddings'),
  /** Publish frame embeddings to the embeddings topic. Default false. */
  publishEmbeddings: bool.default(false),
  group: z.string().min(1).max(255).default('clipstream'),
  clientId: z.string().min(1).max(255).default('clipstream'),
  /** Model pack folder; default: the bundled pack. */
  model: z.string().min(1).optional(),
  device: z.enum(['auto', 'cpu', 'cuda']).default('auto'),
  /** ONNX Runtime intra-op threads (0 = one per core). */
  threads: intFrom(0, 1024).default(0),
  /** The only folder file:// sources may be read from; unset = file:// refused in the worker. */
  mediaRoot: z.string().min(1).optional(),
  /** Let network sources reach loopback, private and other non-public addresses. Default false. */
  allowPrivateNetworks: bool.default(false),
  /** Non-public networks network sources may reach anyway: comma-separated CIDRs. Default none. */
  allowedNetworks: z
    .union([z.string(), z.array(z.string())])
    .default([])
    .transform((v) =>
      (typeof v === 'string' ? v.split(',') : v).map((c) => c.trim()).filter((c) => c.length > 0),
    )
    .pipe(
      z.array(
        z.string().refine((c) => ipaddr.isValidCIDR(c), 'must be comma-separated CIDRs (e.g. 10.20.0.0/16)'),
      ),
    ),
  /** Create missing topics at start-up. */
  createTopics: bool.default(true),
  topicPartitions: intFrom(1, 10000).default(6),
  topicReplication: intFrom(1, 100).default(1),
  /** Most videos processed at once by one worker. */
  maxVideosInFlight: intFrom(1, 256).default(2),
  /** Most frames of one video between the decoder and the encoder. */
  maxFramesInFlight: intFrom(1, 4096).default(32),
  batchSize: intFrom(1, 1024).default(16),
  batchWaitMs: intFrom(0, 10000).default(10),
  /** Attempts for a retryable fault before the event goes to the DLQ. */
  maxAttempts: intFrom(1, 100).default(5),
  /** First retry delay in milliseconds; doubles per attempt, with jitter. Default 1000. */
  retryBackoffMs: intFrom(1, 600_000).default(1000),
  /** Longest retry delay in milliseconds. Default 30000. */
  retryBackoffMaxMs: intFrom(1, 3_600_000).default(30_000),
  /** On SIGTERM/SIGINT, how long in-flight videos may run on before they are aborted, in ms. Default 10000. */
  shutdownGraceMs: intFrom(0, 600_000).default(10_000),
  /** Largest message the worker publishes, in bytes (keep below the broker's message.max.bytes). Default 1000000. */
  maxMessageBytes: intFrom(10_000, 100_000_000).default(1_000_000),
  /** Per-video decode limit, in seconds (ffmpeg is killed past it). */
  decodeTimeoutSec: intFrom(1, 86400).default(600),
  // Matching thresholds (docs/matching.md); unset = the defaults of src/match/options.ts.
  /** Smoothed probability a frame needs to be part of a moment, 0..1. */
  momentThreshold: z.coerce.number().min(0).max(1).optional(),
  /** Video-level score a query needs for `matched`, 0..1. */
  matchThreshold: z.coerce.number().min(0).max(1).optional(),
  /** Temporal smoothing window, seconds. */
  smoothingSec: z.coerce.number().min(0).max(60).optional(),
  /** Gaps shorter than this between moments are merged, seconds. */
  mergeGapSec: z.coerce.number().min(0).max(600).optional(),
  /** Moments shorter than this are dropped, seconds. */
  minMomentSec: z.coerce.number().min(0).max(600).optional(),
  /** Weight of word-level against sentence-level evidence, 0..1. */
  wordWeight: z.coerce.number().min(0).max(1).optional(),
  /** Cost of changing caption between consecutive frames (log-probability units). */
  captionSwitchPenalty: z.coerce.number().min(0).max(100).optional(),
  /** HTTP port for /healthz, /readyz and /metrics; 0 disables. */
  httpPort: intFrom(0, 65535).default(9464),
  logLevel: z.enum(['debug', 'info', 'warn', 'error']).default('info'),
  logFormat: z.enum(['json', 'text']).default('json'),
  // Kafka security for real clusters
  ssl: bool.default(false),
  sslCaFile: z.string().optional(),
  sslRejectUnauthorized: bool.default(true),
  saslMechanism: z.enum(['plain', 'scram-sha-256', 'scram-sha-512']).optional(),
  saslUsername: z.string().optional(),
  saslPassword: z.string().optional(),
  // Live streams (src/live/options.ts, docs/live.md)
  ...liveConfigShape,
});

export type Config = z.infer<typeof ConfigSchema>;
type ConfigKey = keyof Config;

/** Environment variable of each setting. */
export const ENV_NAMES: Record<ConfigKey, string> = {
  brokers: 'CLIPSTREAM_BROKERS',
  inputTopic: 'CLIPSTREAM_INPUT_TOPIC',
  outputTopic: 'CLIPSTREAM_OUTPUT_TOPIC',
  dlqTopic: 'CLIPSTREAM_DLQ_TOPIC',
  queriesTopic: 'CLIPSTREAM_QUERIES_TOPIC',
  embeddingsTopic: 'CLIPSTREAM_EMBEDDINGS_TOPIC',
  publishEmbeddings: 'CLIPSTREAM_PUBLISH_EMBEDDINGS',
  group: 'CLIPSTREAM_GROUP',
  clientId: 'CLIPSTREAM_CLIENT_ID',
  model: 'CLIPSTREAM_MODEL',
  device: 'CLIPSTREAM_DEVICE',
  threads: 'CLIPSTREAM_THREADS',
  mediaRoot: 'CLIPSTREAM_MEDIA_ROOT',
  allowPrivateNetworks: 'CLIPSTREAM_ALLOW_PRIVATE_NETWORKS',
  allowedNetworks: 'CLIPSTREAM_ALLOWED_NETWORKS',
  createTopics: 'CLIPSTREAM_CREATE_TOPICS',
  topicPartitions: 'CLIPSTREAM_TOPIC_PARTITIONS',
  topicReplication: 'CLIPSTREAM_TOPIC_REPLICATION',
  maxVideosInFlight: 'CLIPSTREAM_MAX_VIDEOS_IN_FLIGHT',
  maxFramesInFlight: 'CLIPSTREAM_MAX_FRAMES_IN_FLIGHT',
  batchSize: 'CLIPSTREAM_BATCH_SIZE',
  batchWaitMs: 'CLIPSTREAM_BATCH_WAIT_MS',
  maxAttempts: 'CLIPSTREAM_MAX_ATTEMPTS',
  retryBackoffMs: 'CLIPSTREAM_RETRY_BACKOFF_MS',
  retryBackoffMaxMs: 'CLIPSTREAM_RETRY_BACKOFF_MAX_MS',
  shutdownGraceMs: 'CLIPSTREAM_SHUTDOWN_GRACE_MS',
  maxMessageBytes: 'CLIPSTREAM_MAX_MESSAGE_BYTES',
  decodeTimeoutSec: 'CLIPSTREAM_DECODE_TIMEOUT_SEC',
  momentThreshold: 'CLIPSTREAM_MOMENT_THRESHOLD',
  matchThreshold: 'CLIPSTREAM_MATCH_THRESHOLD',
  smoothingSec: 'CLIPSTREAM_SMOOTHING_SEC',
  mergeGapSec: 'CLIPSTREAM_MERGE_GAP_SEC',
  minMomentSec: 'CLIPSTREAM_MIN_MOMENT_SEC',
  wordWeight: 'CLIPSTREAM_WORD_WEIGHT',
  captionSwitchPenalty: 'CLIPSTREAM_CAPTION_SWITCH_PENALTY',
  httpPort: 'CLIPSTREAM_HTTP_PORT',
  logLevel: 'CLIPSTREAM_LOG_LEVEL',
  logFormat: 'CLIPSTREAM_LOG_FORMAT',
  ssl: 'CLIPSTREAM_KAFKA_SSL',
  sslCaFile: 'CLIPSTREAM_KAFKA_SSL_CA_FILE',
  sslRejectUnauthorized: 'CLIPSTREAM_KAFKA_SSL_REJECT_UNAUTHORIZED',
  saslMechanism: 'CLIPSTREAM_KAFKA_SASL_MECHANISM',
  saslUsername: 'CLIPSTREAM_KAFKA_SASL_USERNAME',
  saslPassword: 'CLIPSTREAM_KAFKA_SASL_PASSWORD',
  ...LIVE_ENV_NAMES,
};

/**
 * Builds the configuration from flags (already parsed, keyed by setting name) over the
 * environment. Throws CLIPSTREAM_BAD_CONFIG naming the flag or variable that is wrong.
 */
export function loadConfig(
  flags: Partial<Record<ConfigKey, unknown>> = {},
  env: NodeJS.ProcessEnv = process.env,
): Readonly<Config> {
  const input: Record<string, unknown> = {};
  const origin: Record<string, string> = {};
  for (const key of Object.keys(ENV_NAMES) as ConfigKey[]) {
    const envName = ENV_NAMES[key];
    if (flags[key] !== undefined) {
      input[key] = flags[key];
      origin[key] = `--${key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
    } else if (env[envName] !== undefined && env[envName] !== '') {
      input[key] = env[envName];
      origin[key] = envName;
    }
  }
  const parsed = ConfigSchema.safeParse(input);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const key = String(issue.path[0] ?? '');
    const name = origin[key] ?? ENV_NAMES[key as ConfigKey] ?? key;
    throw new ClipstreamError('CLIPSTREAM_BAD_CONFIG', `${name}: ${issue.message}`);
  }
  const c = parsed.data;
  if (c.saslMechanism && (!c.saslUsername || !c.saslPassword)) {
    throw new ClipstreamError(
      'CLIPSTREAM_BAD_CONFIG',
      `${ENV_NAMES.saslMechanism} needs ${ENV_NAMES.saslUsername} and ${ENV_NAMES.saslPassword}`,
    );
  }
  return Object.freeze(c);
}

/** The matching settings of a configuration: its overrides over the matcher's defaults. */
export function matchOptionsOf(c: Readonly<Config>): MatchOptions {
  const picked: Partial<MatchOptions> = {};
  for (const k of MATCH_KEYS) {
    const v = c[k];
    if (v !== undefined) picked[k] = v;
  }
  return Object.freeze({ ...DEFAULT_MATCH_OPTIONS, ...picked });
}

const MATCH_KEYS = [
  'momentThreshold',
  'matchThreshold',
  'smoothingSec',
  'mergeGapSec',
  'minMomentSec',
  'wordWeight',
  'captionSwitchPenalty',
] as const satisfies readonly (keyof Config & keyof MatchOptions)[];
