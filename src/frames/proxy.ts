/**
 * The policy proxy: a small HTTP forward proxy (absolute-form requests and CONNECT) on loopback
 * that every ffmpeg and ffprobe run of an http(s) source is pointed at with `-http_proxy`. ffmpeg
 * 5.1 sends plain http requests to it in absolute form and tunnels https through CONNECT, for
 * the first request, every redirect and every HLS playlist, segment and key; so every
 * connection ffmpeg makes for a video is seen here, and this is the security boundary.
 *
 * For each request the proxy takes the host, resolves it once per video (numeric spellings are
 * normalised, never looked up), checks every address with the source policy, and connects to
 * exactly a checked address. Anything refused gets a 403 and is recorded, with its address and
 * reason, as the video's error (CLIPSTREAM_URI_REFUSED): ffmpeg only sees the 403, the pipeline
 * reports the proxy's own record instead.
 *
 * Attribution: every video gets its own session, listening on its own loopback port; a
 * connection belongs to the video whose port it arrived on. (ffmpeg drops the path of a proxy
 * URL and sends proxy credentials only after a 407 challenge, so a port is the one handle that
 * reaches the proxy unchanged on every request, plain or CONNECT.) A session enforces the
 * video's byte and time budgets over all its connections.
 */
import { createServer, request as httpRequest } from 'node:http';
import type { IncomingHttpHeaders, IncomingMessage, Server, ServerResponse } from 'node:http';
import { connect as netConnect } from 'node:net';
import type { AddressInfo, Socket } from 'node:net';
import type { Readable, Writable } from 'node:stream';
import { ClipstreamError } from '../errors.js';
import type { Logger } from '../log.js';
import { addressText } from './ip-policy.js';
import type { IpAddress } from './ip-policy.js';
import { defaultLookup, resolveHost } from './source.js';
import type { Lookup, LookupAddress, SourcePolicy } from './source.js';

export interface ProxyBudgets {
  /** Most bytes one video may move through the proxy, both directions, all connections. */
  readonly maxBytes: number;
  /** Wall-clock time one video's session may live, in ms; then every connection is cut. */
  readonly maxMs: number;
  /** Longest wait for one upstream TCP connect, in ms. @defaultValue 15000 */
  readonly connectTimeoutMs?: number;
}

export interface SessionOptions {
  /** Names the video in log lines and errors. */
  readonly videoId: string;
  readonly policy: SourcePolicy;
  readonly budgets: ProxyBudgets;
  /** Called once, with the first error (a refusal or a budget), as soon as it happens. */
  readonly onError?: (err: ClipstreamError) => void;
}

/** Headers that belong to one hop and are never forwarded. */
const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'proxy-authorization',
  'proxy-authenticate',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
]);

function forwardable(headers: IncomingHttpHeaders): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const [k, v] of Object.entries(headers)) if (v !== undefined && !HOP_BY_HOP.has(k)) out[k] = v;
  return out;
}

/** ffmpeg honours `no_proxy` even with `-http_proxy` set: a way around the proxy, so it goes. */
function scrubProxyEnv(log: Logger): void {
  for (const name of ['no_proxy', 'NO_PROXY']) {
    if (process.env[name] === undefined) continue;
    delete process.env[name];
    log.warn(`${name} removed from the environment: ffmpeg would bypass the policy proxy for it`);
  }
}

/** Owns the per-video sessions; closing it closes them all. */
export class PolicyProxy {
  private readonly sessions = new Set<ProxySession>();
  private closing: Promise<void> | undefined;

  constructor(private readonly log: Logger) {}

  /** Starts a session for one video: its own loopback listener, DNS answers and budgets. */
  async open(opts: SessionOptions): Promise<ProxySession> {
    if (this.closing) throw new ClipstreamError('CLIPSTREAM_ABORTED', 'the policy proxy is closed');
    scrubProxyEnv(this.log);
    const session = new ProxySession(
      opts,
      this.log.child({ component: 'proxy', videoId: opts.videoId }),
      () => this.sessions.delete(session),
    );
    this.sessions.add(session);
    try {
      await session.listen();
    } catch (err) {
      await session.close();
      throw err;
    }
    return session;
  }

  /** Sessions open now. */
  get size(): number {
    return this.sessions.size;
  }

