import { z } from 'zod';
import { EmbedOptionsSchema } from './embed/options.js';
import { ClipstreamError } from './errors.js';
import { IngestOptionsSchema } from './ingest/options.js';
import { DEFAULT_MATCH_OPTIONS, MatchOptionsSchema } from './match/index.js';
import type { MatchOptions } from './match/index.js';
import { LIVE_ENV_NAMES, liveConfigShape } from './live/options.js';

/**
 * Process configuration (design.md 3.4): flags override environment variables, which override
 * the defaults. Composed from the stages' own schemas (ingest/options.ts, embed/options.ts,
 * match/options.ts), which hold every range, default and unit; this file only says how a
 * setting is spelled in the environment and reads strings from there. Parsed once at start-up;
 * a bad value stops the process with one line naming the setting.
 */
const toBool = (v: unknown): unknown => {
  if (typeof v !== 'string') return v;
  if (['true', '1', 'yes'].includes(v)) return true;
  if (['false', '0', 'no'].includes(v)) return false;
  return v;
};
const toNumber = (v: unknown): unknown => (typeof v === 'string' && v.trim() !== '' ? Number(v) : v);
const toList = (v: unknown): unknown =>
  typeof v === 'string'
    ? v
        .split(',')
        .map((b) => b.trim())
        .filter(Boolean)
    : v;
/** A stage's numeric field, read from a string too. */
const num = <T extends z.ZodType>(s: T) => z.preprocess(toNumber, s);
/** A stage's boolean field, read from true/false, 1/0, yes/no too. */
const flag = <T extends z.ZodType>(s: T) => z.preprocess(toBool, s);
/** A matcher threshold: unset = the matcher's default. */
const matchOverride = <T extends z.ZodType>(s: z.ZodDefault<T>) => num(s.unwrap()).optional();

const ingest = IngestOptionsSchema.shape;
const embed = EmbedOptionsSchema.shape;
const match = MatchOptionsSchema.shape;
const live = liveConfigShape;

export const ConfigSchema = z.object({
  brokers: z.preprocess(toList, ingest.brokers),
  inputTopic: ingest.inputTopic,
  outputTopic: ingest.outputTopic,
  dlqTopic: ingest.dlqTopic,
  queriesTopic: ingest.queriesTopic,
  embeddingsTopic: ingest.embeddingsTopic,
  publishEmbeddings: flag(ingest.publishEmbeddings),
  group: ingest.group,
  clientId: ingest.clientId,
  model: embed.model,
  device: embed.device,
  threads: num(embed.threads),
  encoderLanes: num(embed.encoderLanes),
  mediaRoot: ingest.mediaRoot,
  allowPrivateNetworks: flag(ingest.allowPrivateNetworks),
  allowedNetworks: z.preprocess(toList, ingest.allowedNetworks),
  createTopics: flag(ingest.createTopics),
  topicPartitions: num(ingest.topicPartitions),
  topicReplication: num(ingest.topicReplication),
  maxVideosInFlight: num(ingest.maxVideosInFlight),
  maxFramesInFlight: num(ingest.maxFramesInFlight),
  maxFrameBytesInFlight: num(ingest.maxFrameBytesInFlight),
  batchSize: num(embed.batchSize),
  batchWaitMs: num(embed.batchWaitMs),
  maxAttempts: num(ingest.maxAttempts),
  crashAttempts: num(ingest.crashAttempts),
  sessionTimeoutMs: num(ingest.sessionTimeoutMs),
  testCrashOnVideo: ingest.testCrashOnVideo,
  retryBackoffMs: num(ingest.retryBackoffMs),
  retryBackoffMaxMs: num(ingest.retryBackoffMaxMs),
  shutdownGraceMs: num(ingest.shutdownGraceMs),
  maxMessageBytes: num(ingest.maxMessageBytes),
  decodeTimeoutSec: num(ingest.decodeTimeoutSec),
  // Matching thresholds (docs/matching.md); unset = the defaults of src/match/options.ts.
  momentThreshold: matchOverride(match.momentThreshold),
  matchThreshold: matchOverride(match.matchThreshold),
  smoothingSec: matchOverride(match.smoothingSec),
  mergeGapSec: matchOverride(match.mergeGapSec),
  minMomentSec: matchOverride(match.minMomentSec),
  wordWeight: matchOverride(match.wordWeight),
  captionSwitchPenalty: matchOverride(match.captionSwitchPenalty),
  /** HTTP port for /healthz, /readyz and /metrics; 0 disables. @defaultValue 9464 */
  httpPort: num(z.number().int().min(0).max(65535).default(9464)),
  logLevel: ingest.logLevel,
  /** `json`: one JSON object per line (the worker); `text`: short human lines. @defaultValue 'json' */
  logFormat: z.enum(['json', 'text']).default('json'),
  // Kafka security for real clusters
  ssl: flag(ingest.ssl),
  sslCaFile: ingest.sslCaFile,
  sslRejectUnauthorized: flag(ingest.sslRejectUnauthorized),
  saslMechanism: ingest.saslMechanism,
  saslUsername: ingest.saslUsername,
  saslPassword: ingest.saslPassword,
  // Live streams (src/live/options.ts, docs/live.md)
  streamsTopic: live.streamsTopic,
  alertsTopic: live.alertsTopic,
  maxStreams: num(live.maxStreams),
  streamsSessionTimeoutMs: num(live.streamsSessionTimeoutMs),
  alertCooldownSec: num(live.alertCooldownSec),
  streamStallSec: num(live.streamStallSec),
  streamReconnects: num(live.streamReconnects),
  windowSec: num(live.windowSec),
  allowRtspUdp: flag(live.allowRtspUdp),
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
  encoderLanes: 'CLIPSTREAM_ENCODER_LANES',
  mediaRoot: 'CLIPSTREAM_MEDIA_ROOT',
  allowPrivateNetworks: 'CLIPSTREAM_ALLOW_PRIVATE_NETWORKS',
  allowedNetworks: 'CLIPSTREAM_ALLOWED_NETWORKS',
  createTopics: 'CLIPSTREAM_CREATE_TOPICS',
  topicPartitions: 'CLIPSTREAM_TOPIC_PARTITIONS',
  topicReplication: 'CLIPSTREAM_TOPIC_REPLICATION',
  maxVideosInFlight: 'CLIPSTREAM_MAX_VIDEOS_IN_FLIGHT',
  maxFramesInFlight: 'CLIPSTREAM_MAX_FRAMES_IN_FLIGHT',
  maxFrameBytesInFlight: 'CLIPSTREAM_MAX_FRAME_BYTES_IN_FLIGHT',
  batchSize: 'CLIPSTREAM_BATCH_SIZE',
  batchWaitMs: 'CLIPSTREAM_BATCH_WAIT_MS',
  maxAttempts: 'CLIPSTREAM_MAX_ATTEMPTS',
  crashAttempts: 'CLIPSTREAM_CRASH_ATTEMPTS',
  sessionTimeoutMs: 'CLIPSTREAM_SESSION_TIMEOUT_MS',
  testCrashOnVideo: 'CLIPSTREAM_TEST_CRASH_ON_VIDEO',
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

/** The matcher thresholds a configuration may override (unset = the matcher's default). */
export type MatchOverrides = Partial<Pick<Config, (typeof MATCH_KEYS)[number]>>;

/** The matching settings of a configuration: its overrides over the matcher's defaults. */
export function matchOptionsOf(c: Readonly<MatchOverrides>): MatchOptions {
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
