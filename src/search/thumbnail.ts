/**
 * Thumbnails for `clipstream serve`: ffmpeg grabs one frame at a moment's peak from the video's
 * source, opened under the same source policy as the worker (media root, networks; http(s)
 * through the policy proxy, like every other ffmpeg fetch), and the JPEG is kept in a small LRU
 * cache. The URI comes from the store, never from the request.
 */
import { spawn } from 'node:child_process';
import { LRUCache } from 'lru-cache';
import { ClipstreamError } from '../errors.js';
import { PolicyProxy, checkFfmpeg, openSource, sourceInputOptions } from '../frames/index.js';
import type { ResolvedSource, SourcePolicy } from '../frames/index.js';
import type { Logger } from '../log.js';

const TIMEOUT_MS = 15_000;
const MAX_BYTES = 4 * 1024 * 1024;
const HEIGHT = 180;

export class Thumbnails {
  private readonly cache: LRUCache<string, Buffer>;
  private readonly proxy: PolicyProxy;
  private ffmpeg: Promise<string> | undefined;

  constructor(
    private readonly policy: SourcePolicy,
    cacheSize: number,
    private readonly log: Logger,
  ) {
    this.cache = new LRUCache({ max: Math.max(1, cacheSize) });
    this.proxy = new PolicyProxy(log);
  }

  /** A JPEG of the frame at `sec` of `uri` (cached by URI and time, to the millisecond). */
  async get(uri: string, sec: number, signal?: AbortSignal): Promise<Buffer> {
    const key = `${Math.round(sec * 1000)}:${uri}`;
    const hit = this.cache.get(key);
    if (hit) return hit;
    const opened = await openSource(uri, this.policy, {
      videoId: `thumbnail:${uri.slice(0, 200)}`,
      log: this.log,
      proxy: this.proxy,
      limits: { timeoutMs: TIMEOUT_MS, networkTimeoutMs: TIMEOUT_MS, networkMaxMs: TIMEOUT_MS },
    });
    try {
      if (opened.source.kind === 'rtsp')
        throw new ClipstreamError('CLIPSTREAM_URI_REFUSED', 'no thumbnails of live sources');
      this.ffmpeg ??= checkFfmpeg().then((b) => b.ffmpeg);
      const bin = await this.ffmpeg;
      const jpeg = await grab(bin, opened.source, Math.max(0, sec), signal).catch((err: unknown) => {
        throw opened.policyError() ?? err;
      });
      this.cache.set(key, jpeg);
      return jpeg;
    } finally {
      await opened.close();
    }
  }

  /** Ends the policy proxy (idempotent). */
  close(): Promise<void> {
    return this.proxy.close();
  }
}

function grab(bin: string, source: ResolvedSource, sec: number, signal?: AbortSignal): Promise<Buffer> {
  const args = [
    '-nostdin',
    '-hide_banner',
    '-loglevel',
    'error',
    ...sourceInputOptions(source, { networkTimeoutMs: TIMEOUT_MS }),
    '-ss',
    sec.toFixed(3),
    '-i',
    source.input,
    '-frames:v',
    '1',
    '-vf',
    `scale=-2:${HEIGHT}`,
    '-f',
    'image2pipe',
    '-c:v',
    'mjpeg',
    'pipe:1',
  ];
  return new Promise((resolve, reject) => {
    const child = spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    const parts: Buffer[] = [];
    let size = 0;
    let err = '';
    let failure: ClipstreamError | undefined;
    const kill = (e: ClipstreamError) => {
      failure ??= e;
      child.kill('SIGKILL');
    };
    const timer = setTimeout(
      () => kill(new ClipstreamError('CLIPSTREAM_DECODE_TIMEOUT', 'thumbnail took too long')),
      TIMEOUT_MS,
    );
    const onAbort = () => kill(new ClipstreamError('CLIPSTREAM_ABORTED', 'thumbnail aborted'));
    signal?.addEventListener('abort', onAbort, { once: true });
    child.stdout.on('data', (d: Buffer) => {
      size += d.length;
      if (size > MAX_BYTES)
        kill(new ClipstreamError('CLIPSTREAM_SOURCE_TOO_LARGE', 'thumbnail is too large'));
      else parts.push(d);
    });
    child.stderr.on('data', (d: Buffer) => {
      if (err.length < 2000) err += d.toString();
    });
    child.on('error', (e) => kill(new ClipstreamError('CLIPSTREAM_FFMPEG_MISSING', e.message, { cause: e })));
    child.on('close', (code) => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      if (failure) return reject(failure);
      const out = Buffer.concat(parts);
      if (code !== 0 || out.length === 0)
        return reject(
          new ClipstreamError(
            'CLIPSTREAM_DECODE_FAILED',
            `no thumbnail at ${sec}s: ${err.trim().split('\n')[0] ?? code}`,
          ),
        );
      resolve(out);
    });
  });
}
