/**
 * One `clipstream worker` with the real broker and a real RTSP server, CLIPSTREAM_MAX_STREAMS=2
 * and three streams on its one partition of the streams topic: `cam-a` (the RTSP server),
 * `cam-bad` (a closed loopback port: it never connects, and keeps trying) and `cam-c` (the RTSP
 * server, waiting for a slot).
 *
 * - Standing queries apply to streams: one published to the queries topic while `cam-a` runs
 *   appears in its later window documents (after the stream's own query), alerts when its
 *   object is on screen, and disappears after its tombstone; one for an object the video never
 *   shows never alerts.
 * - Slots: only two streams run; `cam-c` gives no document while it waits and is counted in
 *   `clipstream_streams_unassigned`; `stream stop cam-a` lets it start.
 * - /metrics has the per-stream series of `cam-a` (frames, window latency, lag, reconnects once
 *   the file has played through and the source reconnected) and the drops of `cam-bad`; /readyz
 *   stays ready while `cam-bad` fails.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Consumer, Producer } from 'kafkajs';
import { renderVideo } from '../../../eval/shapes/render.js';
import {
  COLOUR_NAMES,
  SHAPES,
  objectName,
  randomVideoSpec,
  truthMoments,
} from '../../../eval/shapes/world.js';
import { STREAM_SCHEMA } from '../../../src/live/index.js';
import type { Alert, WindowDocument } from '../../../src/live/index.js';
import { BIN, clipstream } from '../../helpers/cli.js';
import {
  createTopics,
  deleteTopics,
  follow,
  kafka,
  liveTopicEnv,
  liveTopics,
  uniqueGroup,
} from '../../helpers/kafka.js';
import type { Seen } from '../../helpers/kafka.js';
import { freePort, startRtspServer } from '../../helpers/live-servers.js';
import type { RtspServer } from '../../helpers/live-servers.js';
import { makeTempDir, removeTempDir, sleep } from '../../helpers/media.js';

const WINDOW_SEC = 4;

async function until(pred: () => boolean | Promise<boolean>, ms: number, what: () => string): Promise<void> {
  const end = Date.now() + ms;
  for (;;) {
    try {
      if (await pred()) return;
    } catch {
      // not yet (e.g. the HTTP server is not up)
    }
    if (Date.now() > end) throw new Error(`timed out waiting for ${what()}`);
    await sleep(250);
  }
}

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** The samples of a Prometheus text exposition. */
function parseMetrics(text: string): Sample[] {
  const out: Sample[] = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)/.exec(line);
    if (!m) continue;
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g))
      labels[l[1]!] = l[2]!;
    out.push({ name: m[1]!, labels, value: Number(m[3]) });
  }
  return out;
}

