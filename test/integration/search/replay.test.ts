// The indexer against a real broker and the production `pg` driver (PGlite behind
// pglite-socket): replaying the embeddings topic, duplicates included, changes no row; a chunk
// of another model and a message that is no chunk go to the DLQ with their codes; and an
// embedded store open in one process is refused, coded, to a second one.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { loadConfig } from '../../../src/config.js';
import { embeddingChunks } from '../../../src/ingest/embeddings.js';
import { createKafka } from '../../../src/ingest/index.js';
import type { FrameTrack } from '../../../src/match/index.js';
import type { ResultDocument } from '../../../src/pipeline/index.js';
import { Indexer, Store } from '../../../src/search/index.js';
import { silentLogger } from '../../../src/log.js';
import { brokers, deleteTopics, uniqueGroup, uniqueTopic } from '../../helpers/kafka.js';
import { committedToEnd, json, produce, readUntil, removeDir, runCli, tempDir } from '../worker/helpers.js';
import type { Sent } from '../worker/helpers.js';
import { startPgEndpoint, storeRows, until } from './helpers.js';
import type { PgEndpoint } from './helpers.js';

const D = 8;
const topics = {
  embeddingsTopic: uniqueTopic('search-emb'),
  outputTopic: uniqueTopic('search-results'),
  dlqTopic: uniqueTopic('search-dlq'),
};
const model = { name: 'synthetic', sha256: 'a'.repeat(64), embedDim: D };

function track(seed: number, frames: number): FrameTrack {
  const embeds = new Float32Array(frames * D);
  const times = new Float64Array(frames);
  let s = seed;
  for (let t = 0; t < frames; t++) {
    times[t] = t * 0.5;
    let n = 0;
    for (let k = 0; k < D; k++) {
      s = (s * 1103515245 + 12345) % 2147483648;
      const v = s / 2147483648 - 0.5;
      embeds[t * D + k] = v;
      n += v * v;
    }
    for (let k = 0; k < D; k++) embeds[t * D + k] = (embeds[t * D + k] as number) / Math.sqrt(n);
  }
  return { dim: D, count: frames, embeds, times, endSec: frames * 0.5 };
}

function result(videoId: string, m = model): ResultDocument {
  return {
    schema: 'clipstream.result.v1',
    resultId: `r-${videoId}`,
    videoId,
    source: { uri: `file:///media/${videoId}.mp4`, durationSec: 15, width: 320, height: 240, fps: 10 },
    model: m,
  } as unknown as ResultDocument;
}

function chunksOf(videoId: string, seed: number, m = model): Sent[] {
  // A small message limit, so each video spans several chunks.
  return embeddingChunks(result(videoId, m), track(seed, 30), 5_000).map((c) => ({
    key: videoId,
    value: JSON.stringify(c),
  }));
}

let pgEnd: PgEndpoint;
const indexers: Indexer[] = [];
const stores: Store[] = [];
const config = () => loadConfig({ brokers: brokers().join(','), logLevel: 'error' }, {});

async function startIndexer(group: string): Promise<{ indexer: Indexer; store: Store }> {
  const store = await Store.open(pgEnd.url);
  stores.push(store);
  const indexer = await Indexer.start({
    kafka: createKafka(config(), silentLogger),
    store,
    settings: {
      ...topics,
      group,
      maxMessageBytes: 1_000_000,
      createTopics: true,
      topicPartitions: 2,
      topicReplication: 1,
    },
    log: silentLogger,
    heartbeatMs: 500,
    progressMs: 0,
  });
  indexers.push(indexer);
  return { indexer, store };
}

before(async () => {
  pgEnd = await startPgEndpoint();
});

after(async () => {
  for (const i of indexers) await i.close();
  for (const s of stores) await s.close();
  await pgEnd.close();
  await deleteTopics(Object.values(topics));
});

