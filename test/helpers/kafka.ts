// Helpers for integration tests against the real broker that scripts/run-tests.mjs starts with
// scripts/kafka.sh (KAFKA_BROKERS), plus extra brokers of their own for tests that stop one.
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { Kafka, logLevel } from 'kafkajs';
import type { Admin, Consumer, ITopicConfig, KafkaConfig } from 'kafkajs';

const run = promisify(execFile);

/** Broker list from KAFKA_BROKERS (comma separated); fails loudly when it is missing. */
export function brokers(): string[] {
  const raw = process.env.KAFKA_BROKERS?.trim();
  if (!raw) {
    throw new Error(
      'KAFKA_BROKERS is not set: run integration tests with `node scripts/run-tests.mjs integration`, ' +
        'or start a broker with scripts/kafka.sh and export KAFKA_BROKERS=127.0.0.1:9092',
    );
  }
  return raw
    .split(',')
    .map((b) => b.trim())
    .filter((b) => b.length > 0);
}

/** kafkajs log level for tests: NOTHING unless KAFKA_LOG_LEVEL names another (ERROR, WARN, INFO, DEBUG). */
export function testLogLevel(): logLevel {
  const name = process.env.KAFKA_LOG_LEVEL?.toUpperCase();
  switch (name) {
    case 'ERROR':
      return logLevel.ERROR;
    case 'WARN':
      return logLevel.WARN;
    case 'INFO':
      return logLevel.INFO;
    case 'DEBUG':
      return logLevel.DEBUG;
    default:
      return logLevel.NOTHING;
  }
}

/** A kafkajs client for tests: the test brokers, quiet logging, a unique client id. */
export function kafka(overrides: Partial<KafkaConfig> = {}): Kafka {
  return new Kafka({
    clientId: uniqueName('test-client'),
    brokers: brokers(),
    logLevel: testLogLevel(),
    ...overrides,
  });
}

let counter = 0;

/** A name no other test (or test run) uses: legal as a Kafka topic or group id. */
export function uniqueName(prefix: string): string {
  counter += 1;
  const clean = prefix.replace(/[^a-zA-Z0-9._-]/g, '-');
  return `${clean}-${process.pid}-${Date.now().toString(36)}-${counter}-${randomBytes(3).toString('hex')}`;
}

export const uniqueTopic = (prefix = 'topic'): string => uniqueName(prefix);
export const uniqueGroup = (prefix = 'group'): string => uniqueName(prefix);

/** The topics a worker with live streams uses, each unique to the test. */
export interface LiveTopics {
  input: string;
  output: string;
  dlq: string;
  queries: string;
  streams: string;
  alerts: string;
}

export function liveTopics(prefix: string): LiveTopics {
  return {
    input: uniqueTopic(`${prefix}-in`),
    output: uniqueTopic(`${prefix}-out`),
    dlq: uniqueTopic(`${prefix}-dlq`),
    queries: uniqueTopic(`${prefix}-q`),
    streams: uniqueTopic(`${prefix}-streams`),
    alerts: uniqueTopic(`${prefix}-alerts`),
  };
}

/** The brokers and the topic settings of a worker process on `t`. */
export function liveTopicEnv(t: LiveTopics): Record<string, string> {
  return {
    CLIPSTREAM_BROKERS: brokers().join(','),
    CLIPSTREAM_INPUT_TOPIC: t.input,
    CLIPSTREAM_OUTPUT_TOPIC: t.output,
    CLIPSTREAM_DLQ_TOPIC: t.dlq,
    CLIPSTREAM_QUERIES_TOPIC: t.queries,
    CLIPSTREAM_STREAMS_TOPIC: t.streams,
    CLIPSTREAM_ALERTS_TOPIC: t.alerts,
  };
}

async function withAdmin<T>(brokerList: string[] | undefined, fn: (admin: Admin) => Promise<T>): Promise<T> {
  const admin = kafka(brokerList ? { brokers: brokerList } : {}).admin();
  await admin.connect();
  try {
    return await fn(admin);
  } finally {
    await admin.disconnect();
  }
}

export interface TopicSpec {
  topic: string;
  /** default 1 */
  numPartitions?: number;
  /** topic-level configs, e.g. { 'cleanup.policy': 'compact' } */
  config?: Record<string, string>;
}