describe(
  'streams in one worker: standing queries, CLIPSTREAM_MAX_STREAMS, metrics',
  { timeout: 300_000 },
  () => {
    const t = liveTopics('wstreams');
    let dir: string;
    let rtsp: RtspServer;
    let port: number;
    let worker: ChildProcess | undefined;
    let err = '';
    let producer: Producer;
    const consumers: Consumer[] = [];
    const docs: Seen<WindowDocument>[] = [];
    const alerts: Seen<Alert>[] = [];
    let own = '';
    let present = '';
    let absent = '';

    before(async () => {
      dir = await makeTempDir('clipstream-live-wstreams-');
      const video = join(dir, 'clip.mp4');
      // The clip of streams.test.ts: scenes of a green square (the longest), a yellow triangle,
      // a red circle; the stream's own query names the first lone object, the standing query the
      // object on screen longest, the absent one a colour and a shape of no object in the clip.
      const spec = randomVideoSpec(11, { width: 320, height: 180, fps: 10, durationSec: 20, sceneCount: 4 });
      const shown = spec.scenes.flatMap((sc) => sc.objects);
      own = objectName(spec.scenes.find((sc) => sc.objects.length === 1)!.objects[0]!);
      const onScreen = (name: string) =>
        truthMoments(spec, name).reduce((s, m) => s + m.endSec - m.startSec, 0);
      present = [...new Set(shown.map(objectName))]
        .filter((n) => n !== own)
        .sort((a, b) => onScreen(b) - onScreen(a))[0]!;
      const colour = COLOUR_NAMES.find((c) => !shown.some((o) => o.colour === c))!;
      absent = objectName({ colour, shape: SHAPES.find((s) => shown.some((o) => o.shape === s))! });
      await renderVideo(spec, video);
      rtsp = await startRtspServer(video, await freePort());
      port = await freePort();
      await createTopics([
        t.output,
        t.alerts,
        { topic: t.streams, config: { 'cleanup.policy': 'compact' } },
        { topic: t.queries, config: { 'cleanup.policy': 'compact' } },
      ]);
      producer = kafka().producer();
      await producer.connect();
    });
    after(async () => {
      if (worker && worker.exitCode === null && worker.signalCode === null) worker.kill('SIGKILL');
      for (const c of consumers) await c.disconnect().catch(() => undefined);
      await producer?.disconnect().catch(() => undefined);
      await rtsp?.kill();
      await deleteTopics(Object.values(t)).catch(() => undefined);
      await removeTempDir(dir);
    });

    it('standing queries reach running streams; two slots for three streams; per-stream metrics; ready with a bad source', async () => {
      const env = {
        ...liveTopicEnv(t),
        CLIPSTREAM_GROUP: uniqueGroup('wstreams'),
        CLIPSTREAM_TOPIC_PARTITIONS: '1',
        CLIPSTREAM_HTTP_PORT: String(port),
        CLIPSTREAM_ALLOWED_NETWORKS: '127.0.0.1/32',
        CLIPSTREAM_MAX_STREAMS: '2',
        CLIPSTREAM_WINDOW_SEC: String(WINDOW_SEC),
        // The bad source keeps trying for the whole test instead of ending `source-lost`.
        CLIPSTREAM_STREAM_RECONNECTS: '1000',
        CLIPSTREAM_LOG_LEVEL: 'warn',
        CLIPSTREAM_THREADS: '1',
      };
      const bad = `rtsp://127.0.0.1:${await freePort()}/live`;
      const stream = (id: string, uri: string) => ({
        key: id,
        value: JSON.stringify({
          schema: STREAM_SCHEMA,
          uri,
          queries: [{ id: 'own', text: own }],
          sampling: { strategy: 'fps', fps: 2 },
        }),
      });
      // In this order on the one partition: cam-a and cam-bad take the two slots, cam-c waits.
      await producer.send({
        topic: t.streams,
        messages: [stream('cam-a', rtsp.url), stream('cam-bad', bad), stream('cam-c', rtsp.url)],
      });
      consumers.push(await follow(t.output, docs), await follow(t.alerts, alerts));
      const t0 = Date.now();
      worker = spawn(process.execPath, [BIN, 'worker'], {
        env: { ...process.env, ...env },
        stdio: ['ignore', 'ignore', 'pipe'],
      });
      worker.stderr!.setEncoding('utf8').on('data', (d: string) => (err += d));
      const tail = () => err.slice(-3000);
      const of = (id: string) => docs.filter((d) => d.doc.streamId === id);
      const scrape = async () => {
        const r = await fetch(`http://127.0.0.1:${port}/metrics`);
        assert.equal(r.status, 200);
        return parseMetrics(await r.text());
      };
      const value = (s: Sample[], name: string, streamId?: string) =>
        s.find((x) => x.name === name && (streamId === undefined || x.labels.stream_id === streamId))?.value;

      await until(
        () => of('cam-a').length >= 1,
        120_000,
        () => `a window of cam-a\n${tail()}`,
      );
      console.log(`first window of cam-a ${Date.now() - t0} ms after the worker started`);
      assert.deepEqual(
        of('cam-a')[0]!.doc.queries.map((q) => q.id),
        ['own'],
      );

      // Standing queries while cam-a runs.
      const addedAt = Date.now();
      await producer.send({
        topic: t.queries,
        messages: [
          {
            key: 'standing-present',
            value: JSON.stringify({ schema: 'clipstream.query.v1', text: present }),
          },
          { key: 'standing-absent', value: JSON.stringify({ schema: 'clipstream.query.v1', text: absent }) },
        ],
      });
      const ids = (d: Seen<WindowDocument>) => d.doc.queries.map((q) => q.id).join(',');
      await until(
        () => of('cam-a').some((d) => ids(d) === 'own,standing-absent,standing-present'),
        60_000,
        () => `the standing queries in a window of cam-a: ${of('cam-a').map(ids).join(' | ')}`,
      );
      const firstWith = of('cam-a').find((d) => ids(d) !== 'own')!;
      console.log(
        `standing queries: first in window ${firstWith.doc.window.index} of cam-a, ${firstWith.at - addedAt} ms after they were published (window ${WINDOW_SEC} s)`,
      );
      const standingAlert = () =>
        alerts.find((a) => a.doc.streamId === 'cam-a' && a.doc.queryId === 'standing-present');
      await until(
        () => standingAlert() !== undefined,
        60_000,
        () => `an alert of the standing query '${present}'\n${tail()}`,
      );
      const alert = standingAlert()!.doc;
      assert.equal(alert.schema, 'clipstream.alert.v1');
      assert.equal(alert.text, present);
      await until(
        () =>
          of('cam-a').some((d) =>
            d.doc.queries.some(
              (q) => q.id === 'standing-present' && q.moments.some((m) => m.momentId === alert.momentId),
            ),
          ),
        30_000,
        () => 'the alerted moment in a window document',
      );

      // Slots: cam-a and cam-bad run, cam-c waits and gives nothing; the bad source drops and
      // drops again while /readyz stays ready.
      await until(
        async () => (value(await scrape(), 'clipstream_stream_drops_total', 'cam-bad') ?? 0) >= 2,
        60_000,
        () => `drops of cam-bad\n${tail()}`,
      );
      let m = await scrape();
      assert.equal(value(m, 'clipstream_streams_running'), 2);
      assert.equal(value(m, 'clipstream_streams_unassigned'), 1);
      assert.equal(of('cam-c').length, 0, 'a waiting stream gives no documents');
      assert.equal(of('cam-bad').length, 0);
      const ready = await fetch(`http://127.0.0.1:${port}/readyz`);
      assert.equal(ready.status, 200);
      assert.deepEqual(((await ready.json()) as { checks: Record<string, boolean> }).checks, {
        model: true,
        standingQueries: true,
        consumer: true,
      });
      const warned = err
        .split('\n')
        .filter((l) => l.startsWith('{'))
        .map((l) => JSON.parse(l) as { msg: string; unassigned?: number });
      assert.ok(
        warned.some(
          (l) => l.msg === 'streams over CLIPSTREAM_MAX_STREAMS wait unassigned' && l.unassigned === 1,
        ),
        'the waiting stream is logged',
      );

      // Per-stream series of cam-a, labelled with its id.
      // Scraped after these documents: at least the frames they hold.
      const inDocs = of('cam-a').reduce((n, d) => n + d.doc.sampling.frames, 0);
      const frames = value(m, 'clipstream_stream_frames_total', 'cam-a') ?? 0;
      assert.ok(inDocs > 0 && frames >= inDocs, `frames counter ${frames}, frames in documents ${inDocs}`);
      assert.ok((value(m, 'clipstream_stream_window_latency_count', 'cam-a') ?? 0) >= 1);
      assert.ok((value(m, 'clipstream_stream_window_latency_sum', 'cam-a') ?? -1) >= 0);
      const lag = value(m, 'clipstream_stream_lag', 'cam-a');
      assert.ok(lag !== undefined && lag >= 0 && lag < 60, `lag ${lag}`);
      assert.equal(value(m, 'clipstream_stream_frames_total', 'cam-bad'), undefined, 'no frames of cam-bad');
      // The RTSP server ends the clip after 20 s: the source reconnects and the counter shows it.
      await until(
        async () => (value((m = await scrape()), 'clipstream_stream_reconnects_total', 'cam-a') ?? 0) >= 1,
        60_000,
        () => `a reconnect of cam-a\n${tail()}`,
      );

      const latencyCount = value(m, 'clipstream_stream_window_latency_count', 'cam-a')!;
      console.log(
        `metrics of cam-a: frames ${value(m, 'clipstream_stream_frames_total', 'cam-a')}, reconnects ${value(m, 'clipstream_stream_reconnects_total', 'cam-a')}, ` +
          `lag ${value(m, 'clipstream_stream_lag', 'cam-a')} s, window latency mean ${((value(m, 'clipstream_stream_window_latency_sum', 'cam-a')! / latencyCount) * 1000).toFixed(0)} ms over ${latencyCount}; ` +
          `drops of cam-bad ${value(m, 'clipstream_stream_drops_total', 'cam-bad')}`,
      );

      // The standing query's tombstone: gone from the next windows; the absent one stays.
      const removedAt = Date.now();
      await producer.send({ topic: t.queries, messages: [{ key: 'standing-present', value: null }] });
      await until(
        () => of('cam-a').some((d) => d.at > removedAt && ids(d) === 'own,standing-absent'),
        30_000,
        () => `a window without the removed query: ${of('cam-a').map(ids).join(' | ')}`,
      );
      const gone = of('cam-a').find((d) => d.at > removedAt && ids(d) === 'own,standing-absent')!;
      assert.ok(
        of('cam-a').every(
          (d) => d.doc.window.index <= gone.doc.window.index || ids(d) === 'own,standing-absent',
        ),
      );

      // A stop frees the slot: cam-a ends `stopped`, cam-c starts with the standing queries of now.
      const stop = await clipstream(['stream', 'stop', 'cam-a'], env);
      assert.equal(stop.code, 0, stop.stderr);
      await until(
        () => of('cam-a').some((d) => d.doc.final),
        30_000,
        () => 'the final document of cam-a',
      );
      assert.deepEqual(of('cam-a').find((d) => d.doc.final)!.doc.end, { reason: 'stopped' });
      await until(
        () => of('cam-c').length >= 1,
        90_000,
        () => `a window of cam-c\n${tail()}`,
      );
      assert.equal(ids(of('cam-c')[0]!), 'own,standing-absent');
      m = await scrape();
      assert.equal(value(m, 'clipstream_streams_running'), 2);
      assert.equal(value(m, 'clipstream_streams_unassigned'), 0);
      assert.ok((value(m, 'clipstream_stream_frames_total', 'cam-c') ?? 0) >= 1);

      // Alerts: only for queries whose object was on screen; none for the absent one.
      assert.equal(
        alerts.filter((a) => a.doc.queryId === 'standing-absent').length,
        0,
        `no alert for '${absent}'`,
      );
      const exited = new Promise<number | null>((r) => worker!.once('exit', (code) => r(code)));
      worker.kill('SIGTERM');
      assert.equal(await exited, 0, tail());
      console.log(`worker-streams: ${Date.now() - t0} ms from worker start to exit`);
    });
  },
);
