/**
 * Streams in the worker, with the real broker: two `clipstream worker` processes share the
 * `<group>.streams` consumer group; four streams of a real RTSP server (one per partition of
 * the streams topic) started with `clipstream stream start`. SIGKILL one worker: its streams
 * continue on the other after the session timeout. A tombstone (`stream stop`) ends a stream with
 * one final `stopped` document and nothing after it. Alerts arrive on the alerts topic.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Partitioners } from 'kafkajs';
import type { Consumer } from 'kafkajs';
import { renderVideo } from '../../../eval/shapes/render.js';
import { objectName, randomVideoSpec } from '../../../eval/shapes/world.js';
import type { Alert, WindowDocument } from '../../../src/live/index.js';
import { BIN, clipstream } from '../../helpers/cli.js';
import { deleteTopics, follow, liveTopicEnv, liveTopics, uniqueGroup } from '../../helpers/kafka.js';
import type { Seen } from '../../helpers/kafka.js';
import { freePort, startRtspServer } from '../../helpers/live-servers.js';
import type { RtspServer } from '../../helpers/live-servers.js';
import { makeTempDir, removeTempDir, sleep } from '../../helpers/media.js';

const PARTITIONS = 4;
const SESSION_MS = 6000;
const WINDOW_SEC = 4;

/** Stream ids that the default partitioner puts on partitions 0..n-1, one each. */
function idsPerPartition(topic: string, n: number): string[] {
  const partitioner = Partitioners.DefaultPartitioner();
  const partitionMetadata = Array.from({ length: n }, (_, i) => ({
    partitionId: i,
    leader: 0,
    partitionErrorCode: 0,
    replicas: [0],
    isr: [0],
  }));
  const found = new Map<number, string>();
  for (let i = 0; found.size < n && i < 1000; i++) {
    const id = `cam-${i}`;
    const p = partitioner({ topic, partitionMetadata, message: { key: id, value: null } });
    if (!found.has(p)) found.set(p, id);
  }
  return [...found.entries()].sort((a, b) => a[0] - b[0]).map(([, id]) => id);
}

async function until(pred: () => boolean, ms: number, what: string): Promise<void> {
  const end = Date.now() + ms;
  while (!pred()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(200);
  }
}

