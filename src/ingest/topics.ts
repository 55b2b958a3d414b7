/**
 * Start-up check of the topics the worker reads and writes: missing ones are created (the
 * queries topic compacted) or the process stops with one CLIPSTREAM_TOPIC_MISSING line.
 */
import type { Admin, ITopicConfig } from 'kafkajs';
import { ClipstreamError } from '../errors.js';
import type { Logger } from '../log.js';

export interface TopicRequirement {
  readonly topic: string;
  /** topic-level settings used when the topic is created, e.g. cleanup.policy */
  readonly config?: Readonly<Record<string, string>>;
}

export interface TopicSettings {
  readonly create: boolean;
  readonly partitions: number;
  readonly replication: number;
}

const NOT_ALLOWED = new Set([
  'TOPIC_AUTHORIZATION_FAILED',
  'CLUSTER_AUTHORIZATION_FAILED',
  'INVALID_REPLICATION_FACTOR',
  'INVALID_PARTITIONS',
  'INVALID_CONFIG',
  'POLICY_VIOLATION',
  'INVALID_TOPIC_EXCEPTION',
]);

function errorTypes(err: unknown): string[] {
  const e = err as { type?: string; errors?: unknown[] };
  return [...(e.type ? [e.type] : []), ...(e.errors ?? []).flatMap(errorTypes)];
}

/** Makes sure every required topic exists: creates the missing ones when allowed, else throws CLIPSTREAM_TOPIC_MISSING. */
export async function ensureTopics(
  admin: Admin,
  required: readonly TopicRequirement[],
  settings: TopicSettings,
  log: Logger,
): Promise<void> {
  let existing: Set<string>;
  try {
    existing = new Set(await admin.listTopics());
  } catch (err) {
    throw new ClipstreamError(
      'CLIPSTREAM_KAFKA_UNAVAILABLE',
      `cannot list topics: ${(err as Error).message}`,
      { cause: err },
    );
  }
  const missing = dedupe(required).filter((r) => !existing.has(r.topic));
  if (missing.length === 0) return;
  const names = missing.map((m) => m.topic).join(', ');
  if (!settings.create) {
    throw new ClipstreamError(
      'CLIPSTREAM_TOPIC_MISSING',
      `topic${missing.length > 1 ? 's' : ''} ${names} do${missing.length > 1 ? '' : 'es'} not exist and topic creation is off (CLIPSTREAM_CREATE_TOPICS=false)`,
    );
  }
  const topics: ITopicConfig[] = missing.map((m) => ({
    topic: m.topic,
    numPartitions: settings.partitions,
    replicationFactor: settings.replication,
    configEntries: Object.entries(m.config ?? {}).map(([name, value]) => ({ name, value })),
  }));
  try {
    await admin.createTopics({ topics, waitForLeaders: true });
  } catch (err) {
    const types = errorTypes(err);
    if (types.length > 0 && types.every((t) => t === 'TOPIC_ALREADY_EXISTS')) return; // another worker won the race
    const why = types.find((t) => NOT_ALLOWED.has(t));
    if (why) {
      throw new ClipstreamError(
        'CLIPSTREAM_TOPIC_MISSING',
        `topics ${names} do not exist and could not be created (${why})`,
        {
          cause: err,
        },
      );
    }
    throw new ClipstreamError(
      'CLIPSTREAM_KAFKA_UNAVAILABLE',
      `creating topics ${names} failed: ${(err as Error).message}`,
      {
        cause: err,
      },
    );
  }
  log.info('created topics', {
    topics: missing.map((m) => m.topic),
    partitions: settings.partitions,
    replication: settings.replication,
  });
}

function dedupe(required: readonly TopicRequirement[]): TopicRequirement[] {
  const seen = new Map<string, TopicRequirement>();
  for (const r of required) if (!seen.has(r.topic)) seen.set(r.topic, r);
  return [...seen.values()];
}
