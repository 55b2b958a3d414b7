// Search end to end with real parts: shapes-world videos published to Kafka -> a worker with
// embeddings on -> `clipstream index` (pg driver against PGlite's socket server) ->
// `clipstream search` finds the right video and moment first; then `clipstream serve` on an
// embedded store (its own indexer) in Debian's chromium: type a query, see the expected first hit
// with its thumbnail.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { pathToFileURL } from 'node:url';
import puppeteer from 'puppeteer-core';
import { renderVideo } from '../../../eval/shapes/render.js';
import { COLOURS } from '../../../eval/shapes/world.js';
import type { ObjectSpec, SceneSpec, VideoSpec } from '../../../eval/shapes/world.js';
import type { Worker } from '../../../src/ingest/index.js';
import { SearchResultSchema } from '../../../src/search/index.js';
import { deleteTopics, uniqueGroup } from '../../helpers/kafka.js';
import {
  closeSharedEmbedder,
  freePort,
  json,
  names,
  produce,
  readUntil,
  removeDir,
  runCli,
  startWorker,
  tempDir,
  testConfig,
  testModel,
  videoEvent,
} from '../worker/helpers.js';
import { CHROMIUM, spawnCli, startPgEndpoint, storeRows, until } from './helpers.js';
import type { Child, PgEndpoint } from './helpers.js';

const obj = (colour: ObjectSpec['colour'], shape: ObjectSpec['shape'], x: number, y = 90): ObjectSpec => ({
  colour,
  shape,
  rgb: [...COLOURS[colour]],
  size: 64,
  start: { x, y },
  velocity: { x: 0, y: 0 },
});
const video = (scenes: SceneSpec[]): VideoSpec => ({
  world: 'shapes-v1',
  width: 240,
  height: 180,
  fps: 10,
  antialias: true,
  noiseSeed: 3,
  scenes,
});
const VIDEOS: Record<string, VideoSpec> = {
  'v-red': video([
    { durationSec: 3, background: 'gray', objects: [] },
    { durationSec: 3, background: 'white', objects: [obj('red', 'circle', 120)] },
    { durationSec: 2, background: 'black', objects: [obj('blue', 'square', 80)] },
  ]),
  'v-green': video([
    { durationSec: 4, background: 'black', objects: [obj('green', 'triangle', 100)] },
    { durationSec: 4, background: 'gray', objects: [obj('yellow', 'square', 150)] },
  ]),
  'v-blue': video([
    { durationSec: 3, background: 'white', objects: [obj('blue', 'square', 120)] },
    { durationSec: 5, background: 'black', objects: [] },
  ]),
};

const iou = (a: [number, number], b: [number, number]) => {
  const inter = Math.max(0, Math.min(a[1], b[1]) - Math.max(a[0], b[0]));
  return inter / (Math.max(a[1], b[1]) - Math.min(a[0], b[0]));
};

const n = names('search-rt');
let media: string;
let storeDir: string;
let worker: Worker | undefined;
let pgEnd: PgEndpoint | undefined;
const children: Child[] = [];
let totalFrames = 0;

function kafkaEnv(group: string): Record<string, string> {
  const c = testConfig(n);
  return {
    CLIPSTREAM_BROKERS: c.brokers.join(','),
    CLIPSTREAM_EMBEDDINGS_TOPIC: n.embeddingsTopic,
    CLIPSTREAM_OUTPUT_TOPIC: n.outputTopic,
    CLIPSTREAM_DLQ_TOPIC: n.dlqTopic,
    CLIPSTREAM_GROUP: group,
    CLIPSTREAM_MODEL: testModel(),
    CLIPSTREAM_DEVICE: 'cpu',
    CLIPSTREAM_THREADS: '1',
    CLIPSTREAM_HTTP_PORT: '0',
    CLIPSTREAM_LOG_LEVEL: 'info',
    CLIPSTREAM_TOPIC_PARTITIONS: '3',
  };
}

async function stop(c: Child): Promise<void> {
  c.child.kill('SIGTERM');
  const { code } = await c.exited;
  assert.equal(code, 0, `exit code ${code}\n${c.stderr().slice(-2000)}`);
}

before(async () => {
  media = await tempDir('cs-search-media-');
  storeDir = await tempDir('cs-search-store-');
  for (const [id, spec] of Object.entries(VIDEOS)) await renderVideo(spec, join(media, `${id}.mp4`));
  worker = await startWorker(testConfig(n, { mediaRoot: media, publishEmbeddings: true }), 'search');
  await produce(
    n.inputTopic,
    Object.keys(VIDEOS).map((id) =>
      videoEvent(id, pathToFileURL(join(media, `${id}.mp4`)).href, { sampling: { strategy: 'fps', fps: 2 } }),
    ),
  );
  const results = await readUntil(n.outputTopic, (r) => r.length >= 3, 300_000);
  totalFrames = results.reduce((s, r) => s + json<{ sampling: { frames: number } }>(r).sampling.frames, 0);
  await worker.close();
  worker = undefined;
  await closeSharedEmbedder();
});

after(async () => {
  for (const c of children) if (c.child.exitCode === null) c.child.kill('SIGKILL');
  await worker?.close();
  await closeSharedEmbedder();
  await pgEnd?.close();
  await deleteTopics(Object.values(n).filter((t) => !t.includes('group')));
  await removeDir(media);
  await removeDir(storeDir);
});

