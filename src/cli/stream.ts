/**
 * `clipstream stream start <uri> --id ID [--query TEXT]... [--window-sec N]`, `stream stop ID`
 * (a tombstone) and `stream list` (the live specs of the compacted streams topic), design.md 3.6.
 */
import { loadConfig } from '../config.js';
import { ClipstreamError } from '../errors.js';
import { Publisher, createKafka, ensureTopics } from '../ingest/index.js';
import { STREAM_SCHEMA, StreamSpecSchema, isLiveUri, parseStreamSpec } from '../live/index.js';
import type { StreamSpec } from '../live/index.js';
import { silentLogger } from '../log.js';
import { parse, positiveNumber, rtspTransportFlag } from './common.js';
import { STREAM, usage } from './flags.js';

const OPTIONS = STREAM.flags;

export const STREAM_USAGE = usage(STREAM);

const ID = /^[A-Za-z0-9._:-]{1,200}$/;

export async function streamCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parse(argv, OPTIONS);
  const [action, arg, ...rest] = positionals;
  if (values.help || action === undefined) {
    process.stdout.write(STREAM_USAGE);
    return values.help ? 0 : 2;
  }
  if (rest.length > 0)
    throw new ClipstreamError('CLIPSTREAM_BAD_ARGUMENT', `unexpected argument '${rest[0]}'`);
  const config = loadConfig({
    brokers: values.brokers,
    streamsTopic: values.topic,
    logLevel: 'warn',
    logFormat: 'text',
  });
  const kafka = createKafka(config, silentLogger);
  const topic = config.streamsTopic;
  if (action === 'start' || action === 'stop') {
    const id = action === 'start' ? values.id : arg;
    if (id === undefined || !ID.test(id))
      throw new ClipstreamError(
        'CLIPSTREAM_BAD_ARGUMENT',
        `stream ${action} needs an id of letters, digits and . _ : - (at most 200)`,
      );
    let value: string | null = null;
    if (action === 'start') {
      if (arg === undefined || !(isLiveUri(arg) || /^https?:\/\//i.test(arg)))
        throw new ClipstreamError(
          'CLIPSTREAM_BAD_ARGUMENT',
          'stream start needs a live URI (rtsp://, rtsps://, http(s)://....m3u8)',
        );
      const fps = positiveNumber(values.fps, '--fps');
      const windowSec = positiveNumber(values['window-sec'], '--window-sec');
      const rtspTransport = rtspTransportFlag(values['rtsp-transport']);
      const spec = {
        schema: STREAM_SCHEMA,
        uri: arg,
        ...(values.query ? { queries: values.query.map((text, i) => ({ id: `q${i + 1}`, text })) } : {}),
        ...(values.caption ? { captions: values.caption } : {}),
        ...(fps !== undefined ? { sampling: { strategy: 'fps' as const, fps } } : {}),
        ...(windowSec !== undefined ? { windowSec } : {}),
        ...(rtspTransport !== undefined ? { rtspTransport } : {}),
      };
      const r = StreamSpecSchema.safeParse(spec);
      if (!r.success)
        throw new ClipstreamError('CLIPSTREAM_BAD_ARGUMENT', r.error.issues[0]?.message ?? 'bad stream spec');
      value = JSON.stringify(spec);
    }
    const admin = kafka.admin();
    const publisher = new Publisher(kafka);
    try {
      await connect(admin.connect(), config.brokers);
      await ensureTopics(
        admin,
        [{ topic, config: { 'cleanup.policy': 'compact' } }],
        {
          create: config.createTopics,
          partitions: config.topicPartitions,
          replication: config.topicReplication,
        },
        silentLogger,
      );
      await publisher.connect();
      await publisher.send([{ topic, key: id, value: value as string }]);
      process.stdout.write(`${id}\n`);
      return 0;
    } finally {
      await publisher.close().catch(() => undefined);
      await admin.disconnect().catch(() => undefined);
    }
  }
  if (action === 'list') {
    for (const [id, spec] of await listStreams(kafka, topic, config.brokers))
      process.stdout.write(`${JSON.stringify({ streamId: id, ...spec })}\n`);
    return 0;
  }
  throw new ClipstreamError(
    'CLIPSTREAM_BAD_ARGUMENT',
    `unknown stream action '${action}' (start, stop or list)`,
  );
}

async function connect(p: Promise<void>, brokers: readonly string[]): Promise<void> {
  try {
    await p;
  } catch (err) {
    throw new ClipstreamError(
      'CLIPSTREAM_KAFKA_UNAVAILABLE',
      `cannot reach Kafka at ${brokers.join(',')}: ${(err as Error).message}`,
      {
        cause: err,
      },
    );
  }
}

/** Reads the topic from the beginning to its end offsets (no group), folding tombstones. */
async function listStreams(
  kafka: ReturnType<typeof createKafka>,
  topic: string,
  brokers: readonly string[],
): Promise<Map<string, StreamSpec>> {
  const admin = kafka.admin();
  await connect(admin.connect(), brokers);
  let ends: { partition: number; high: string; low: string }[];
  try {
    if (!(await admin.listTopics()).includes(topic)) return new Map();
    ends = await admin.fetchTopicOffsets(topic);
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
  const left = new Map(
    ends.filter((e) => BigInt(e.high) > BigInt(e.low)).map((e) => [e.partition, BigInt(e.high)]),
  );
  const out = new Map<string, StreamSpec>();
  if (left.size === 0) return out;
  const consumer = kafka.consumer({ groupId: `clipstream-list-${process.pid}-${Date.now()}` });
  await consumer.connect();
  try {
    await consumer.subscribe({ topics: [topic], fromBeginning: true });
    await new Promise<void>((resolve, reject) => {
      consumer
        .run({
          autoCommit: false,
          eachMessage: async ({ partition, message }) => {
            const id = message.key?.toString('utf8');
            if (id !== undefined) {
              if (message.value === null || message.value.length === 0) out.delete(id);
              else {
                try {
                  out.set(id, parseStreamSpec(message.value));
                } catch {
                  out.delete(id);
                }
              }
            }
            const high = left.get(partition);
            if (high !== undefined && BigInt(message.offset) + 1n >= high) left.delete(partition);
            if (left.size === 0) resolve();
          },
        })
        .catch(reject);
    });
  } finally {
    await consumer.disconnect().catch(() => undefined);
  }
  return out;
}