/** Creates topics (replication factor 1) and waits until every partition has a leader. */
export async function createTopics(
  topics: Array<string | TopicSpec>,
  options: { brokers?: string[] } = {},
): Promise<void> {
  const specs: ITopicConfig[] = topics.map((t) => {
    const spec: TopicSpec = typeof t === 'string' ? { topic: t } : t;
    return {
      topic: spec.topic,
      numPartitions: spec.numPartitions ?? 1,
      replicationFactor: 1,
      configEntries: Object.entries(spec.config ?? {}).map(([name, value]) => ({ name, value })),
    };
  });
  await withAdmin(options.brokers, async (admin) => {
    await admin.createTopics({ topics: specs, waitForLeaders: true });
  });
}

/** Deletes topics; topics that do not exist are not an error (cleanup must not mask a failure). */
export async function deleteTopics(topics: string[], options: { brokers?: string[] } = {}): Promise<void> {
  await withAdmin(options.brokers, async (admin) => {
    const existing = new Set(await admin.listTopics());
    const doomed = topics.filter((t) => existing.has(t));
    if (doomed.length > 0) await admin.deleteTopics({ topics: doomed });
  });
}

/**
 * Resolves once `predicate` returns true (it may be async); rejects after `timeoutMs` with
 * `message`. A predicate that throws is treated as "not yet" until the deadline.
 */
export async function waitFor(
  predicate: () => boolean | Promise<boolean>,
  timeoutMs = 30_000,
  message = 'condition',
  intervalMs = 100,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      if (await predicate()) return;
    } catch (err) {
      lastError = err;
    }
    if (Date.now() >= deadline) {
      const why = lastError instanceof Error ? ` (last error: ${lastError.message})` : '';
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${message}${why}`);
    }
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

function kafkaScript(): string {
  // Works from test/helpers (sources) and dist/test/helpers (compiled).
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 5; i++) {
    const candidate = join(dir, 'scripts', 'kafka.sh');
    if (existsSync(candidate)) return candidate;
    dir = dirname(dir);
  }
  throw new Error('scripts/kafka.sh not found above ' + dirname(fileURLToPath(import.meta.url)));
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const address = srv.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

async function kafkaSh(command: 'start' | 'stop', port: number, keepData: boolean): Promise<void> {
  try {
    await run(kafkaScript(), [command], {
      env: { ...process.env, KAFKA_PORT: String(port), KAFKA_KEEP_DATA: keepData ? '1' : '0' },
      timeout: 180_000,
      maxBuffer: 4 * 1024 * 1024,
    });
  } catch (err) {
    const stderr = (err as { stderr?: string }).stderr ?? '';
    throw new Error(`scripts/kafka.sh ${command} on port ${port} failed:\n${stderr.slice(-4000)}`, {
      cause: err,
    });
  }
}

export interface ExtraBroker {
  readonly port: number;
  /** e.g. ['127.0.0.1:41234'] */
  readonly brokers: string[];
}

/**
 * Starts a broker of the test's own on a free port (or `port`, e.g. to bring a stopped one back).
 * With `keepData`, a data directory kept by `stopExtraBroker(b, { keepData: true })` is reused,
 * so topics, records and committed offsets survive the restart.
 */
export async function startExtraBroker(
  options: { keepData?: boolean; port?: number } = {},
): Promise<ExtraBroker> {
  const port = options.port ?? (await freePort());
  await kafkaSh('start', port, options.keepData ?? false);
  return { port, brokers: [`127.0.0.1:${port}`] };
}

/** Stops an extra broker; its data is removed unless `keepData`. Safe to call twice. */
export async function stopExtraBroker(
  broker: ExtraBroker,
  options: { keepData?: boolean } = {},
): Promise<void> {
  await kafkaSh('stop', broker.port, options.keepData ?? false);
}

/** Stops the broker keeping its data and starts it again on the same port. */
export async function restartExtraBroker(broker: ExtraBroker): Promise<ExtraBroker> {
  await stopExtraBroker(broker, { keepData: true });
  return startExtraBroker({ port: broker.port, keepData: true });
}

/** A JSON message as a follower saw it, with its arrival time. */
export interface Seen<T> {
  at: number;
  doc: T;
}

/** Reads `topic` from the beginning in a group of its own, pushing every JSON value into `into`. */
export async function follow<T>(topic: string, into: Seen<T>[]): Promise<Consumer> {
  const c = kafka().consumer({ groupId: uniqueGroup('follow'), maxWaitTimeInMs: 200 });
  await c.connect();
  await c.subscribe({ topics: [topic], fromBeginning: true });
  await c.run({
    eachMessage: async ({ message }) => {
      if (message.value) into.push({ at: Date.now(), doc: JSON.parse(message.value.toString()) as T });
    },
  });
  return c;
}