describe('search round trip', { timeout: 600_000 }, () => {
  it('worker -> clipstream index (pg) -> clipstream search: the right video and moment first', async () => {
    pgEnd = await startPgEndpoint();
    const url = pgEnd.url;
    const indexer = spawnCli(['index', '--store', url], kafkaEnv(uniqueGroup('search-rt')));
    children.push(indexer);
    await until(
      `${totalFrames} frames indexed`,
      async () => {
        const rows = await storeRows(url);
        return rows.frames.length === totalFrames && rows.results.length === 3;
      },
      120_000,
    );
    await stop(indexer);
    const stopped = indexer
      .stderr()
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as { msg?: string; frames?: unknown })
      .find((l) => l.msg === 'indexer stopped');
    assert.equal(typeof stopped?.frames, 'number', indexer.stderr());

    const truth: Record<string, [string, [number, number]]> = {
      'a red circle': ['v-red', [3, 6]],
      'a green triangle': ['v-green', [0, 4]],
      'a blue square': ['v-blue', [0, 3]],
    };
    for (const [query, [videoId, span]] of Object.entries(truth)) {
      const r = await runCli(['search', query, '--store', url, '--top', '5'], {
        CLIPSTREAM_MODEL: testModel(),
      });
      assert.equal(r.code, 0, r.stderr);
      const doc = SearchResultSchema.parse(JSON.parse(r.stdout));
      assert.equal(doc.query, query);
      const first = doc.hits[0];
      assert.ok(first, `no hits for '${query}'`);
      assert.equal(first.videoId, videoId, `'${query}': ${JSON.stringify(doc.hits.slice(0, 3))}`);
      assert.equal(first.uri, pathToFileURL(join(media, `${videoId}.mp4`)).href);
      assert.ok(
        iou([first.startSec, first.endSec], span) >= 0.5,
        `'${query}': moment ${first.startSec}-${first.endSec} vs ${span}`,
      );
      assert.ok(first.peakSec >= first.startSec && first.peakSec <= first.endSec);
      for (let i = 1; i < doc.hits.length; i++) assert.ok(doc.hits[i - 1]!.score >= doc.hits[i]!.score);
    }
    const table = await runCli(['search', 'a red circle', '--store', url, '--format', 'table'], {
      CLIPSTREAM_MODEL: testModel(),
    });
    assert.equal(table.code, 0, table.stderr);
    assert.match(table.stdout, /^1\s+\S+\s+3\.\d+s\s+\S+\s+\S+\s+v-red/m);
  });

  it('clipstream serve (embedded store, its own indexer) in chromium: type a query, see the expected first hit', async () => {
    const port = await freePort();
    const serve = spawnCli(['serve', '--store', storeDir, '--port', String(port)], {
      ...kafkaEnv(uniqueGroup('search-serve')),
      CLIPSTREAM_MEDIA_ROOT: media,
    });
    children.push(serve);
    const base = `http://127.0.0.1:${port}`;
    await until(
      'serve indexed every video',
      async () => {
        const res = await fetch(`${base}/search?q=${encodeURIComponent('a blue square')}&top=10`);
        const body = SearchResultSchema.parse(await res.json());
        return new Set(body.hits.map((h) => h.videoId)).size >= 2 && body.hits.every((h) => h.uri !== null);
      },
      120_000,
    );
    const bad = await fetch(`${base}/search?q=x&top=0`);
    assert.equal(bad.status, 400);
    assert.equal(((await bad.json()) as { error: { code: string } }).error.code, 'CLIPSTREAM_BAD_ARGUMENT');

    const browser = await puppeteer.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'],
    });
    try {
      const page = await browser.newPage();
      await page.goto(`${base}/`);
      await page.type('#q', 'a green triangle');
      await page.keyboard.press('Enter');
      await page.waitForSelector('li.hit', { timeout: 60_000 });
      // Evaluated in the page (as source text: the tests compile without the DOM library).
      const first = (await page.evaluate(`(() => {
        const li = document.querySelector('li.hit');
        return { video: li.dataset.video, start: Number(li.dataset.start), end: Number(li.dataset.end), text: li.textContent };
      })()`)) as { video: string; start: number; end: number; text: string };
      assert.equal(first.video, 'v-green');
      assert.ok(iou([first.start, first.end], [0, 4]) >= 0.5, JSON.stringify(first));
      assert.match(first.text, /v-green/);
      // The thumbnail is a real frame, grabbed by ffmpeg from the source.
      await page.waitForFunction(
        `(() => { const img = document.querySelector('li.hit img'); return img !== null && img.complete && img.naturalWidth > 0; })()`,
        { timeout: 60_000 },
      );
      const size = (await page.evaluate(
        `(() => { const img = document.querySelector('li.hit img'); return [img.naturalWidth, img.naturalHeight]; })()`,
      )) as [number, number];
      assert.equal(size[1], 180);
    } finally {
      await browser.close();
    }
    const thumb = await fetch(`${base}/thumbnail?video=v-green&t=1`);
    assert.equal(thumb.status, 200);
    assert.equal(thumb.headers.get('content-type'), 'image/jpeg');
    const missing = await fetch(`${base}/thumbnail?video=nope&t=1`);
    assert.equal(missing.status, 404);
    await stop(serve);
  });
});
