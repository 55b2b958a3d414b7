/**
 * `clipstream run` on http sources through the policy proxy, real ffmpeg and real servers on
 * loopback: with CLIPSTREAM_ALLOWED_NETWORKS=127.0.0.2/32, a redirect or an HLS segment or key
 * on 127.0.0.1 is refused with one CLIPSTREAM_URI_REFUSED line naming the address and reason,
 * and the 127.0.0.1 server never sees a connection; an MP4 and an HLS playlist on 127.0.0.2 give
 * normal results.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ResultDocumentSchema } from '../../../src/pipeline/index.js';
import type { ResultDocument } from '../../../src/pipeline/index.js';
import { TINY_PACK, clipstream, errorLine } from '../../helpers/cli.js';
import { makeTempDir, removeTempDir } from '../../helpers/media.js';
import { startPolicyServers } from '../../helpers/policy-servers.js';
import type { PolicyServers } from '../../helpers/policy-servers.js';

const env = {
  CLIPSTREAM_ALLOWED_NETWORKS: '127.0.0.2/32',
  CLIPSTREAM_ALLOW_PRIVATE_NETWORKS: 'false',
  // ffmpeg would go around -http_proxy for these hosts: the proxy must remove it
  no_proxy: '127.0.0.1,127.0.0.2',
};

describe('clipstream run: the network policy proxy', () => {
  let dir: string;
  let servers: PolicyServers;
  before(async () => {
    dir = await makeTempDir('clipstream-policy-');
    servers = await startPolicyServers(dir);
  });
  after(async () => {
    await servers.close();
    await removeTempDir(dir);
  });

  const run = (path: string, base = servers.allowed) =>
    clipstream(['run', `${base}${path}`, '--model', TINY_PACK, '--query', 'a test pattern'], env);

  for (const [name, scheme, path] of [
    ['a redirect to the private server', 'http', '/redirect.mp4'],
    ['HLS whose segments live on the private server', 'http', '/hls-private-segments.m3u8'],
    ['HLS whose AES key lives on the private server', 'http', '/hls-private-key.m3u8'],
    ['an https redirect to the private https server (CONNECT)', 'https', '/redirect.mp4'],
    [
      'https HLS whose segments live on the private https server (CONNECT)',
      'https',
      '/hls-private-segments.m3u8',
    ],
  ] as const) {
    it(`refuses ${name}: one coded line, and the private server sees nothing`, async () => {
      const r = await run(path, scheme === 'https' ? servers.allowedHttps : servers.allowed);
      const line = errorLine(r);
      assert.match(line, /^clipstream: CLIPSTREAM_URI_REFUSED: connection to 127\.0\.0\.1:\d+ refused: /);
      assert.match(
        line,
        /127\.0\.0\.1 refused \(loopback; not a public address and not in CLIPSTREAM_ALLOWED_NETWORKS\)/,
      );
      assert.deepEqual(servers.privateHits, []);
      assert.ok(servers.allowedHits.includes(`GET ${scheme} ${path}`), servers.allowedHits.join('\n'));
    });
  }

  it('decodes an MP4 over https from an allowed network (tunnelled through CONNECT)', async () => {
    const r = await run('/clip.mp4', servers.allowedHttps);
    assert.equal(r.code, 0, r.stderr);
    assert.equal((JSON.parse(r.stdout) as ResultDocument).sampling.frames, 2);
    assert.ok(servers.allowedHits.includes('GET https /clip.mp4'), servers.allowedHits.join('\n'));
  });

  it('decodes an MP4 from an allowed network normally', async () => {
    const r = await run('/clip.mp4');
    assert.equal(r.code, 0, r.stderr);
    const doc = JSON.parse(r.stdout) as ResultDocument;
    assert.equal(ResultDocumentSchema.safeParse(doc).success, true);
    assert.equal(doc.source.durationSec, 2);
    assert.equal(doc.sampling.frames, 2);
    assert.deepEqual(servers.privateHits, []);
  });

  it('decodes HLS from an allowed network (the hls demuxer is on for http sources)', async () => {
    const r = await run('/hls.m3u8');
    assert.equal(r.code, 0, r.stderr);
    const doc = JSON.parse(r.stdout) as ResultDocument;
    assert.equal(doc.sampling.frames, 2);
    assert.ok(servers.allowedHits.includes('GET http /seg1.ts'), servers.allowedHits.join('\n'));
    assert.deepEqual(servers.privateHits, []);
  });

  it('without the allowed network, the first request is refused before ffmpeg runs', async () => {
    const r = await clipstream(['run', `${servers.allowed}/clip.mp4`, '--model', TINY_PACK], {
      ...env,
      CLIPSTREAM_ALLOWED_NETWORKS: '',
    });
    assert.match(errorLine(r), /CLIPSTREAM_URI_REFUSED: address 127\.0\.0\.2 refused \(loopback/);
  });
});
