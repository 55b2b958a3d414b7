// Shared pieces of the worker's integration tests: short test videos, the committed model pack,
// a worker configuration on unique topics, reading topics to the end, and a child-process worker.
import { spawn } from 'node:child_process';
import { execFile } from 'node:child_process';
import { createReadStream, existsSync } from 'node:fs';
import { createServer as createHttpServer } from 'node:http';
import { mkdtemp, realpath, rm, stat } from 'node:fs/promises';
import { createServer as createNetServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { Partitioners } from 'kafkajs';
import type { IHeaders, KafkaMessage } from 'kafkajs';
import { spawnCli } from '../../helpers/cli.js';
import type { Child } from '../../helpers/cli.js';
import { openRuntime } from '../../../src/cli/runtime.js';
import { loadConfig } from '../../../src/config.js';
import type { Config } from '../../../src/config.js';
import type { Embedder } from '../../../src/embed/index.js';
import { Worker } from '../../../src/ingest/index.js';
import type { WorkerOptions } from '../../../src/ingest/index.js';
import { createLogger, silentLogger } from '../../../src/log.js';
import type { Logger } from '../../../src/log.js';
import { brokers, kafka, uniqueGroup, uniqueTopic, waitFor } from '../../helpers/kafka.js';

const run = promisify(execFile);
export const ROOT = fileURLToPath(new URL('../../../../', import.meta.url));

/**
 * The committed model pack the tests run: the bundled shapes pack once it is in the repository,
 * else the tiny test pack (the worker tests check plumbing, not what the model sees).
 * TEST_WORKER_MODEL names another pack (e.g. to try a new one before it is committed).
 */
export function testModel(): string {
  if (process.env.TEST_WORKER_MODEL) return process.env.TEST_WORKER_MODEL;
  const bundled = join(ROOT, 'models', 'shapes-v1');
  return existsSync(join(bundled, 'model.json'))
    ? bundled
    : join(ROOT, 'test', 'fixtures', 'packs', 'tiny-openclip');
}

export async function tempDir(prefix: string): Promise<string> {
  // Real path: the media root is compared after resolving symlinks (macOS /tmp, for one).
  return realpath(await mkdtemp(join(tmpdir(), prefix)));
}

export const removeDir = (dir: string) => rm(dir, { recursive: true, force: true });

async function ffmpeg(args: string[]): Promise<void> {
  await run('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-y', ...args], { timeout: 120_000 });
}

/** A short H.264 test clip (ffmpeg's testsrc2 pattern, or a solid colour). */
export async function makeClip(
  path: string,
  o: { seconds?: number; width?: number; height?: number; color?: string; faststart?: boolean } = {},
): Promise<string> {
  const size = `${o.width ?? 160}x${o.height ?? 90}`;
  const src = o.color ? `color=c=${o.color}:size=${size}:rate=10` : `testsrc2=size=${size}:rate=10`;
  await ffmpeg([
    '-f',
    'lavfi',
    '-i',
    src,
    '-t',
    String(o.seconds ?? 2),
    '-pix_fmt',
    'yuv420p',
    '-c:v',
    'libx264',
    '-preset',
    'ultrafast',
    ...(o.faststart ? ['-movflags', '+faststart'] : []),
    path,
  ]);
  return path;
}

export async function makeAudioOnly(path: string): Promise<string> {
  await ffmpeg(['-f', 'lavfi', '-i', 'sine=duration=1', '-c:a', 'aac', path]);
  return path;
}

let shared: Promise<Embedder> | undefined;
/** One model for every in-process worker of a test file (they share its frame batcher). */
export function sharedEmbedder(): Promise<Embedder> {
  shared ??= openRuntime(
    { model: testModel(), device: 'cpu', threads: 1, batchSize: 8, batchWaitMs: 5 },
    silentLogger,
  );
  return shared;
}

export async function closeSharedEmbedder(): Promise<void> {
  if (shared) await (await shared).close();
  shared = undefined;
}

