/**
 * One small HTTP server for probes and scraping: GET /healthz (the process is alive),
 * GET /readyz (200 only when every readiness check passes; the body says which fail) and
 * GET /metrics (Prometheus text, when a handler is given).
 */
import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface HealthServerOptions {
  port: number;
  host?: string;
  /** named readiness checks; ready when all return true */
  readiness: () => Record<string, boolean>;
  metrics?: (req: IncomingMessage, res: ServerResponse) => void;
}

export interface HealthServer {
  readonly port: number;
  close(): Promise<void>;
}

function send(res: ServerResponse, status: number, body: unknown): void {
  const text = `${JSON.stringify(body)}\n`;
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

export async function startHealthServer(opts: HealthServerOptions): Promise<HealthServer> {
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET' && req.method !== 'HEAD') return send(res, 405, { error: 'method not allowed' });
    if (path === '/healthz') return send(res, 200, { status: 'ok' });
    if (path === '/readyz') {
      const checks = opts.readiness();
      const ready = Object.values(checks).every(Boolean);
      return send(res, ready ? 200 : 503, { status: ready ? 'ready' : 'not ready', checks });
    }
    if (path === '/metrics' && opts.metrics) return opts.metrics(req, res);
    return send(res, 404, { error: 'not found' });
  });
  server.keepAliveTimeout = 5000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host ?? '0.0.0.0', () => {
      server.off('error', reject);
      resolve();
    });
  });
  server.unref();
  const port = (server.address() as AddressInfo).port;
  let closing: Promise<void> | undefined;
  return {
    port,
    close() {
      closing ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      return closing;
    },
  };
}
