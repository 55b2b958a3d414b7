// The worker as a process (`node bin/clipstream.js worker`): health endpoints, SIGTERM exits 0
// within the 20 s budget committing what finished and handing back what did not, SIGKILL mid-
// stream loses nothing after a restart, and missing topics stop start-up with one coded line.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { pathToFileURL } from 'node:url';
import { deleteTopics, waitFor } from '../../helpers/kafka.js';
import {
  committedToEnd,
  freePort,
  httpGet,
  json,
  makeClip,
  names,
  produce,
  readUntil,
  removeDir,
  spawnWorker,
  tempDir,
  testConfig,
  videoEvent,
  waitForLog,
  serveClip,
} from './helpers.js';
import type { ChildWorker, Names, Read } from './helpers.js';

let media: string;
let server: Awaited<ReturnType<typeof serveClip>>;
let base: string;
let release = false;
let slowRequests = 0;
const used: Names[] = [];
const children: ChildWorker[] = [];

before(async () => {
  media = await tempDir('cs-lifecycle-');
  await makeClip(join(media, 'a.mp4'), { seconds: 3 });
  // /slow.mp4 hangs until released
  server = await serveClip(join(media, 'a.mp4'), (url) => url === '/slow.mp4' && (slowRequests++, !release));
  base = server.base;
});

after(async () => {
  for (const c of children)
    if (c.child.exitCode === null && c.child.signalCode === null) c.child.kill('SIGKILL');
  await server.close();
  await deleteTopics(used.flatMap((n) => [n.inputTopic, n.outputTopic, n.dlqTopic, n.queriesTopic]));
  await removeDir(media);
});

function spawn(...args: Parameters<typeof spawnWorker>): ChildWorker {
  const c = spawnWorker(...args);
  children.push(c);
  return c;
}

/** videoId -> resultIds seen (more than one entry would break de-duplication). */
function resultIdsById(results: Read[]): Map<string, string[]> {
  const m = new Map<string, string[]>();
  for (const r of results) {
    const doc = json<{ videoId: string; resultId: string }>(r);
    m.set(doc.videoId, [...(m.get(doc.videoId) ?? []), doc.resultId]);
  }
  return m;
}

describe('worker process', { timeout: 600_000 }, () => {
  it('serves health and metrics; SIGTERM exits 0 within 20 s, finished work committed, unfinished work redone by the next worker', async () => {
    const n = names('sigterm');
    used.push(n);
    const port = await freePort();
    const config = testConfig(n, {
      mediaRoot: media,
      allowPrivateNetworks: true,
      topicPartitions: 2,
      httpPort: port,
    });
    const env = {
      CLIPSTREAM_SHUTDOWN_GRACE_MS: '1500',
      CLIPSTREAM_ALLOW_PRIVATE_NETWORKS: 'true',
      CLIPSTREAM_MAX_VIDEOS_IN_FLIGHT: '2',
    };
    const w1 = spawn(config, env);
    await waitFor(
      async () => (await httpGet(port, '/healthz').catch(() => ({ status: 0 }))).status === 200,
      120_000,
      '/healthz',
    );
    await waitFor(async () => (await httpGet(port, '/readyz')).status === 200, 120_000, '/readyz');
    const ready = JSON.parse((await httpGet(port, '/readyz')).body) as { checks: Record<string, boolean> };
    assert.deepEqual(ready.checks, { model: true, standingQueries: true, consumer: true });

    const file = pathToFileURL(join(media, 'a.mp4')).href;
    // The slow video alone on partition 0, the quick ones on partition 1.
    const quick = Array.from({ length: 4 }, (_, i) => ({ ...videoEvent(`quick-${i}`, file), partition: 1 }));
    await produce(config.inputTopic, [{ ...videoEvent('slow', `${base}/slow.mp4`), partition: 0 }, ...quick]);
    await readUntil(config.outputTopic, (rs) => quick.every((q) => rs.some((r) => r.key === q.key)));
    await waitFor(() => slowRequests >= 1, 60_000, 'the slow video in flight');

    const metrics = await httpGet(port, '/metrics');
    assert.equal(metrics.status, 200);
    assert.match(metrics.body, /clipstream_events_total\{outcome="result"[^}]*\} 4/);
    assert.match(metrics.body, /clipstream_stage_duration_count\{stage="frames"/);
    assert.match(metrics.body, /clipstream_embed_batch_size_count/);
    assert.match(metrics.body, /clipstream_consumer_lag\{/);
    assert.match(metrics.body, /clipstream_videos_in_flight\{[^}]*\} 1/);

    const t0 = Date.now();
    w1.child.kill('SIGTERM');
    const exit = await w1.exited;
    const tookMs = Date.now() - t0;
    assert.deepEqual(exit, { code: 0, signal: null }, w1.stderr().slice(-3000));
    assert.ok(tookMs < 20_000, `SIGTERM took ${tookMs} ms`);
    await waitForLog(w1, 'worker exited', 1000);

    // The next worker does only the unfinished video: the finished ones were committed.
    release = true;
    const w2 = spawn(config, env);
    const results = await readUntil(config.outputTopic, (rs) => rs.some((r) => r.key === 'slow'), 180_000);
    await waitFor(() => committedToEnd(config.group, config.inputTopic), 60_000, 'all offsets committed');
    const ids = resultIdsById(await readUntil(config.outputTopic, (rs) => rs.length >= results.length));
    for (const q of quick) assert.equal(ids.get(q.key!)?.length, 1, `${q.key} was done once`);
    assert.equal(ids.get('slow')?.length, 1);
    w2.child.kill('SIGTERM');
    assert.equal((await w2.exited).code, 0);
  });

  it('SIGKILL mid-stream, then a restart: no video is lost, duplicates carry the same resultId', async () => {
    const n = names('sigkill');
    used.push(n);
    const config = testConfig(n, { mediaRoot: media, topicPartitions: 3 });
    const w1 = spawn(config);
    await waitForLog(w1, 'worker started');
    const file = pathToFileURL(join(media, 'a.mp4')).href;
    const events = Array.from({ length: 12 }, (_, i) =>
      videoEvent(`kill-${i}`, file, { queries: [{ id: 'q', text: `query ${i}` }] }),
    );
    await produce(config.inputTopic, events);
    await readUntil(config.outputTopic, (rs) => rs.length >= 3);
    w1.child.kill('SIGKILL');
    assert.equal((await w1.exited).signal, 'SIGKILL');

    const w2 = spawn(config);
    const results = await readUntil(
      config.outputTopic,
      (rs) => events.every((e) => rs.some((r) => r.key === e.key)),
      300_000,
    );
    const ids = resultIdsById(results);
    for (const e of events) {
      const seen = new Set(ids.get(e.key!));
      assert.equal(seen.size, 1, `${e.key}: one resultId however often it was done`);
    }
    await waitFor(() => committedToEnd(config.group, config.inputTopic), 60_000, 'all offsets committed');
    w2.child.kill('SIGTERM');
    assert.equal((await w2.exited).code, 0);
  });

  it('missing topics with creation off stop start-up with one CLIPSTREAM_TOPIC_MISSING line and a non-zero exit', async () => {
    const n = names('missing');
    const config = testConfig(n, { mediaRoot: media });
    const w = spawn(config, { CLIPSTREAM_CREATE_TOPICS: 'false' });
    const exit = await w.exited;
    assert.notEqual(exit.code, 0);
    const last = w.stderr().trim().split('\n').pop() ?? '';
    assert.match(last, /^clipstream: CLIPSTREAM_TOPIC_MISSING: topics .*missing-videos.* do not exist/);
  });
});