  /** Idempotent: closes every session; no socket of the proxy outlives it. */
  close(): Promise<void> {
    this.closing ??= Promise.all([...this.sessions].map((s) => s.close())).then(() => undefined);
    return this.closing;
  }
}

export class ProxySession {
  /** The first policy error of this video: a refused connection or a spent budget. */
  error: ClipstreamError | undefined;
  /** Bytes moved so far, both directions. */
  bytes = 0;
  /** Connections made upstream so far. */
  connections = 0;
  /** The video's policy with a lookup that asks each host once (shared with resolveSource). */
  readonly policy: SourcePolicy;
  private readonly server: Server;
  private readonly sockets = new Set<Socket>();
  private readonly answers = new Map<string, Promise<LookupAddress[]>>();
  private timer: NodeJS.Timeout | undefined;
  private port = 0;
  private closing: Promise<void> | undefined;

  constructor(
    private readonly opts: SessionOptions,
    private readonly log: Logger,
    private readonly onClosed: () => void,
  ) {
    const lookup: Lookup = opts.policy.lookup ?? defaultLookup;
    this.policy = {
      ...opts.policy,
      lookup: (host) => {
        const key = host.toLowerCase();
        let answer = this.answers.get(key);
        if (answer === undefined) {
          answer = lookup(key);
          this.answers.set(key, answer);
        }
        return answer;
      },
    };
    this.server = createServer((req, res) => void this.onRequest(req, res));
    this.server.on(
      'connect',
      (req: IncomingMessage, socket: Socket, head: Buffer) => void this.onConnect(req, socket, head),
    );
    this.server.on('connection', (s: Socket) => this.track(s));
    this.server.on('upgrade', (_req: IncomingMessage, socket: Socket) => socket.destroy());
    this.server.on('clientError', (_err, socket: Socket) => socket.destroy());
  }

  /** What ffmpeg gets as `-http_proxy`. */
  get url(): string {
    return `http://127.0.0.1:${this.port}/`;
  }

