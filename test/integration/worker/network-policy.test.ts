// The worker's policy proxy with the real broker, real ffmpeg and real servers on loopback: with
// CLIPSTREAM_ALLOWED_NETWORKS=127.0.0.2/32, a redirect, an HLS segment and an HLS key on
// 127.0.0.1 each land once in the DLQ with CLIPSTREAM_URI_REFUSED (address and reason in the
// message), the 127.0.0.1 server never sees a connection, and an MP4 on 127.0.0.2 gets its result.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { DlqRecord } from '../../../src/ingest/dlq.js';
import type { Worker } from '../../../src/ingest/index.js';
import type { ResultDocument } from '../../../src/pipeline/index.js';
import { deleteTopics, waitFor } from '../../helpers/kafka.js';
import { makeTempDir, removeTempDir } from '../../helpers/media.js';
import { startPolicyServers } from '../../helpers/policy-servers.js';
import type { PolicyServers } from '../../helpers/policy-servers.js';
import {
  closeSharedEmbedder,
  committedToEnd,
  json,
  names,
  produce,
  readUntil,
  startWorker,
  testConfig,
  videoEvent,
} from './helpers.js';
import type { Names } from './helpers.js';

let dir: string;
let servers: PolicyServers;
const workers: Worker[] = [];
const used: Names[] = [];

before(async () => {
  dir = await makeTempDir('cs-policy-');
  servers = await startPolicyServers(dir);
});

after(async () => {
  for (const w of workers) await w.close();
  await closeSharedEmbedder();
  await servers.close();
  await deleteTopics(used.flatMap((n) => [n.inputTopic, n.outputTopic, n.dlqTopic, n.queriesTopic]));
  await removeTempDir(dir);
});

describe('worker: the network policy proxy', { timeout: 300_000 }, () => {
  // HLS playlists in video events are live sources by contract (design.md 3.6): they are
  // dead-lettered before any fetch; the proxy's HLS refusals are tested through `clipstream run`
  // (test/integration/cli/network-policy.test.ts) and the live HLS reader (test/integration/live).
  it('dead-letters a redirect to a private address and HLS playlists (live sources); serves the allowed MP4', async () => {
    const n = names('policy');
    used.push(n);
    const config = testConfig(n, { topicPartitions: 1, allowedNetworks: '127.0.0.2/32' });
    const worker = await startWorker(config, 'policy');
    workers.push(worker);

    const refused = ['redirect.mp4'];
    const live = ['hls-private-segments.m3u8', 'hls-private-key.m3u8'];
    await produce(config.inputTopic, [
      ...refused.map((p, i) => videoEvent(`bad-${i}`, `${servers.allowed}/${p}`)),
      ...live.map((p, i) => videoEvent(`live-${i}`, `${servers.allowed}/${p}`)),
      videoEvent('good', `${servers.allowed}/clip.mp4`),
    ]);

    const results = await readUntil(config.outputTopic, (rs) => rs.length >= 1);
    const dlq = await readUntil(config.dlqTopic, (rs) => rs.length >= refused.length + live.length);
    await waitFor(() => committedToEnd(config.group, config.inputTopic), 30_000, 'offsets committed');

    assert.deepEqual(
      results.map((r) => r.key),
      ['good'],
    );
    const doc = json<ResultDocument>(results[0]!);
    assert.equal(doc.sampling.frames, 2);
    assert.equal(dlq.length, refused.length + live.length, 'one DLQ record per refused video');
    for (let i = 0; i < refused.length; i++) {
      const r = dlq.find((d) => d.key === `bad-${i}`);
      assert.ok(r, `a DLQ record for ${refused[i]}`);
      const rec = json<DlqRecord>(r);
      assert.equal(rec.error.code, 'CLIPSTREAM_URI_REFUSED', `${refused[i]}: ${rec.error.message}`);
      assert.match(
        rec.error.message,
        /connection to 127\.0\.0\.1:\d+ refused: address 127\.0\.0\.1 refused \(loopback/,
      );
    }
    for (let i = 0; i < live.length; i++) {
      const r = dlq.find((d) => d.key === `live-${i}`);
      assert.ok(r, `a DLQ record for ${live[i]}`);
      assert.equal(json<DlqRecord>(r).error.code, 'CLIPSTREAM_LIVE_SOURCE', live[i]);
    }
    assert.deepEqual(servers.privateHits, [], 'the private server saw no connection at all');
    assert.ok(servers.allowedHits.includes('GET http /redirect.mp4'));
    assert.ok(!servers.allowedHits.some((h) => h.includes('.m3u8')), 'no playlist was fetched');
  });
});
