/**
 * `clipstream run <live-uri>` against real live servers on loopback: GStreamer's RTSP server
 * playing the shapes-world demo video in real time, and live HLS written by ffmpeg `-re`. The
 * bundled model, real ffmpeg. Truth comes from the renderer's spec.
 */
import assert from 'node:assert/strict';
import { access, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { demoVideoSpec } from '../../../eval/shapes/demo.js';
import { renderVideo } from '../../../eval/shapes/render.js';
import { truthMoments } from '../../../eval/shapes/world.js';
import type { WindowDocument } from '../../../src/live/index.js';
import { ResultDocumentSchema } from '../../../src/pipeline/index.js';
import { freePort, serveFolder, startRtspServer, writeLiveHls } from '../../helpers/live-servers.js';
import type { RtspServer } from '../../helpers/live-servers.js';
import { makeTempDir, removeTempDir, sleep } from '../../helpers/media.js';
import { NdjsonRun } from '../../helpers/ndjson-run.js';

const LOOPBACK = { CLIPSTREAM_ALLOWED_NETWORKS: '127.0.0.1/32' };
const spec = demoVideoSpec(); // 24 s: red circle 0-4, ..., green triangle 12-16, red circle 16-20
const QUERIES = ['a red circle', 'a green triangle', 'a green circle'];
const args = (uri: string) => [
  'run',
  uri,
  '--fps',
  '2',
  '--window-sec',
  '4',
  ...QUERIES.flatMap((q) => ['--query', q]),
];

function iou(a: { startSec: number; endSec: number }, b: { startSec: number; endSec: number }): number {
  const inter = Math.min(a.endSec, b.endSec) - Math.max(a.startSec, b.startSec);
  return Math.max(0, inter) / (Math.max(a.endSec, b.endSec) - Math.min(a.startSec, b.startSec));
}

/** The last report of every moment of query `qi`, by momentId. */
function moments(docs: WindowDocument[], qi: number) {
  const byId = new Map<string, { startSec: number; endSec: number }>();
  for (const d of docs) for (const m of d.queries[qi]!.moments) byId.set(m.momentId, m);
  return [...byId.values()];
}

function checkTimeline(docs: WindowDocument[]): void {
  for (let i = 1; i < docs.length; i++) {
    assert.ok(docs[i]!.window.index > docs[i - 1]!.window.index, 'window indices increase');
    assert.ok(docs[i]!.window.startSec >= docs[i - 1]!.window.endSec, 'windows do not go back in time');
    assert.equal(docs[i]!.stream.startTime, docs[0]!.stream.startTime, 'one stream start time per run');
  }
  assert.equal(docs.filter((d) => d.final).length, 1, 'exactly one final document');
  assert.equal(docs.at(-1)!.final, true, 'the final document comes last');
}

describe('clipstream run <live-uri>', () => {
  let dir: string;
  let video: string;
  let rtsp: RtspServer | undefined;
  let port: number;
  before(async () => {
    dir = await makeTempDir('clipstream-live-');
    video = join(dir, 'demo.mp4');
    await renderVideo(spec, video);
    port = await freePort();
  });
  after(async () => {
    await rtsp?.kill();
    await removeTempDir(dir);
  });

  it('RTSP: windows arrive while the video plays, with moments at the right times; SIGINT ends it `stopped`', async () => {
    rtsp = await startRtspServer(video, port);
    const run = new NdjsonRun<WindowDocument>(args(rtsp.url), LOOPBACK);
    // Windows 0..5 cover the 24 s clip.
    await run.until(() => run.lines.some((l) => l.doc.window.index >= 6), 90_000, 'six windows');
    run.child.kill('SIGINT');
    assert.equal(await run.exit, 0, run.stderr);
    const docs = run.lines.map((l) => l.doc);
    checkTimeline(docs);
    assert.deepEqual(docs.at(-1)!.end, { reason: 'stopped' });
    for (const d of docs) {
      assert.equal(ResultDocumentSchema.safeParse(d).success, true, JSON.stringify(d).slice(0, 300));
      assert.equal(d.live, true);
      assert.equal(d.window.endSec - d.window.startSec <= 4, true);
    }
    // Streamed: the first window came while the clip was still playing, long before the sixth.
    const sixth = run.lines.find((l) => l.doc.window.index >= 5)!;
    assert.ok(sixth.at - run.lines[0]!.at >= 10_000, 'windows arrive as the stream plays');
    assert.equal(new Set(docs.map((d) => d.resultId)).size, docs.length, 'one resultId per window');
    const played = docs.filter((d) => d.window.endSec <= 24);
    for (const [qi, text] of [
      [0, 'a red circle'],
      [1, 'a green triangle'],
    ] as const) {
      const found = moments(played, qi);
      for (const t of truthMoments(spec, text)) {
        const best = Math.max(0, ...found.map((m) => iou(m, t)));
        assert.ok(best >= 0.5, `${text}: tIoU ${best} for ${JSON.stringify(t)} in ${JSON.stringify(found)}`);
      }
    }
    assert.deepEqual(moments(docs, 2), [], 'a green circle never appears');
    // A moment that crosses a window edge keeps its id and is open in the earlier window.
    const crossing = docs.flatMap((d) =>
      d.queries[0]!.moments.filter((m) => m.open).map((m) => [d.window.index, m.momentId]),
    );
    for (const [index, id] of crossing) {
      const next = docs.find((d) => d.window.index > (index as number));
      if (next)
        assert.ok(
          next.queries[0]!.moments.some((m) => m.momentId === id),
          `moment ${String(id)} continues`,
        );
    }
    await rtsp.kill();
    rtsp = undefined;
  });

  it('RTSP: the server killed mid-stream and restarted: reconnect, monotonic timeline; killed for good: `source-lost`', async () => {
    rtsp = await startRtspServer(video, port);
    const run = new NdjsonRun<WindowDocument>(args(rtsp.url), {
      ...LOOPBACK,
      CLIPSTREAM_STREAM_STALL_SEC: '3',
      CLIPSTREAM_STREAM_RECONNECTS: '5',
    });
    await run.until(() => run.lines.length >= 2, 60_000, 'two windows');
    await rtsp.kill();
    const killedAt = run.lines.at(-1)!.doc.window.endSec;
    await sleep(1500);
    rtsp = await startRtspServer(video, port);
    await run.until(
      () => run.lines.some((l) => l.doc.window.startSec > killedAt + 1.5 && l.doc.sampling.frames > 0),
      60_000,
      'a window with frames after the restart',
    );
    assert.match(run.stderr, /reconnecting/);
    // The reconnect reused the first connection's probe: one RTSP client (ffmpeg), not two.
    assert.equal(rtsp.plays.length, 1, `clients of the restarted server: ${rtsp.plays.length}`);
    await rtsp.kill();
    rtsp = undefined;
    assert.equal(await run.exit, 1, run.stderr);
    const docs = run.lines.map((l) => l.doc);
    checkTimeline(docs);
    assert.deepEqual(docs.at(-1)!.end, { reason: 'source-lost' });
    assert.match(run.stderr, /CLIPSTREAM_STREAM_LOST/);
  });

  it('RTSP over UDP: refused unless CLIPSTREAM_RTSP_UDP allows it; with it, RTP comes over UDP', async () => {
    rtsp = await startRtspServer(video, port);
    const refused = new NdjsonRun<WindowDocument>([...args(rtsp.url), '--rtsp-transport', 'udp'], LOOPBACK);
    assert.equal(await refused.exit, 1);
    assert.equal(refused.lines.length, 0, 'no window document');
    assert.equal(refused.stderr.trim().split('\n').length, 1, refused.stderr);
    assert.match(refused.stderr, /CLIPSTREAM_URI_REFUSED.*UDP/);
    assert.deepEqual(rtsp.transports, [], 'refused before any connection');
    const run = new NdjsonRun<WindowDocument>([...args(rtsp.url), '--rtsp-transport', 'udp'], {
      ...LOOPBACK,
      CLIPSTREAM_RTSP_UDP: 'true',
    });
    await run.until(
      () => run.lines.filter((l) => l.doc.sampling.frames > 0).length >= 2,
      60_000,
      'two windows with frames',
    );
    run.child.kill('SIGINT');
    assert.equal(await run.exit, 0, run.stderr);
    checkTimeline(run.lines.map((l) => l.doc));
    assert.ok(rtsp.transports.length >= 1, 'the server saw a SETUP');
    for (const t of rtsp.transports) assert.doesNotMatch(t, /TCP|interleaved/, `UDP asked for: ${t}`);
    await rtsp.kill();
    rtsp = undefined;
  });

  it('live HLS through the policy proxy: windows while the playlist grows, one final document after #EXT-X-ENDLIST', async () => {
    const hls = join(dir, 'hls');
    await mkdir(hls);
    const writer = writeLiveHls(video, hls, 14);
    const writerDone = new Promise<number | null>((r) => writer.once('close', r));
    const server = await serveFolder(hls);
    try {
      for (let i = 0; i < 100; i++) {
        try {
          await access(join(hls, 'live.m3u8'));
          break;
        } catch {
          await sleep(200);
        }
      }
      const run = new NdjsonRun<WindowDocument>(args(`${server.base}/live.m3u8`), LOOPBACK);
      await run.until(() => run.lines.length >= 1, 60_000, 'a first window');
      assert.equal(writer.exitCode, null, 'the first window arrived while the playlist was still growing');
      assert.equal(await writerDone, 0);
      assert.equal(await run.exit, 0, run.stderr);
      const docs = run.lines.map((l) => l.doc);
      checkTimeline(docs);
      assert.deepEqual(docs.at(-1)!.end, { reason: 'source-ended' });
      assert.ok(docs.length >= 2, `${docs.length} documents`);
    } finally {
      writer.kill('SIGKILL');
      await server.close();
    }
  });
});