/** Unique topic and group names for one test. */
export function names(prefix: string) {
  return {
    inputTopic: uniqueTopic(`${prefix}-videos`),
    outputTopic: uniqueTopic(`${prefix}-results`),
    dlqTopic: uniqueTopic(`${prefix}-dlq`),
    queriesTopic: uniqueTopic(`${prefix}-queries`),
    embeddingsTopic: uniqueTopic(`${prefix}-embeddings`),
    group: uniqueGroup(`${prefix}-group`),
  };
}
export type Names = ReturnType<typeof names>;

/** Worker configuration for tests: the test broker, quick retries, no HTTP port. */
export function testConfig(
  n: Names,
  overrides: Partial<Record<keyof Config, unknown>> = {},
): Readonly<Config> {
  return loadConfig(
    {
      brokers: brokers().join(','),
      ...n,
      model: testModel(),
      device: 'cpu',
      threads: 1,
      topicPartitions: 3,
      httpPort: 0,
      retryBackoffMs: 20,
      retryBackoffMaxMs: 200,
      shutdownGraceMs: 5000,
      logLevel: process.env.TEST_WORKER_LOG ? 'debug' : 'error',
      ...overrides,
    },
    {},
  );
}

export function testLogger(name: string): Logger {
  const level = process.env.TEST_WORKER_LOG ? 'debug' : 'error';
  return createLogger({ level, format: 'text', base: { worker: name } });
}

export async function startWorker(
  config: Readonly<Config>,
  name = 'w',
  extra: Partial<WorkerOptions> = {},
): Promise<Worker> {
  return Worker.start({
    config,
    embedder: await sharedEmbedder(),
    log: testLogger(name),
    heartbeatMs: 500,
    ...extra,
  });
}

export interface Sent {
  /** explicit partition; default: by key */
  partition?: number;
  key: string | null;
  value: string | Buffer | null;
  headers?: IHeaders;
}

/** Produces messages (idempotent, acks all) and waits for the acknowledgement. */
export async function produce(topic: string, messages: Sent[], brokerList?: string[]): Promise<void> {
  const producer = kafka(brokerList ? { brokers: brokerList } : {}).producer({
    idempotent: true,
    maxInFlightRequests: 1,
    createPartitioner: Partitioners.DefaultPartitioner,
  });
  await producer.connect();
  try {
    await producer.send({ topic, acks: -1, messages });
  } finally {
    await producer.disconnect();
  }
}

export function videoEvent(videoId: string, uri: string, extra: Record<string, unknown> = {}): Sent {
  return {
    key: videoId,
    value: JSON.stringify({
      schema: 'clipstream.video.v1',
      videoId,
      uri,
      sampling: { strategy: 'fps', fps: 1 },
      ...extra,
    }),
  };
}

export interface Read {
  partition: number;
  offset: string;
  key: string | null;
  value: Buffer | null;
  headers: IHeaders;
}

/**
 * Reads a topic from the beginning with a throwaway group until `done(records)` holds, then
 * returns everything read. Fails after `timeoutMs`.
 */
export async function readUntil(
  topic: string,
  done: (records: Read[]) => boolean,
  timeoutMs = 120_000,
  brokerList?: string[],
): Promise<Read[]> {
  const consumer = kafka(brokerList ? { brokers: brokerList } : {}).consumer({
    groupId: uniqueGroup('reader'),
    maxWaitTimeInMs: 200,
  });
  const records: Read[] = [];
  await consumer.connect();
  try {
    await consumer.subscribe({ topics: [topic], fromBeginning: true });
    await consumer.run({
      autoCommit: false,
      eachMessage: async ({ partition, message }: { partition: number; message: KafkaMessage }) => {
        records.push({
          partition,
          offset: message.offset,
          key: message.key?.toString() ?? null,
          value: message.value,
          headers: message.headers ?? {},
        });
      },
    });
    await waitFor(() => done(records), timeoutMs, `records on ${topic} (have ${records.length})`, 200);
    return records;
  } finally {
    await consumer.disconnect();
  }
}