describe('search indexer: replay and refusal', { timeout: 300_000 }, () => {
  it('indexes chunks and results; a replay of the topic, duplicates included, changes no row', async () => {
    const chunks = [...chunksOf('vid-a', 1), ...chunksOf('vid-b', 2)];
    assert.ok(chunks.length >= 4, `expected several chunks, got ${chunks.length}`);
    const group = uniqueGroup('search-idx');
    const first = await startIndexer(group);
    await produce(topics.embeddingsTopic, chunks);
    await produce(topics.outputTopic, [
      { key: 'vid-a', value: JSON.stringify(result('vid-a')) },
      { key: 'vid-b', value: JSON.stringify(result('vid-b')) },
      { key: 'x', value: 'not json' },
    ]);
    await until('60 frames and 2 results', async () => {
      const r = await storeRows(pgEnd.url);
      return r.frames.length === 60 && r.results.length === 2;
    });
    const before = await storeRows(pgEnd.url);
    assert.deepEqual(
      before.videos.map((v) => (v as { frames: number }).frames),
      [30, 30],
    );
    // Times and vectors are the published ones.
    const a = before.frames.filter((f) => f.video_id === 'vid-a');
    assert.deepEqual(
      a.map((f) => Number(f.time_sec)),
      Array.from(track(1, 30).times),
    );
    const v0 = a[0]!.e.slice(1, -1).split(',').map(Number);
    const want = Array.from(track(1, 30).embeds.subarray(0, D));
    v0.forEach((x, k) => assert.ok(Math.abs(x - want[k]!) < 1e-6));
    await until('committed', () => committedToEnd(`${group}.index`, topics.embeddingsTopic));
    assert.equal(first.indexer.lag(), 0, 'caught up, the lag metric reads 0');
    assert.equal(first.indexer.stats.frames, 60);

    // The same chunks again, and a second group that reads both topics from the beginning.
    await produce(topics.embeddingsTopic, chunks);
    await produce(topics.outputTopic, [{ key: 'vid-a', value: JSON.stringify(result('vid-a')) }]);
    await until('first group caught up', () => committedToEnd(`${group}.index`, topics.embeddingsTopic));
    const replay = uniqueGroup('search-replay');
    const second = await startIndexer(replay);
    await until('replay group caught up', async () => {
      return (
        (await committedToEnd(`${replay}.index`, topics.embeddingsTopic)) &&
        (await committedToEnd(`${replay}.index`, topics.outputTopic))
      );
    });
    assert.deepEqual(await storeRows(pgEnd.url), before, 'a replay changed rows');
    assert.equal(second.indexer.stats.frames, 0, 'the replay wrote frames');
    assert.ok(second.indexer.stats.chunks >= chunks.length * 2);
    assert.ok(first.indexer.stats.frames === 60);
  });

  it('refuses a chunk of another model and a message that is no chunk: DLQ records with codes, no rows', async () => {
    const before = await storeRows(pgEnd.url);
    const other = { name: 'other', sha256: 'b'.repeat(64), embedDim: D };
    const foreign = chunksOf('vid-c', 3, other).slice(0, 1);
    await produce(topics.embeddingsTopic, [
      ...foreign,
      { key: 'junk', value: '{"schema":"clipstream.embeddings.v1"}' },
    ]);
    const dlq = await readUntil(topics.dlqTopic, (r) => r.length >= 2, 60_000);
    const records = dlq.map((r) =>
      json<{ error: { code: string; message: string }; source: { topic: string }; value: string }>(r),
    );
    const byKey = new Map(dlq.map((r, i) => [r.key, records[i]!]));
    assert.equal(byKey.get('vid-c')?.error.code, 'CLIPSTREAM_STORE_MODEL_MISMATCH');
    assert.match(byKey.get('vid-c')!.error.message, /other/);
    assert.equal(byKey.get('vid-c')?.source.topic, topics.embeddingsTopic);
    assert.equal(
      Buffer.from(byKey.get('vid-c')!.value, 'base64').toString(),
      String(foreign[0]!.value),
      'the DLQ record keeps the original bytes',
    );
    assert.equal(byKey.get('junk')?.error.code, 'CLIPSTREAM_BAD_CHUNK');
    for (const i of indexers) {
      await until('refusals committed', async () =>
        committedToEnd(
          `${(i as unknown as { o: { settings: { group: string } } }).o.settings.group}.index`,
          topics.embeddingsTopic,
        ),
      );
    }
    assert.deepEqual(await storeRows(pgEnd.url), before);
  });

  it('an embedded store open in one process is refused to another with CLIPSTREAM_STORE_LOCKED', async () => {
    const dir = await tempDir('cs-store-');
    const store = await Store.open(dir);
    try {
      const r = await runCli(['search', 'a red circle', '--store', dir]);
      assert.notEqual(r.code, 0);
      assert.match(r.stderr, /^clipstream: CLIPSTREAM_STORE_LOCKED: store .* is in use by process \d+/);
      assert.equal(r.stderr.trim().split('\n').length, 1);
      assert.equal(r.stdout, '');
    } finally {
      await store.close();
    }
    // Closed, the lock is gone: the store opens again (empty: no hits, exit 0).
    const r = await runCli(['search', 'a red circle', '--store', dir]);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(JSON.parse(r.stdout).hits, []);
    await removeDir(dir);
  });
});
