/**
 * The policy proxy on loopback, driven by a raw client as ffmpeg drives it (absolute-form GET,
 * CONNECT), with an injected resolver: DNS rebinding, every bypass spelling of a refused
 * address, budgets, and that a closed session leaves no socket behind. 127.0.0.2 plays the
 * allowed ("public") host through `allowedNetworks`; 127.0.0.1 is the private one, and its
 * server must never see a byte.
 */
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import { connect } from 'node:net';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { PolicyProxy } from '../../../src/frames/index.js';
import type { ProxySession, SourcePolicy } from '../../../src/frames/index.js';
import { silentLogger } from '../../../src/log.js';

interface Origin {
  server: Server;
  hits: string[];
}

async function origin(host: string, port: number, body: Buffer | string): Promise<Origin> {
  const hits: string[] = [];
  const server = createServer((req, res) => {
    hits.push(`${req.method} ${req.url} host=${req.headers.host}`);
    res.writeHead(200, { 'content-length': Buffer.byteLength(body) }).end(body);
  });
  server.on('connection', (s) => hits.push(`connection from ${s.remoteAddress}`));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  return { server, hits };
}

/** Sends raw bytes to the proxy and returns everything it answers until it closes. */
function raw(proxyUrl: string, request: string, untilBytes = Infinity): Promise<string> {
  const { port } = new URL(proxyUrl);
  return new Promise((resolve, reject) => {
    const s = connect(Number(port), '127.0.0.1', () => s.write(request));
    let out = '';
    s.setEncoding('latin1');
    s.on('data', (d: string) => {
      out += d;
      if (out.length >= untilBytes) s.destroy();
    });
    s.on('close', () => resolve(out));
    s.on('error', reject);
  });
}

const get = (url: string) => `GET ${url} HTTP/1.1\r\nHost: ${new URL(url).host}\r\nConnection: close\r\n\r\n`;
const tunnel = (target: string, then = '') => `CONNECT ${target} HTTP/1.1\r\nHost: ${target}\r\n\r\n${then}`;

