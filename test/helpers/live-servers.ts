/**
 * Real live sources on loopback for the live tests: GStreamer's RTSP server (test/helpers/
 * rtsp_server.py, run with the Debian interpreter) and live HLS written by ffmpeg `-re` into a
 * folder served by a plain HTTP server. Tests only.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import { createServer as createNetServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { join, normalize } from 'node:path';
import { fileURLToPath } from 'node:url';

const RTSP_SCRIPT = fileURLToPath(new URL('../../../test/helpers/rtsp_server.py', import.meta.url));
/** The Debian interpreter, which has `gi` (another python3 first on PATH may not). */
const PYTHON = process.env.CLIPSTREAM_TEST_PYTHON ?? '/usr/bin/python3';

export async function freePort(): Promise<number> {
  const s = createNetServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  const { port } = s.address() as AddressInfo;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

export interface RtspServer {
  readonly url: string;
  /** Wall clock (ms) of every "play" the server printed: a client's media set up. */
  readonly plays: number[];
  /** The Transport header of every SETUP (`RTP/AVP/TCP;...` interleaved, `RTP/AVP/UDP;...` over UDP). */
  readonly transports: string[];
  readonly child: ChildProcess;
  /** SIGKILL, and wait until it is gone. */
  kill(): Promise<void>;
}

/** Starts the RTSP server for `file` on `port` and waits until it listens. */
export function startRtspServer(file: string, port: number): Promise<RtspServer> {
  return new Promise((resolve, reject) => {
    const child = spawn(PYTHON, [RTSP_SCRIPT, file, String(port)], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    const plays: number[] = [];
    const transports: string[] = [];
    let started = false;
    const exited = new Promise<void>((r) => child.once('exit', () => r()));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`rtsp server did not start: ${err}`));
    }, 20_000);
    child.stderr!.setEncoding('utf8').on('data', (d: string) => (err += d));
    child.stdout!.setEncoding('utf8').on('data', (d: string) => {
      out += d;
      for (const p of d.matchAll(/play (\d+)/g)) plays.push(Number(p[1]));
      for (const t of d.matchAll(/transport (\S+)/g)) transports.push(t[1]!);
      const m = /ready (\S+)/.exec(out);
      if (m && !started) {
        started = true;
        clearTimeout(timer);
        resolve({
          url: m[1]!,
          plays,
          transports,
          child,
          kill: async () => {
            if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
            await exited;
          },
        });
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`rtsp server exited (${code}): ${err}`));
    });
  });
}

export interface StaticServer {
  readonly base: string;
  close(): Promise<void>;
}

/** Serves the files of `dir` on 127.0.0.1 (no listing, no caching). */
export async function serveFolder(dir: string): Promise<StaticServer> {
  const server: Server = createServer((req, res) => {
    const path = normalize(decodeURIComponent((req.url ?? '/').split('?')[0]!)).replace(/^(\.\.[/\\])+/, '');
    const file = join(dir, path);
    stat(file).then(
      (st) => {
        if (!st.isFile()) throw new Error('not a file');
        const type = file.endsWith('.m3u8') ? 'application/vnd.apple.mpegurl' : 'video/mp2t';
        res.writeHead(200, { 'content-type': type, 'content-length': st.size, 'cache-control': 'no-cache' });
        createReadStream(file).pipe(res);
      },
      () => {
        res.writeHead(404).end();
      },
    );
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const { port } = server.address() as AddressInfo;
  return {
    base: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

/** ffmpeg writing live HLS in real time (`-re`), 2 s segments, the whole list kept. */
export function writeLiveHls(input: string, dir: string, durationSec: number): ChildProcess {
  return spawn(
    process.env.FFMPEG_PATH ?? 'ffmpeg',
    [
      '-nostdin',
      '-hide_banner',
      '-loglevel',
      'error',
      '-re',
      '-t',
      String(durationSec),
      '-i',
      input,
      '-c:v',
      'libx264',
      '-preset',
      'ultrafast',
      '-g',
      '50',
      '-keyint_min',
      '50',
      '-sc_threshold',
      '0',
      '-f',
      'hls',
      '-hls_time',
      '2',
      '-hls_list_size',
      '0',
      '-hls_segment_filename',
      join(dir, 'seg%03d.ts'),
      join(dir, 'live.m3u8'),
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
}
