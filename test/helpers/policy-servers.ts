/**
 * Two real HTTP servers on loopback for the network-policy tests: an "allowed" one on 127.0.0.2
 * (the tests set CLIPSTREAM_ALLOWED_NETWORKS=127.0.0.2/32) and a "private" one on 127.0.0.1 that
 * serves the same media, so anything that reached it would work: a refusal is the policy's
 * doing, and the private server's log must stay empty.
 *
 * Routes of the allowed server:
 *   /clip.mp4                  a real MP4 (ffmpeg's test pattern)
 *   /redirect.mp4              302 to the private server's /clip.mp4
 *   /hls.m3u8                  HLS whose segments are on the allowed server
 *   /hls-private-segments.m3u8 HLS whose segments are on the private server
 *   /hls-private-key.m3u8      AES-128 HLS, segments on the allowed server, key on the private one
 * and the same over https (`allowedHttps`, `privateHttps`, with the certificate of
 * test/fixtures/tls), where /redirect.mp4 goes to the private https server: ffmpeg tunnels these
 * through CONNECT.
 */
import { randomBytes } from 'node:crypto';
import { readFile, readdir, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ffmpeg, makeClip } from './media.js';

const FIXTURES = fileURLToPath(new URL('../../../test/fixtures/tls', import.meta.url));

export interface PolicyServers {
  /** `http://127.0.0.2:PORT` */
  readonly allowed: string;
  /** `http://127.0.0.1:PORT` */
  readonly private: string;
  /** `https://127.0.0.2:PORT` */
  readonly allowedHttps: string;
  /** `https://127.0.0.1:PORT` */
  readonly privateHttps: string;
  /** Every connection and request the private server saw (must stay empty). */
  readonly privateHits: string[];
  /** Requests the allowed servers answered: `METHOD SCHEME PATH`, e.g. `GET http /clip.mp4`. */
  readonly allowedHits: string[];
  close(): Promise<void>;
}

async function listen(server: Server, host: string): Promise<number> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, host, () => resolve());
  });
  return (server.address() as AddressInfo).port;
}

/** Renders the media into `dir` and starts both servers. */
export async function startPolicyServers(dir: string): Promise<PolicyServers> {
  const clip = await makeClip(join(dir, 'clip.mp4'), {
    durationSec: 2,
    fps: 10,
    width: 160,
    height: 90,
    gop: 10,
    extra: ['-movflags', '+faststart'],
  });
  await ffmpeg([
    '-i',
    clip,
    '-c',
    'copy',
    '-f',
    'hls',
    '-hls_time',
    '1',
    '-hls_list_size',
    '0',
    '-hls_segment_filename',
    join(dir, 'seg%d.ts'),
    join(dir, 'plain.m3u8'),
  ]);
  await writeFile(join(dir, 'enc.key'), randomBytes(16));
  await writeFile(join(dir, 'keyinfo'), `KEY_URI\n${join(dir, 'enc.key')}\n`);
  await ffmpeg([
    '-i',
    clip,
    '-c',
    'copy',
    '-f',
    'hls',
    '-hls_time',
    '1',
    '-hls_list_size',
    '0',
    '-hls_key_info_file',
    join(dir, 'keyinfo'),
    '-hls_segment_filename',
    join(dir, 'encseg%d.ts'),
    join(dir, 'enc.m3u8'),
  ]);
  const files = new Set(await readdir(dir));

  const privateHits: string[] = [];
  const allowedHits: string[] = [];
  let allowedBase = '';
  let privateBase = '';
  const serveFile = async (name: string, res: ServerResponse) => {
    if (!files.has(name)) return void res.writeHead(404).end();
    const body = await readFile(join(dir, name));
    res.writeHead(200, { 'content-length': body.length }).end(body);
  };
  const playlist = async (file: string, segmentBase: string, keyUri?: string) => {
    const text = await readFile(join(dir, file), 'utf8');
    return text
      .split('\n')
      .map((l) => (/^(enc)?seg\d+\.ts$/.test(l) ? `${segmentBase}/${l}` : l))
      .join('\n')
      .replace('KEY_URI', keyUri ?? '');
  };

  // One handler for the allowed server, plain and TLS; `self` and `other` are its own base and
  // the private server's base of the same scheme.
  const allowedHandler =
    (self: () => string, other: () => string) =>
    (req: IncomingMessage, res: ServerResponse): void => {
      const path = new URL(req.url ?? '/', 'http://x').pathname;
      allowedHits.push(`${req.method} ${self().split(':')[0]} ${path}`);
      const m3u8 = (text: string) =>
        res.writeHead(200, { 'content-type': 'application/vnd.apple.mpegurl' }).end(text);
      switch (path) {
        case '/redirect.mp4':
          return void res.writeHead(302, { location: `${other()}/clip.mp4` }).end();
        case '/hls.m3u8':
          return void playlist('plain.m3u8', self()).then(m3u8);
        case '/hls-private-segments.m3u8':
          return void playlist('plain.m3u8', other()).then(m3u8);
        case '/hls-private-key.m3u8':
          return void playlist('enc.m3u8', self(), `${other()}/enc.key`).then(m3u8);
        default:
          return void serveFile(path.slice(1), res);
      }
    };
  const privateHandler = (req: IncomingMessage, res: ServerResponse): void => {
    privateHits.push(`${req.method} ${req.url}`);
    void serveFile(new URL(req.url ?? '/', 'http://x').pathname.slice(1), res);
  };
  const tls = {
    cert: await readFile(join(FIXTURES, 'cert.pem')),
    key: await readFile(join(FIXTURES, 'key.pem')),
  };
  let allowedHttpsBase = '';
  let privateHttpsBase = '';
  const allowed = createServer(
    allowedHandler(
      () => allowedBase,
      () => privateBase,
    ),
  );
  const allowedTls = createHttpsServer(
    tls,
    allowedHandler(
      () => allowedHttpsBase,
      () => privateHttpsBase,
    ),
  );
  const priv = createServer(privateHandler);
  const privTls = createHttpsServer(tls, privateHandler);
  for (const s of [priv, privTls])
    s.on('connection', (c: Socket) => privateHits.push(`connection from ${c.remoteAddress}`));
  allowedBase = `http://127.0.0.2:${await listen(allowed, '127.0.0.2')}`;
  privateBase = `http://127.0.0.1:${await listen(priv, '127.0.0.1')}`;
  allowedHttpsBase = `https://127.0.0.2:${await listen(allowedTls, '127.0.0.2')}`;
  privateHttpsBase = `https://127.0.0.1:${await listen(privTls, '127.0.0.1')}`;
  return {
    allowed: allowedBase,
    private: privateBase,
    allowedHttps: allowedHttpsBase,
    privateHttps: privateHttpsBase,
    privateHits,
    allowedHits,
    async close() {
      for (const s of [allowed, priv, allowedTls, privTls]) {
        s.closeAllConnections();
        await new Promise<void>((r) => s.close(() => r()));
      }
    },
  };
}
