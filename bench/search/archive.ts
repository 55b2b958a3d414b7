/**
 * Archive retrieval on the shapes world: the videos of `npm run eval` (seeded, rendered fresh)
 * go through the real worker (embeddings on) and the real `clipstream index` (a child process,
 * embedded store), then every eval query is searched across the whole archive. Reports mAP and
 * R@1 of moments at tIoU >= 0.5 against the rendered truth, with the matcher's re-ranking
 * (sentence + frame-word evidence), with the matcher on sentence evidence only, and with ANN
 * order alone.
 *
 *   KAFKA_BROKERS=127.0.0.1:9092 node dist/bench/search/archive.js [--videos 40] [--seed 7]
 *        [--duration 30] [--fps 2] [--top 100] [--json FILE]
 *
 * Not part of the test suite.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { copyFile, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { Kafka, Partitioners, logLevel } from 'kafkajs';
import { openRuntime } from '../../src/cli/runtime.js';
import { loadConfig, matchOptionsOf } from '../../src/config.js';
import { Worker } from '../../src/ingest/index.js';
import { silentLogger } from '../../src/log.js';
import { calibrationFor } from '../../src/pipeline/index.js';
import { Store, searchStore } from '../../src/search/index.js';
import type { SearchSettings } from '../../src/search/index.js';
import { buildQueries, evalSpecs } from '../../eval/matching/evaluate.js';
import { mean, temporalIoU } from '../../eval/matching/metrics.js';
import { renderVideo } from '../../eval/shapes/render.js';
import { truthMoments } from '../../eval/shapes/world.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      videos: { type: 'string', default: '40' },
      seed: { type: 'string', default: '7' },
      duration: { type: 'string', default: '30' },
      fps: { type: 'string', default: '2' },
      pairs: { type: 'string', default: '24' },
      top: { type: 'string', default: '100' },
      cache: { type: 'string' },
      json: { type: 'string' },
    },
  });
  const nVideos = Number(values.videos);
  const seed = Number(values.seed);
  const top = Number(values.top);
  const brokers = (process.env.KAFKA_BROKERS ?? '127.0.0.1:9092').split(',');
  const dir = await mkdtemp(join(tmpdir(), 'clipstream-archive-'));
  const say = (s: string) => process.stderr.write(`${s}\n`);
  const tag = `arch${Date.now().toString(36)}`;
  const topics = {
    inputTopic: `${tag}.videos`,
    outputTopic: `${tag}.results`,
    dlqTopic: `${tag}.dlq`,
    queriesTopic: `${tag}.queries`,
    embeddingsTopic: `${tag}.embeddings`,
  };
  const specs = evalSpecs({ videos: nVideos, seed, durationSec: Number(values.duration) });
  const t0 = performance.now();
  // Rendered videos are kept in --cache (keyed by seed, index and length) for the next run.
  const cache = values.cache;
  if (cache) await mkdir(cache, { recursive: true });
  for (const [i, spec] of specs.entries()) {
    const name = `eval-s${seed}-${i}-${values.duration}s.mp4`;
    if (cache && existsSync(join(cache, name))) await copyFile(join(cache, name), join(dir, `eval-${i}.mp4`));
    else {
      await renderVideo(spec, join(dir, `eval-${i}.mp4`), { preset: 'veryfast' });
      if (cache) await copyFile(join(dir, `eval-${i}.mp4`), join(cache, name));
    }
  }
  const renderSec = (performance.now() - t0) / 1000;
  say(`rendered ${specs.length} videos in ${renderSec.toFixed(0)} s`);

  const config = loadConfig(
    {
      brokers: brokers.join(','),
      ...topics,
      group: `${tag}.group`,
      mediaRoot: dir,
      publishEmbeddings: true,
      httpPort: 0,
      logLevel: 'error',
      topicPartitions: 3,
      device: 'cpu',
    },
    {},
  );
  const embedder = await openRuntime(
    { device: 'cpu', threads: 0, batchSize: 32, batchWaitMs: 5 },
    silentLogger,
  );
  const worker = await Worker.start({ config, embedder, log: silentLogger });
  const kafka = new Kafka({ clientId: tag, brokers, logLevel: logLevel.NOTHING });
  const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
  await producer.connect();
  const t1 = performance.now();
  await producer.send({
    topic: topics.inputTopic,
    messages: specs.map((_, i) => ({
      key: `eval-${i}`,
      value: JSON.stringify({
        schema: 'clipstream.video.v1',
        videoId: `eval-${i}`,
        uri: pathToFileURL(join(dir, `eval-${i}.mp4`)).href,
        sampling: { strategy: 'fps', fps: Number(values.fps) },
      }),
    })),
  });
  await producer.disconnect();

  // The real indexer CLI on an embedded store, from the start of the worker's output.
  const storeDir = join(dir, 'store');
  const child = spawn(process.execPath, [join(ROOT, 'bin', 'clipstream.js'), 'index', '--store', storeDir], {
    env: {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? '',
      CLIPSTREAM_BROKERS: brokers.join(','),
      CLIPSTREAM_EMBEDDINGS_TOPIC: topics.embeddingsTopic,
      CLIPSTREAM_OUTPUT_TOPIC: topics.outputTopic,
      CLIPSTREAM_DLQ_TOPIC: topics.dlqTopic,
      CLIPSTREAM_GROUP: `${tag}.group`,
      CLIPSTREAM_HTTP_PORT: '0',
      CLIPSTREAM_LOG_LEVEL: 'info',
    },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let log = '';
  child.stderr.on('data', (d: Buffer) => (log += d.toString()));
  const exited = new Promise<number | null>((r) => child.on('exit', (c) => r(c)));
  while (worker.stats.results + worker.stats.dlq < specs.length) await new Promise((r) => setTimeout(r, 500));
  const workerSec = (performance.now() - t1) / 1000;
  say(`worker: ${worker.stats.results} results (${worker.stats.dlq} DLQ) in ${workerSec.toFixed(0)} s`);
  await worker.close();
  await embedder.close();
  // Wait until the indexer has caught up (its progress lines carry the lag), then stop it.
  const admin = kafka.admin();
  await admin.connect();
  for (;;) {
    const ends = await admin.fetchTopicOffsets(topics.embeddingsTopic);
    const [c] = await admin.fetchOffsets({ groupId: `${tag}.group.index`, topics: [topics.embeddingsTopic] });
    const done = ends.every((e) => c?.partitions.find((p) => p.partition === e.partition)?.offset === e.high);
    if (done) break;
    await new Promise((r) => setTimeout(r, 500));
  }
  const indexSec = (performance.now() - t1) / 1000;
  child.kill('SIGTERM');
  const code = await exited;
  const stopped = log.split('\n').find((l) => l.includes('"indexer stopped"'));
  say(`indexer exited ${code}: ${stopped ?? log.slice(-500)}`);

  const store = await Store.open(storeDir);
  const counts = await store.counts();
  const encoder = await openRuntime({ device: 'cpu', threads: 0 }, silentLogger);
  const queries = buildQueries(specs, Number(values.pairs), seed);
  const base: SearchSettings = {
    top,
    candidateFactor: 3,
    maxCandidateFrames: 4000,
    rerank: true,
    match: matchOptionsOf(config),
    calibration: calibrationFor(encoder.pack.manifest),
  };
  const variants: Record<string, SearchSettings> = {
    rerank: base,
    sentenceOnly: { ...base, match: { ...base.match, wordWeight: 0 } },
    annOnly: { ...base, rerank: false },
  };
  const report: Record<string, unknown> = {
    videos: specs.length,
    frames: counts.frames,
    queries: queries.length,
    seconds: {
      render: Math.round(renderSec),
      workerAndIndex: Math.round(indexSec),
      worker: Math.round(workerSec),
    },
  };
  const TIOU = [0.5, 0.7, 0.9];
  for (const [name, s] of Object.entries(variants)) {
    const aps = TIOU.map(() => [] as number[]);
    const r1 = TIOU.map(() => [] as number[]);
    const ms: number[] = [];
    let withTruth = 0;
    for (const q of queries) {
      const truth = new Map(specs.map((spec, i) => [`eval-${i}`, truthMoments(spec, q)]));
      const total = [...truth.values()].reduce((n, t) => n + t.length, 0);
      const a = performance.now();
      const res = await searchStore(store, encoder, q, s);
      ms.push(performance.now() - a);
      if (total === 0) continue;
      withTruth++;
      TIOU.forEach((thr, ti) => {
        // Each truth moment counts once: a hit is relevant when it overlaps an unclaimed one at tIoU >= thr.
        const used = new Set<string>();
        const rel = res.hits.map((h) => {
          const moments = truth.get(h.videoId) ?? [];
          let best = -1;
          let bestIoU = 0;
          moments.forEach((m, k) => {
            const v = temporalIoU({ startSec: h.startSec, endSec: h.endSec }, m);
            if (v > bestIoU && !used.has(`${h.videoId}/${k}`)) {
              bestIoU = v;
              best = k;
            }
          });
          const ok = best >= 0 && bestIoU >= thr;
          if (ok) used.add(`${h.videoId}/${best}`);
          return ok;
        });
        // AP over the ranked list, normalised by every truth moment (missed ones count against it).
        let hits = 0;
        let sum = 0;
        rel.forEach((ok, i) => {
          if (ok) {
            hits++;
            sum += hits / (i + 1);
          }
        });
        aps[ti]!.push(sum / total);
        r1[ti]!.push(rel[0] ? 1 : 0);
      });
    }
    const sorted = [...ms].sort((x, y) => x - y);
    report[name] = {
      ...Object.fromEntries(
        TIOU.flatMap((thr, ti) => [
          [`mAP@${thr}`, round(mean(aps[ti]!))],
          [`R1@${thr}`, round(mean(r1[ti]!))],
        ]),
      ),
      queriesWithTruth: withTruth,
      searchP50Ms: Math.round(sorted[Math.floor(sorted.length / 2)] ?? 0),
      searchP95Ms: Math.round(sorted[Math.floor(sorted.length * 0.95)] ?? 0),
    };
    say(`${name}: ${JSON.stringify(report[name])}`);
  }
  await encoder.close();
  await store.close();
  await admin.deleteTopics({ topics: Object.values(topics) }).catch(() => undefined);
  await admin.disconnect();
  await rm(dir, { recursive: true, force: true });
  process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
  if (values.json) await writeFile(values.json, `${JSON.stringify(report, null, 2)}\n`);
}

function round(x: number): number {
  return Math.round(x * 1000) / 1000;
}

main().catch((err: unknown) => {
  process.stderr.write(`${String((err as Error).stack ?? err)}\n`);
  process.exit(1);
});