export const json = <T = Record<string, unknown>>(r: Read): T =>
  JSON.parse(r.value?.toString() ?? 'null') as T;

/** Every partition's committed offset for the group equals the topic's end: nothing left behind. */
export async function committedToEnd(group: string, topic: string, brokerList?: string[]): Promise<boolean> {
  const admin = kafka(brokerList ? { brokers: brokerList } : {}).admin();
  await admin.connect();
  try {
    const ends = await admin.fetchTopicOffsets(topic);
    const [committed] = await admin.fetchOffsets({ groupId: group, topics: [topic] });
    return ends.every((e) => {
      const c = committed?.partitions.find((p) => p.partition === e.partition)?.offset ?? '-1';
      return e.high === '0' ? c === '-1' || c === '0' : c === e.high;
    });
  } finally {
    await admin.disconnect();
  }
}

export type ChildWorker = Child;

/** `node bin/clipstream.js worker` with the configuration in its environment. */
export function spawnWorker(config: Readonly<Config>, env: Record<string, string> = {}): ChildWorker {
  return spawnCli(['worker'], {
    CLIPSTREAM_BROKERS: config.brokers.join(','),
    CLIPSTREAM_INPUT_TOPIC: config.inputTopic,
    CLIPSTREAM_OUTPUT_TOPIC: config.outputTopic,
    CLIPSTREAM_DLQ_TOPIC: config.dlqTopic,
    CLIPSTREAM_QUERIES_TOPIC: config.queriesTopic,
    CLIPSTREAM_GROUP: config.group,
    CLIPSTREAM_MODEL: config.model ?? testModel(),
    CLIPSTREAM_DEVICE: 'cpu',
    CLIPSTREAM_THREADS: '1',
    CLIPSTREAM_TOPIC_PARTITIONS: String(config.topicPartitions),
    CLIPSTREAM_HTTP_PORT: String(config.httpPort),
    CLIPSTREAM_LOG_LEVEL: 'info',
    ...(config.mediaRoot ? { CLIPSTREAM_MEDIA_ROOT: config.mediaRoot } : {}),
    ...env,
  });
}

/** Structured log lines of a child worker. */
export function logLines(stderr: string): Record<string, unknown>[] {
  return stderr
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => {
      try {
        return JSON.parse(l) as Record<string, unknown>;
      } catch {
        return {};
      }
    });
}

export async function waitForLog(w: ChildWorker, msg: string, timeoutMs = 120_000): Promise<void> {
  await waitFor(
    () => logLines(w.stderr()).some((l) => l.msg === msg),
    timeoutMs,
    `log line '${msg}'\n${w.stderr().slice(-3000)}`,
    100,
  );
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createNetServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const address = srv.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

/** GET on the worker's HTTP port: status and body. */
export async function httpGet(port: number, path: string): Promise<{ status: number; body: string }> {
  const res = await fetch(`http://127.0.0.1:${port}${path}`);
  return { status: res.status, body: await res.text() };
}

/** Runs `node bin/clipstream.js ...args` to the end. */
export function runCli(
  args: string[],
  env: Record<string, string> = {},
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [join(ROOT, 'bin', 'clipstream.js'), ...args], {
      cwd: ROOT,
      env: {
        PATH: process.env.PATH ?? '',
        HOME: process.env.HOME ?? '',
        TMPDIR: process.env.TMPDIR ?? '',
        ...env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

/**
 * A loopback HTTP server that answers every request with `file`, except the requests `stall`
 * picks: those are left hanging (ffmpeg times out on them, or they wait for a test to let go).
 */
export async function serveClip(
  file: string,
  stall: (url: string) => boolean = () => false,
): Promise<{ base: string; close(): Promise<void> }> {
  const server = createHttpServer((req, res) => {
    if (stall(req.url ?? '')) return;
    void stat(file).then((st) => {
      res.writeHead(200, { 'content-type': 'video/mp4', 'content-length': st.size });
      createReadStream(file).pipe(res);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    base: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}
