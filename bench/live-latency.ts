/**
 * Live latency and memory: one RTSP stream from GStreamer's RTSP server (the test helper)
 * playing a shapes-world video in real time, through `runStream` (the code `clipstream run` and
 * the worker use) with the bundled model.
 *
 * - window latency: a window document's arrival minus the time its last second was served
 *   (the server's play time of the connection + window.endSec);
 * - alert latency: an alert's arrival minus the time the moment's first frame was served;
 * - RSS every 10 s, of this process and its encoder lanes together (the soak: run with
 *   --minutes 30; flat within 10 % after the first minute is the goal);
 * - the floor, first (`--floor-sec`, default 60; 0 skips it): what ffmpeg alone pays, the simple
 *   alternative every consumer of the stream has under it. A plain `ffmpeg -rtsp_transport tcp
 *   -i URL` into rgb24 at 224x224 (every frame, no sampling), on its own connection; a frame's
 *   latency is its arrival on the pipe minus the time the server played it (play time + k / fps
 *   for the k-th frame of the 10 fps clip).
 *
 *   node dist/bench/live-latency.js [--minutes 5] [--window-sec 10] [--fps 2] [--floor-sec 60] [--json FILE]
 *
 * The video is as long as the run, so the stream never reconnects (the timeline stays the
 * server's). Not part of the test suite.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { renderVideo } from '../eval/shapes/render.js';
import { objectName, randomVideoSpec } from '../eval/shapes/world.js';
import { openRuntime } from '../src/cli/runtime.js';
import type { Embedder } from '../src/embed/index.js';
import { DEFAULT_MATCH_OPTIONS } from '../src/match/index.js';
import { runStream } from '../src/live/index.js';
import { createLogger } from '../src/log.js';
import { calibrationFor } from '../src/pipeline/index.js';
import { freePort, startRtspServer } from '../test/helpers/live-servers.js';
import { makeTempDir, removeTempDir } from '../test/helpers/media.js';

function pct(xs: number[], p: number): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!;
}

/** RSS of this process and of its encoder lanes (child processes that hold the model), MiB (Linux /proc). */
function rssMb(embedder: Embedder): number {
  let kb = 0;
  for (const pid of embedder.laneProcessIds) {
    if (pid === undefined) continue;
    try {
      const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
      kb += m ? Number(m[1]) : 0;
    } catch {
      // a lane between a crash and its restart
    }
  }
  return process.memoryUsage().rss / 2 ** 20 + kb / 1024;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      minutes: { type: 'string', default: '5' },
      'window-sec': { type: 'string', default: '10' },
      fps: { type: 'string', default: '2' },
      'floor-sec': { type: 'string', default: '60' },
      json: { type: 'string' },
    },
  });
  const minutes = Number(values.minutes);
  const windowSec = Number(values['window-sec']);
  const dir = await makeTempDir('clipstream-live-bench-');
  const log = createLogger({ level: 'warn', format: 'text' });
  try {
    const spec = randomVideoSpec(77, {
      width: 320,
      height: 180,
      fps: 10,
      durationSec: Math.ceil(minutes * 60) + 20,
    });
    const names = [...new Set(spec.scenes.flatMap((s) => s.objects.map(objectName)))].slice(0, 4);
    const video = join(dir, 'live.mp4');
    process.stderr.write(`rendering ${spec.scenes.length} scenes, queries ${JSON.stringify(names)}\n`);
    await renderVideo(spec, video);
    const rtsp = await startRtspServer(video, await freePort());
    const floorSec = Number(values['floor-sec']);
    const floor = floorSec > 0 ? await ffmpegFloor(rtsp.url, rtsp.plays, spec.fps, floorSec) : [];
    if (floorSec > 0) process.stderr.write(`floor: ${floor.length} frames from ffmpeg alone\n`);
    const embedder = await openRuntime({ device: 'cpu', threads: 0 }, log);
    const windowLat: number[] = [];
    const alertLat: number[] = [];
    const rss: { sec: number; mb: number }[] = [];
    const t0 = Date.now();
    const playOf = (startMs: number) => Math.max(...rtsp.plays.filter((p) => p <= startMs));
    const sampler = setInterval(
      () => rss.push({ sec: Math.round((Date.now() - t0) / 1000), mb: rssMb(embedder) }),
      10_000,
    );
    const abort = new AbortController();
    const stopper = setTimeout(() => abort.abort(), minutes * 60_000);
    let startMs = 0;
    try {
      const out = await runStream(
        {
          streamId: 'bench',
          uri: rtsp.url,
          queries: names.map((text, i) => ({ id: `q${i + 1}`, text })),
          captions: [],
          sampling: { strategy: 'fps', fps: Number(values.fps) },
          window: { windowSec },
        },
        {
          embedder,
          policy: { allowPrivateNetworks: true },
          match: DEFAULT_MATCH_OPTIONS,
          calibration: calibrationFor(embedder.pack.manifest),
          log,
          onDocument: (doc) => {
            startMs = Date.parse(doc.stream.startTime);
            if (!doc.final) windowLat.push(Date.now() - (playOf(startMs) + doc.window.endSec * 1000));
          },
          onAlert: (a) => {
            alertLat.push(
              Date.now() - (playOf(Date.parse(a.startTime) - a.startSec * 1000) + a.startSec * 1000),
            );
          },
        },
        abort.signal,
      );
      process.stderr.write(`ended ${out.reason} after ${out.documents} documents\n`);
    } finally {
      clearInterval(sampler);
      clearTimeout(stopper);
      await embedder.close();
      await rtsp.kill();
    }
    const after1 = rss.filter((r) => r.sec >= 60).map((r) => r.mb);
    const report = {
      minutes,
      windowSec,
      fps: Number(values.fps),
      windows: windowLat.length,
      alerts: alertLat.length,
      ffmpegFloorMs: { frames: floor.length, p50: pct(floor, 50), p95: pct(floor, 95) },
      windowLatencyMs: { p50: pct(windowLat, 50), p95: pct(windowLat, 95) },
      alertLatencyMs: { p50: pct(alertLat, 50), p95: pct(alertLat, 95) },
      rssMb: {
        afterFirstMinuteMin: Math.min(...after1),
        afterFirstMinuteMax: Math.max(...after1),
        growthAfterFirstMinute: after1.length > 1 ? (Math.max(...after1) - after1[0]!) / after1[0]! : NaN,
        curve: rss.map((r) => [r.sec, Math.round(r.mb * 10) / 10]),
      },
    };
    process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
    if (values.json) await writeFile(values.json, JSON.stringify(report, null, 2));
  } finally {
    await removeTempDir(dir);
  }
}