  async listen(): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(0, '127.0.0.1', () => {
        this.server.off('error', reject);
        resolve();
      });
    });
    this.port = (this.server.address() as AddressInfo).port;
    this.timer = setTimeout(
      () =>
        this.fail(
          new ClipstreamError(
            'CLIPSTREAM_DECODE_TIMEOUT',
            `network time budget of ${this.opts.budgets.maxMs} ms spent for video ${this.opts.videoId}`,
          ),
          true,
        ),
      this.opts.budgets.maxMs,
    );
    this.timer.unref();
  }

  /** Idempotent: stops listening and cuts every connection of this session. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      clearTimeout(this.timer);
      for (const s of this.sockets) s.destroy();
      await new Promise<void>((resolve) => this.server.close(() => resolve()));
      this.onClosed();
    })();
    return this.closing;
  }

  private track(s: Socket): void {
    this.sockets.add(s);
    s.on('close', () => this.sockets.delete(s));
  }

  /**
   * Records the video's first error and tells the owner; a spent budget also cuts every
   * connection (a refusal is answered with a 403 first). Every later request is refused.
   */
  private fail(err: ClipstreamError, cut: boolean): void {
    if (this.error === undefined) {
      this.error = err;
      this.opts.onError?.(err);
    }
    if (cut) for (const s of this.sockets) s.destroy();
  }

  private count(n: number): boolean {
    this.bytes += n;
    if (this.bytes <= this.opts.budgets.maxBytes) return true;
    this.fail(
      new ClipstreamError(
        'CLIPSTREAM_SOURCE_TOO_LARGE',
        `network byte budget of ${this.opts.budgets.maxBytes} bytes spent for video ${this.opts.videoId}`,
      ),
      true,
    );
    return false;
  }

  /**
   * Resolves and checks a request's target; on refusal records it (the first one is the video's
   * error), logs it and returns undefined.
   */
  private async admit(host: string, port: number): Promise<IpAddress[] | undefined> {
    if (this.error !== undefined) return undefined;
    try {
      return await resolveHost(host, this.policy);
    } catch (err) {
      const e =
        err instanceof ClipstreamError && err.code === 'CLIPSTREAM_URI_REFUSED'
          ? new ClipstreamError(
              'CLIPSTREAM_URI_REFUSED',
              `connection to ${host}:${port} refused: ${err.message}`,
            )
          : err instanceof ClipstreamError
            ? err
            : new ClipstreamError('CLIPSTREAM_SOURCE_UNAVAILABLE', `cannot resolve ${host}: ${String(err)}`);
      this.log.warn('policy proxy refused a connection', { host, port, code: e.code, reason: e.message });
      this.fail(e, false);
      return undefined;
    }
  }

  private async onRequest(req: IncomingMessage, res: ServerResponse): Promise<void> {
    let url: URL;
    try {
      url = new URL(req.url ?? '');
      if (url.protocol !== 'http:') throw new Error('not http');
    } catch {
      res.writeHead(400, { connection: 'close' }).end();
      return;
    }
    const port = url.port === '' ? 80 : Number(url.port);
    const addresses = await this.admit(url.hostname, port);
    if (addresses === undefined) {
      res.writeHead(403, { connection: 'close', 'content-type': 'text/plain' }).end('refused by policy\n');
      return;
    }
    const upstream = await this.dial(addresses, port);
    if (upstream === undefined) {
      res.writeHead(502, { connection: 'close' }).end();
      return;
    }
    const headers = forwardable(req.headers);
    headers.host = url.host;
    const out = httpRequest(
      {
        createConnection: () => upstream,
        method: req.method,
        path: `${url.pathname}${url.search}`,
        headers,
        setHost: false,
      },
      (up) => {
        res.writeHead(up.statusCode ?? 502, forwardable(up.headers));
        this.relay(up, res);
        up.on('end', () => res.end());
        up.on('error', () => res.destroy());
      },
    );
    out.on('error', () => res.destroy());
    res.on('close', () => upstream.destroy());
    this.relay(req, out);
    req.on('end', () => out.end());
  }

  private async onConnect(req: IncomingMessage, client: Socket, head: Buffer): Promise<void> {
    client.on('error', () => client.destroy());
    let host: string;
    let port: number;
    try {
      const target = new URL(`http://${req.url ?? ''}`);
      if (target.port === '' || target.pathname !== '/' || target.username !== '')
        throw new Error('bad target');
      host = target.hostname;
      port = Number(target.port);
    } catch {
      client.end('HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n');
      return;
    }
    const addresses = await this.admit(host, port);
    if (addresses === undefined) {
      client.end('HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\nConnection: close\r\n\r\n');
      return;
    }
    const upstream = await this.dial(addresses, port);
    if (upstream === undefined) {
      client.end('HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\nConnection: close\r\n\r\n');
      return;
    }
    client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
    if (head.length > 0 && this.count(head.length)) upstream.write(head);
    for (const [from, to] of [
      [client, upstream],
      [upstream, client],
    ] as const) {
      this.relay(from, to);
      from.on('end', () => to.end());
      from.on('close', () => to.destroy());
    }
  }

  /**
   * Copies `from` to `to`, counting every byte against the budget, with backpressure: when ffmpeg
   * reads slowly (its stdout is full because the consumer holds frames) the upstream read
   * pauses, so the proxy never buffers more than a socket's worth per connection.
   */
  private relay(from: Readable, to: Writable): void {
    from.on('data', (c: Buffer) => {
      if (!this.count(c.length)) return;
      if (!to.write(c)) {
        from.pause();
        to.once('drain', () => from.resume());
      }
    });
  }

  /** A TCP connection to the first checked address that answers (never to anything else). */
  private async dial(addresses: readonly IpAddress[], port: number): Promise<Socket | undefined> {
    for (const ip of addresses) {
      if (this.error !== undefined || this.closing) return undefined;
      const socket = await new Promise<Socket | undefined>((resolve) => {
        const s = netConnect({ host: addressText(ip), port, family: ip.kind() === 'ipv6' ? 6 : 4 });
        this.track(s);
        const giveUp = (): void => {
          s.destroy();
          resolve(undefined);
        };
        // A black-holed address would otherwise hold the socket for the kernel's SYN retries.
        s.setTimeout(this.opts.budgets.connectTimeoutMs ?? 15_000, giveUp);
        s.once('connect', () => {
          s.setTimeout(0);
          resolve(s);
        });
        s.once('error', giveUp);
      });
      if (socket !== undefined) {
        this.connections++;
        socket.on('error', () => socket.destroy());
        return socket;
      }
    }
    return undefined;
  }
}