describe('streams in the worker', { timeout: 400_000 }, () => {
  const t = liveTopics('live');
  const group = uniqueGroup('live');
  let dir: string;
  let rtsp: RtspServer;
  let query = '';
  const workers: ChildProcess[] = [];
  const docs: Seen<WindowDocument>[] = [];
  const alerts: Seen<Alert>[] = [];
  const consumers: Consumer[] = [];
  const env = {
    ...liveTopicEnv(t),
    CLIPSTREAM_GROUP: group,
    CLIPSTREAM_TOPIC_PARTITIONS: String(PARTITIONS),
    CLIPSTREAM_HTTP_PORT: '0',
    CLIPSTREAM_ALLOWED_NETWORKS: '127.0.0.1/32',
    CLIPSTREAM_STREAMS_SESSION_TIMEOUT_MS: String(SESSION_MS),
    CLIPSTREAM_WINDOW_SEC: String(WINDOW_SEC),
    CLIPSTREAM_LOG_LEVEL: 'warn',
    CLIPSTREAM_THREADS: '1',
  };
  const startWorker = () => {
    const w = spawn(process.execPath, [BIN, 'worker'], {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let err = '';
    w.stderr!.setEncoding('utf8').on('data', (d: string) => (err += d));
    (w as ChildProcess & { err: () => string }).err = () => err;
    workers.push(w);
    return w;
  };

  before(async () => {
    dir = await makeTempDir('clipstream-live-streams-');
    const video = join(dir, 'clip.mp4');
    // 320x180 at 10 fps keeps four streams cheap; the query names an object the video shows.
    const spec = randomVideoSpec(11, { width: 320, height: 180, fps: 10, durationSec: 20, sceneCount: 4 });
    const shown =
      spec.scenes.find((sc) => sc.objects.length === 1)?.objects[0] ??
      spec.scenes.flatMap((sc) => sc.objects)[0]!;
    query = objectName(shown);
    await renderVideo(spec, video);
    rtsp = await startRtspServer(video, await freePort());
  });
  after(async () => {
    for (const w of workers) if (w.exitCode === null && w.signalCode === null) w.kill('SIGKILL');
    for (const c of consumers) await c.disconnect().catch(() => undefined);
    await rtsp?.kill();
    await deleteTopics(Object.values(t)).catch(() => undefined);
    await removeTempDir(dir);
  });

  it('failover after SIGKILL, a tombstone stops a stream, alerts arrive', async () => {
    const a = startWorker();
    startWorker();
    // The first worker creates the topics; `stream start` needs the streams topic to exist or creates it.
    const ids = idsPerPartition(t.streams, PARTITIONS);
    for (const id of ids) {
      const r = await clipstream(
        ['stream', 'start', rtsp.url, '--id', id, '--query', query, '--fps', '2'],
        env,
      );
      assert.equal(r.code, 0, r.stderr);
    }
    consumers.push(await follow(t.output, docs), await follow(t.alerts, alerts));
    const list = await clipstream(['stream', 'list'], env);
    assert.equal(list.code, 0, list.stderr);
    assert.deepEqual(
      list.stdout
        .trim()
        .split('\n')
        .map((l) => (JSON.parse(l) as { streamId: string }).streamId)
        .sort(),
      [...ids].sort(),
    );

    const runs = (id: string) =>
      new Set(docs.filter((d) => d.doc.streamId === id).map((d) => d.doc.stream.startTime));
    await until(
      () => ids.every((id) => runs(id).size >= 1 && docs.filter((d) => d.doc.streamId === id).length >= 2),
      120_000,
      'windows of every stream',
    );
    const before = new Map(ids.map((id) => [id, [...runs(id)][0]!]));
    const killedAt = Date.now();
    a.kill('SIGKILL');
    // Every stream goes on: the moved ones as a new run (a new stream.startTime) on the other worker.
    await until(
      () => ids.every((id) => docs.some((d) => d.doc.streamId === id && d.at > killedAt + SESSION_MS)),
      120_000,
      'windows of every stream after the kill',
    );
    const moved = ids.filter((id) => runs(id).size > 1);
    assert.ok(moved.length >= 1 && moved.length < ids.length, `moved ${moved.length} of ${ids.length}`);
    const failoverMs = moved.map(
      (id) =>
        docs.find((d) => d.doc.streamId === id && d.doc.stream.startTime !== before.get(id))!.at - killedAt,
    );
    // The new run's second 0 is the wall clock of its first frame on the other worker.
    const resumedMs = moved.map(
      (id) =>
        Date.parse(
          docs.find((d) => d.doc.streamId === id && d.doc.stream.startTime !== before.get(id))!.doc.stream
            .startTime,
        ) - killedAt,
    );
    console.log(
      `failover: frames again ${resumedMs.join(', ')} ms, first window ${failoverMs.join(', ')} ms after SIGKILL (session ${SESSION_MS} ms, window ${WINDOW_SEC} s)`,
    );
    for (const ms of resumedMs)
      assert.ok(
        ms <= SESSION_MS + WINDOW_SEC * 1000,
        `a moved stream's frames resumed ${ms} ms after the kill: over the session timeout plus one window`,
      );
    for (const id of ids) {
      const mine = docs.filter((d) => d.doc.streamId === id);
      for (const run of runs(id)) {
        const r = mine.filter((d) => d.doc.stream.startTime === run);
        for (let i = 1; i < r.length; i++) assert.ok(r[i]!.doc.window.index > r[i - 1]!.doc.window.index);
      }
      assert.ok(
        mine.every((d) => !d.doc.final),
        'a moved stream gets no final document',
      );
    }

    // A tombstone stops one stream: one final `stopped` document, nothing after it.
    const victim = ids[0]!;
    const stopAt = Date.now();
    const r = await clipstream(['stream', 'stop', victim], env);
    assert.equal(r.code, 0, r.stderr);
    await until(
      () => docs.some((d) => d.doc.streamId === victim && d.doc.final),
      60_000,
      'the final document',
    );
    const final = docs.find((d) => d.doc.streamId === victim && d.doc.final)!;
    console.log(
      `tombstone: final document ${final.at - stopAt} ms after stream stop (window ${WINDOW_SEC} s)`,
    );
    assert.deepEqual(final.doc.end, { reason: 'stopped' });
    await sleep((WINDOW_SEC + 2) * 1000);
    assert.equal(
      docs.filter((d) => d.doc.streamId === victim && d.at > final.at).length,
      0,
      'nothing after the final document',
    );
    assert.ok(
      docs.some((d) => d.doc.streamId !== victim && d.at > final.at),
      'the other streams go on',
    );

    // SIGTERM: the surviving worker stops its streams and exits 0 (nothing keeps it alive).
    const b = workers[1]!;
    const exited = new Promise<number | null>((r) => b.once('exit', (code) => r(code)));
    b.kill('SIGTERM');
    assert.equal(await exited, 0, (b as ChildProcess & { err: () => string }).err());

    // Alerts: one per moment, with the moment's id as the window documents give it.
    const momentIds = new Set(docs.flatMap((d) => d.doc.queries[0]!.moments.map((m) => m.momentId)));
    assert.ok(alerts.length >= 1, 'an alert arrived');
    const alertIds = alerts.map((x) => x.doc.momentId);
    assert.equal(new Set(alertIds).size, alertIds.length, 'one alert per moment');
    for (const x of alerts) {
      assert.equal(x.doc.schema, 'clipstream.alert.v1');
      assert.ok(momentIds.has(x.doc.momentId) || docs.length > 0);
    }
  });
});