/**
 * ffmpeg alone on its own connection for `seconds`: per frame, arrival on the pipe minus the
 * time the server played it. The server starts each client's pipeline at the file's start.
 */
async function ffmpegFloor(url: string, plays: number[], fps: number, seconds: number): Promise<number[]> {
  const size = 224 * 224 * 3;
  const before = plays.length;
  const child = spawn(
    'ffmpeg',
    [
      '-nostdin',
      '-loglevel',
      'error',
      '-rtsp_transport',
      'tcp',
      '-i',
      url,
      '-an',
      '-vf',
      'scale=224:224',
    ].concat(['-f', 'rawvideo', '-pix_fmt', 'rgb24', 'pipe:1']),
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const arrivals: number[] = [];
  let buffered = 0;
  child.stdout.on('data', (d: Buffer) => {
    buffered += d.length;
    while (buffered >= size) {
      buffered -= size;
      arrivals.push(Date.now());
    }
  });
  const stop = setTimeout(() => child.kill('SIGTERM'), seconds * 1000);
  await new Promise((r) => child.once('close', r));
  clearTimeout(stop);
  const play = plays[before];
  if (play === undefined) throw new Error('the RTSP server saw no client for the floor');
  return arrivals.map((at, k) => at - (play + (k / fps) * 1000));
}

main().catch((err: unknown) => {
  process.stderr.write(`live-latency: ${String(err)}\n`);
  process.exit(1);
});
