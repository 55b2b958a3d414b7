import { randomBytes } from 'node:crypto';
import { loadConfig } from '../config.js';
import { ClipstreamError } from '../errors.js';
import { createKafka, retryKafka } from '../ingest/index.js';
import { createLogger, silentLogger } from '../log.js';
import { parse } from './common.js';
import { RESULTS, usage } from './flags.js';

const OPTIONS = RESULTS.flags;

export const RESULTS_USAGE = usage(RESULTS);

export async function resultsCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parse(argv, OPTIONS);
  if (values.help) {
    process.stdout.write(RESULTS_USAGE);
    return 0;
  }
  if (positionals.length > 0)
    throw new ClipstreamError(
      'CLIPSTREAM_BAD_ARGUMENT',
      `results takes no arguments, got '${positionals[0]}'`,
    );
  const config = loadConfig({
    brokers: values.brokers,
    outputTopic: values.topic,
    logLevel: 'warn',
    logFormat: 'text',
  });
  const log = createLogger({ level: config.logLevel, format: 'text' });
  const topic = config.outputTopic;
  const video = values.video;
  // kafkajs' own warnings would break the one-line error contract; failures are thrown, coded.
  const kafka = createKafka(config, silentLogger);

  // End offsets now: without --follow, reading stops once every partition reaches them.
  const targets = new Map<number, bigint>();
  const admin = kafka.admin();
  try {
    await admin.connect();
    if (!(await admin.listTopics()).includes(topic)) {
      throw new ClipstreamError('CLIPSTREAM_TOPIC_MISSING', `topic ${topic} does not exist`);
    }
    for (const p of await retryKafka(() => admin.fetchTopicOffsets(topic))) {
      if (BigInt(p.high) > BigInt(p.low)) targets.set(p.partition, BigInt(p.high));
    }
  } catch (err) {
    if (err instanceof ClipstreamError) throw err;
    throw new ClipstreamError(
      'CLIPSTREAM_KAFKA_UNAVAILABLE',
      `cannot reach Kafka at ${config.brokers.join(',')}: ${(err as Error).message}`,
      { cause: err },
    );
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
  if (!values.follow && targets.size === 0) return 0;

  // A throwaway group that never commits: reading results never moves anyone's offsets.
  const consumer = kafka.consumer({
    groupId: `clipstream-results-${process.pid}-${randomBytes(4).toString('hex')}`,
    allowAutoTopicCreation: false,
    maxWaitTimeInMs: 500,
  });
  let done: () => void = () => undefined;
  const finished = new Promise<void>((resolve) => (done = resolve));
  const onSignal = () => done();
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  const positions = new Map<number, bigint>();
  const reachedEnd = () => [...targets].every(([p, high]) => (positions.get(p) ?? 0n) >= high);
  let skipped = 0;
  try {
    await consumer.connect();
    await consumer.subscribe({ topics: [topic], fromBeginning: true });
    await consumer.run({
      autoCommit: false,
      eachBatch: async ({ batch }) => {
        const lines: string[] = [];
        for (const m of batch.messages) {
          if (!m.value) continue;
          let doc: { videoId?: unknown };
          try {
            doc = JSON.parse(m.value.toString('utf8')) as { videoId?: unknown };
          } catch {
            skipped++;
            continue;
          }
          if (video !== undefined && doc.videoId !== video && m.key?.toString('utf8') !== video) continue;
          lines.push(JSON.stringify(doc));
        }
        if (lines.length > 0) process.stdout.write(`${lines.join('\n')}\n`);
        positions.set(batch.partition, BigInt(batch.lastOffset()) + 1n);
        if (!values.follow && reachedEnd()) done();
      },
    });
    await finished;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    await consumer.disconnect().catch(() => undefined);
  }
  if (skipped > 0) log.warn(`skipped ${skipped} message(s) that were not JSON`);
  return 0;
}
