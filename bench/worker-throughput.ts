/**
 * Worker throughput: videos per minute through one `clipstream worker` process (the real CLI,
 * real Kafka, real ffmpeg, the bundled model). Renders N shapes-world clips, starts a worker on
 * fresh topics, publishes N events and times first publish -> last result.
 *
 *   KAFKA_BROKERS=127.0.0.1:9092 node dist/bench/worker-throughput.js [--videos 10] [--seconds 30]
 *
 * Not part of the test suite (speed is never asserted in tests).
 */
import { spawn } from 'node:child_process';
import { mkdtemp, realpath, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Kafka, logLevel } from 'kafkajs';
import { renderVideo } from '../eval/shapes/render.js';
import { randomVideoSpec } from '../eval/shapes/world.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { videos: { type: 'string', default: '10' }, seconds: { type: 'string', default: '30' } },
  });
  const n = Number(values.videos);
  const seconds = Number(values.seconds);
  const brokers = (process.env.KAFKA_BROKERS ?? '127.0.0.1:9092').split(',');
  const dir = await realpath(await mkdtemp(join(tmpdir(), 'clipstream-throughput-')));
  const tag = `tp${Date.now().toString(36)}`;
  const topics = {
    input: `${tag}.videos`,
    output: `${tag}.results`,
    dlq: `${tag}.dlq`,
    queries: `${tag}.queries`,
  };
  try {
    for (let i = 0; i < n; i++) {
      await renderVideo(
        randomVideoSpec(9000 + i, { width: 640, height: 360, fps: 25, durationSec: seconds }),
        join(dir, `v${i}.mp4`),
        {},
      );
    }
    const worker = spawn(process.execPath, [join(ROOT, 'bin', 'clipstream.js'), 'worker'], {
      env: {
        ...process.env,
        CLIPSTREAM_BROKERS: brokers.join(','),
        CLIPSTREAM_INPUT_TOPIC: topics.input,
        CLIPSTREAM_OUTPUT_TOPIC: topics.output,
        CLIPSTREAM_DLQ_TOPIC: topics.dlq,
        CLIPSTREAM_QUERIES_TOPIC: topics.queries,
        CLIPSTREAM_GROUP: `${tag}.group`,
        CLIPSTREAM_MEDIA_ROOT: dir,
        CLIPSTREAM_TOPIC_PARTITIONS: '4',
        CLIPSTREAM_HTTP_PORT: '0',
        CLIPSTREAM_LOG_LEVEL: 'warn',
      },
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    const kafka = new Kafka({ clientId: 'throughput', brokers, logLevel: logLevel.NOTHING });
    const consumer = kafka.consumer({ groupId: `${tag}.reader` });
    const seen = new Map<string, number>();
    let dlq = 0;
    await consumer.connect();
    // the worker creates the topics; wait for them before subscribing
    const admin = kafka.admin();
    await admin.connect();
    for (;;) {
      const t = await admin.listTopics();
      if (t.includes(topics.output) && t.includes(topics.dlq)) break;
      await new Promise((r) => setTimeout(r, 500));
    }
    await admin.disconnect();
    await consumer.subscribe({ topics: [topics.output, topics.dlq], fromBeginning: true });
    let done!: () => void;
    const finished = new Promise<void>((r) => (done = r));
    await consumer.run({
      eachMessage: async ({ topic, message }) => {
        if (topic === topics.dlq) dlq++;
        else seen.set(message.key?.toString() ?? '', performance.now());
        if (seen.size + dlq >= n) done();
      },
    });
    const producer = kafka.producer();
    await producer.connect();
    const t0 = performance.now();
    await producer.send({
      topic: topics.input,
      messages: Array.from({ length: n }, (_, i) => ({
        key: `v${i}`,
        value: JSON.stringify({
          schema: 'clipstream.video.v1',
          videoId: `v${i}`,
          uri: `file://${join(dir, `v${i}.mp4`)}`,
          queries: [
            { id: 'q1', text: 'a red circle' },
            { id: 'q2', text: 'a blue square and a green triangle' },
          ],
          captions: ['nothing', 'a red circle', 'a blue square'],
        }),
      })),
    });
    await finished;
    const wall = (Math.max(...seen.values()) - t0) / 1000;
    process.stdout.write(
      `${JSON.stringify({ videos: n, seconds, results: seen.size, dlq, wallSec: +wall.toFixed(2), videosPerMinute: +((seen.size / wall) * 60).toFixed(1) })}\n`,
    );
    await Promise.allSettled([producer.disconnect(), consumer.disconnect()]);
    worker.kill('SIGTERM');
    await new Promise((r) => worker.on('exit', r));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`worker-throughput: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exitCode = 1;
});
