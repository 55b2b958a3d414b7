/**
 * `clipstream serve`'s HTTP API: `GET /search?q=TEXT&top=K` (clipstream.search.v1 JSON),
 * `GET /thumbnail?video=ID&t=SEC` (a JPEG of the video at that time), `GET /` (the page),
 * `GET /healthz`. Errors are JSON `{ error: { code, message } }` with a 4xx/5xx status.
 */
import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ClipstreamError, toClipstreamError } from '../errors.js';
import type { ErrorCode } from '../errors.js';
import type { Logger } from '../log.js';
import { SEARCH_PAGE } from './page.js';
import type { SearchResult } from './schema.js';
import type { Thumbnails } from './thumbnail.js';

export interface SearchServerOptions {
  readonly host: string;
  readonly port: number;
  /** Runs one search (the query text and hit count are already checked). */
  readonly search: (text: string, top: number) => Promise<SearchResult>;
  /** The source URI of a video, from the store. */
  readonly videoUri: (videoId: string) => Promise<string | undefined>;
  readonly thumbnails: Thumbnails;
  readonly maxTop: number;
  readonly defaultTop: number;
  readonly log: Logger;
}

export interface SearchServer {
  readonly port: number;
  /** Stops listening and drops open connections. Idempotent. */
  close(): Promise<void>;
}

const STATUS: Partial<Record<ErrorCode, number>> = {
  CLIPSTREAM_BAD_ARGUMENT: 400,
  CLIPSTREAM_BAD_TEXT: 400,
  CLIPSTREAM_SOURCE_NOT_FOUND: 404,
  CLIPSTREAM_URI_REFUSED: 403,
  CLIPSTREAM_BAD_URI: 422,
  CLIPSTREAM_STORE_MODEL_MISMATCH: 409,
};

function send(res: ServerResponse, status: number, type: string, body: string | Buffer, extra = {}): void {
  res.writeHead(status, {
    'content-type': type,
    'content-length': Buffer.byteLength(body),
    'x-content-type-options': 'nosniff',
    ...extra,
  });
  res.end(body);
}

function sendError(res: ServerResponse, err: unknown): void {
  const e = toClipstreamError(err);
  const status = STATUS[e.code] ?? (e.retryable ? 503 : 500);
  send(
    res,
    status,
    'application/json',
    `${JSON.stringify({ error: { code: e.code, message: e.message } })}\n`,
  );
}

function badArg(message: string): ClipstreamError {
  return new ClipstreamError('CLIPSTREAM_BAD_ARGUMENT', message);
}

export async function startSearchServer(o: SearchServerOptions): Promise<SearchServer> {
  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      send(res, 405, 'text/plain', 'method not allowed\n', { allow: 'GET, HEAD' });
      return;
    }
    switch (url.pathname) {
      case '/':
        send(res, 200, 'text/html; charset=utf-8', SEARCH_PAGE, {
          'content-security-policy':
            "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src 'self'; connect-src 'self'",
        });
        return;
      case '/healthz':
        send(res, 200, 'application/json', '{"status":"ok"}\n');
        return;
      case '/search': {
        const q = url.searchParams.get('q');
        if (q === null) throw badArg('missing q');
        const topRaw = url.searchParams.get('top');
        const top = topRaw === null ? o.defaultTop : Number(topRaw);
        if (!Number.isInteger(top) || top < 1 || top > o.maxTop)
          throw badArg(`top must be an integer from 1 to ${o.maxTop}`);
        const result = await o.search(q, top);
        send(res, 200, 'application/json', `${JSON.stringify(result)}\n`);
        return;
      }
      case '/thumbnail': {
        const video = url.searchParams.get('video');
        const t = Number(url.searchParams.get('t'));
        if (!video) throw badArg('missing video');
        if (!Number.isFinite(t) || t < 0 || t > 86_400 * 7) throw badArg('t must be a time in seconds');
        const uri = await o.videoUri(video);
        if (!uri)
          throw new ClipstreamError('CLIPSTREAM_SOURCE_NOT_FOUND', `no source known for video ${video}`);
        const ac = new AbortController();
        res.on('close', () => ac.abort());
        const jpeg = await o.thumbnails.get(uri, t, ac.signal);
        send(res, 200, 'image/jpeg', jpeg, { 'cache-control': 'max-age=3600' });
        return;
      }
      default:
        send(res, 404, 'text/plain', 'not found\n');
    }
  };
  const server: Server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      const e = toClipstreamError(err);
      if (!e.retryable && e.code !== 'CLIPSTREAM_INTERNAL')
        o.log.debug('request refused', { code: e.code, path: req.url });
      else o.log.warn('request failed', { code: e.code, error: e.message });
      if (!res.headersSent) sendError(res, e);
      else res.destroy();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err) =>
      reject(
        new ClipstreamError('CLIPSTREAM_BAD_CONFIG', `cannot listen on ${o.host}:${o.port}: ${err.message}`, {
          cause: err,
        }),
      ),
    );
    server.listen(o.port, o.host, () => resolve());
  });
  let closing: Promise<void> | undefined;
  return {
    port: (server.address() as AddressInfo).port,
    close() {
      closing ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      return closing;
    },
  };
}