describe('policy proxy', () => {
  let allowed: Origin;
  let forbidden: Origin;
  let port: number;
  const proxy = new PolicyProxy(silentLogger);
  const sessions: ProxySession[] = [];
  const budgets = { maxBytes: 1_000_000, maxMs: 60_000 };
  const base: SourcePolicy = { allowPrivateNetworks: false, allowedNetworks: ['127.0.0.2/32'] };

  before(async () => {
    // The same port on both addresses, so a rebound answer would reach the forbidden server.
    for (let i = 0; ; i++) {
      allowed = await origin('127.0.0.2', 0, 'allowed body');
      port = (allowed.server.address() as AddressInfo).port;
      try {
        forbidden = await origin('127.0.0.1', port, 'FORBIDDEN');
        break;
      } catch (err) {
        allowed.server.close();
        if (i > 20) throw err;
      }
    }
  });
  after(async () => {
    await proxy.close();
    assert.equal(proxy.size, 0);
    allowed.server.close();
    forbidden.server.close();
    // No request of any test reached the private server.
    assert.deepEqual(forbidden.hits, []);
  });

  async function open(policy: Partial<SourcePolicy> = {}, b = budgets): Promise<ProxySession> {
    const s = await proxy.open({ videoId: 'v1', policy: { ...base, ...policy }, budgets: b });
    sessions.push(s);
    return s;
  }

  it('relays an allowed plain-http request to exactly the checked address', async () => {
    const s = await open();
    const out = await raw(s.url, get(`http://127.0.0.2:${port}/clip.mp4?x=1`));
    assert.match(out, /^HTTP\/1\.1 200/);
    assert.match(out, /allowed body$/);
    assert.ok(allowed.hits.includes(`GET /clip.mp4?x=1 host=127.0.0.2:${port}`), allowed.hits.join('\n'));
    assert.equal(s.error, undefined);
    await s.close();
  });

  it('DNS rebinding: asks the resolver once per video and keeps connecting to the first answer', async () => {
    const answers = ['127.0.0.2', '127.0.0.1'];
    let asked = 0;
    const s = await open({
      lookup: async () => [{ address: answers[Math.min(asked++, answers.length - 1)]!, family: 4 }],
    });
    const before = allowed.hits.length;
    for (let i = 0; i < 3; i++) {
      const out = await raw(s.url, get(`http://rebind.example:${port}/seg${i}.ts`));
      assert.match(out, /allowed body$/, `request ${i}: ${out.slice(0, 80)}`);
    }
    // the same name in the session's policy (what resolveSource uses) shares the answer
    await s.policy.lookup!('REBIND.example');
    assert.equal(asked, 1);
    assert.equal(allowed.hits.length - before, 6); // 3 x (connection + request)
    assert.equal(s.error, undefined);
    await s.close();
  });

  it('DNS rebinding: a private first answer is refused with the address and reason on record', async () => {
    let asked = 0;
    const s = await open({
      lookup: async () => [{ address: asked++ === 0 ? '127.0.0.1' : '127.0.0.2', family: 4 }],
    });
    const out = await raw(s.url, get(`http://rebind.example:${port}/`));
    assert.match(out, /^HTTP\/1\.1 403/);
    assert.equal(s.error?.code, 'CLIPSTREAM_URI_REFUSED');
    assert.match(
      s.error!.message,
      /rebind\.example:\d+ refused: host rebind\.example resolves to 127\.0\.0\.1 \(loopback/,
    );
    await raw(s.url, get(`http://rebind.example:${port}/again`));
    assert.equal(asked, 1);
    await s.close();
  });

  it('refuses a name whose answers include any private address', async () => {
    const s = await open({
      lookup: async () => [
        { address: '127.0.0.2', family: 4 },
        { address: '169.254.169.254', family: 4 },
      ],
    });
    assert.match(await raw(s.url, get(`http://mixed.example:${port}/`)), /^HTTP\/1\.1 403/);
    assert.match(s.error!.message, /169\.254\.169\.254 \(link-local/);
    await s.close();
  });

  // Every spelling of a refused address, in a plain request and through CONNECT.
  const bypasses: Array<[string, RegExp]> = [
    ['127.0.0.1', /loopback/],
    ['2130706433', /127\.0\.0\.1 refused \(loopback/], // decimal
    ['0x7f000001', /loopback/], // hex
    ['0177.0.0.1', /loopback/], // octal
    ['127.1', /loopback/], // short form
    ['0.0.0.0', /unspecified/], // reaches localhost on Linux
    ['0', /unspecified/],
    ['[::1]', /loopback/], // IPv6 literal
    ['[::]', /unspecified/],
    ['[::ffff:127.0.0.1]', /loopback \(IPv4 inside IPv6\)/], // IPv4-mapped
    ['[::ffff:7f00:1]', /loopback \(IPv4 inside IPv6\)/],
    ['[::ffff:169.254.169.254]', /link-local \(IPv4 inside IPv6\)/],
    ['[::127.0.0.1]', /loopback \(IPv4 inside IPv6\)/], // IPv4-compatible
    ['[64:ff9b::7f00:1]', /loopback \(IPv4 inside IPv6\)/], // NAT64
    ['[2002:7f00:1::1]', /loopback \(IPv4 inside IPv6\)/], // 6to4
    ['[fe80::1]', /link-local/],
    ['[fd00::1]', /unique-local/],
    ['169.254.169.254', /link-local/],
    ['10.1.2.3', /private/],
  ];
  for (const [host, reason] of bypasses) {
    it(`refuses ${host} (plain request and CONNECT); nothing reaches the private server`, async () => {
      const s = await open();
      assert.match(await raw(s.url, get(`http://${host}:${port}/`)), /^HTTP\/1\.1 403/);
      assert.equal(s.error?.code, 'CLIPSTREAM_URI_REFUSED');
      assert.match(s.error!.message, reason);
      await s.close();
      const t = await open();
      assert.match(
        await raw(t.url, tunnel(`${host}:${port}`, get(`http://${host}:${port}/`))),
        /^HTTP\/1\.1 403/,
      );
      assert.equal(t.error?.code, 'CLIPSTREAM_URI_REFUSED');
      await t.close();
    });
  }

  it('judges IPv4-mapped IPv6 by the IPv4 address inside against the allowed networks', async () => {
    const s = await open();
    const out = await raw(
      s.url,
      tunnel(`[::ffff:127.0.0.2]:${port}`, get(`http://127.0.0.2:${port}/mapped`)),
    );
    // ::ffff:127.0.0.2 is allowed as 127.0.0.2/32; Linux connects it to 127.0.0.2 over IPv6 dual stack
    assert.match(out, /^HTTP\/1\.1 200 Connection Established\r\n\r\nHTTP\/1\.1 200/);
    assert.equal(s.error, undefined);
    await s.close();
  });

  it('tunnels CONNECT to an allowed address, both directions', async () => {
    const s = await open();
    const out = await raw(s.url, tunnel(`127.0.0.2:${port}`, get(`http://127.0.0.2:${port}/tunnelled`)));
    assert.match(out, /^HTTP\/1\.1 200 Connection Established\r\n\r\nHTTP\/1\.1 200/);
    assert.match(out, /allowed body$/);
    assert.ok(
      allowed.hits.some((h) => h.includes('/tunnelled')),
      allowed.hits.join('\n'),
    );
    assert.ok(s.bytes > 0);
    await s.close();
  });

  it('refuses requests that are not absolute-form http', async () => {
    const s = await open();
    assert.match(
      await raw(s.url, get(`http://127.0.0.2:${port}/`).replace(/^GET \S+/, 'GET /local')),
      /^HTTP\/1\.1 400/,
    );
    await s.close();
  });

  it('allowPrivateNetworks lets everything through', async () => {
    const s = await open({ allowPrivateNetworks: true, allowedNetworks: [] });
    assert.match(await raw(s.url, get(`http://127.0.0.2:${port}/any`)), /^HTTP\/1\.1 200/);
    await s.close();
  });

  it('enforces the byte budget over the whole video', async () => {
    const s = await open({}, { maxBytes: 5, maxMs: 60_000 });
    const out = await raw(s.url, get(`http://127.0.0.2:${port}/big`));
    assert.doesNotMatch(out, /allowed body/);
    assert.equal(s.error?.code, 'CLIPSTREAM_SOURCE_TOO_LARGE');
    // once spent, nothing more goes out
    assert.match(await raw(s.url, get(`http://127.0.0.2:${port}/after`)), /^HTTP\/1\.1 403/);
    await s.close();
  });

  it('enforces the time budget: the session is cut and later requests refused', async () => {
    let reported: string | undefined;
    const s = await proxy.open({
      videoId: 'slow',
      policy: base,
      budgets: { maxBytes: 1_000_000, maxMs: 20 },
      onError: (e) => (reported = e.code),
    });
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(s.error?.code, 'CLIPSTREAM_DECODE_TIMEOUT');
    assert.equal(reported, 'CLIPSTREAM_DECODE_TIMEOUT');
    assert.match(await raw(s.url, get(`http://127.0.0.2:${port}/late`)), /^HTTP\/1\.1 403/);
    await s.close();
  });

  it('backpressure: a client that stops reading stops the upstream read (no unbounded buffering)', async () => {
    const size = 64 * 1024 * 1024;
    const big = createServer((_req, res) => {
      res.writeHead(200, { 'content-length': size });
      const chunk = Buffer.alloc(1024 * 1024, 7);
      let sent = 0;
      const pump = (): void => {
        while (sent < size) {
          sent += chunk.length;
          if (!res.write(chunk)) return void res.once('drain', pump);
        }
        res.end();
      };
      pump();
    });
    await new Promise<void>((r) => big.listen(0, '127.0.0.2', r));
    const bigPort = (big.address() as AddressInfo).port;
    const s = await open({}, { maxBytes: 2 * size, maxMs: 60_000 });
    const client = connect(Number(new URL(s.url).port), '127.0.0.1');
    try {
      await new Promise<void>((r) => client.once('connect', r));
      client.pause();
      client.write(get(`http://127.0.0.2:${bigPort}/big`));
      // wait until the relay stands still, then it must hold far less than the body
      let last = -1;
      while (s.bytes !== last) {
        last = s.bytes;
        await new Promise((r) => setTimeout(r, 200));
      }
      assert.ok(s.bytes > 0 && s.bytes < size / 4, `relayed ${s.bytes} bytes to a client that reads nothing`);
      let received = 0;
      client.on('data', (d: Buffer) => (received += d.length));
      client.resume();
      await new Promise((r) => client.once('close', r));
      assert.ok(received > size, `received ${received}`);
      assert.equal(s.error, undefined);
    } finally {
      client.destroy();
      await s.close();
      big.closeAllConnections();
      big.close();
    }
  });

  it('a closed session listens no more and close() is idempotent', async () => {
    const s = await open();
    await s.close();
    await s.close();
    await assert.rejects(raw(s.url, get(`http://127.0.0.2:${port}/`)), /ECONNREFUSED/);
  });
});
