// Two workers share the load and survive a rebalance: a second worker joins mid-stream; the
// first one's in-flight video (a source that hangs) is aborted without a commit and done again;
// every video ends with a result and every offset is committed.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { pathToFileURL } from 'node:url';
import type { Worker } from '../../../src/ingest/index.js';
import { deleteTopics, waitFor } from '../../helpers/kafka.js';
import {
  closeSharedEmbedder,
  committedToEnd,
  json,
  makeClip,
  names,
  produce,
  readUntil,
  removeDir,
  startWorker,
  tempDir,
  testConfig,
  videoEvent,
  serveClip,
} from './helpers.js';

const n = names('rebalance');
let media: string;
let server: Awaited<ReturnType<typeof serveClip>>;
let base: string;
let release = false;
let slowRequests = 0;
const workers: Worker[] = [];

before(async () => {
  media = await tempDir('cs-rebalance-');
  await makeClip(join(media, 'a.mp4'), { seconds: 3 });
  // /slow.mp4 hangs until released
  server = await serveClip(join(media, 'a.mp4'), (url) => url === '/slow.mp4' && (slowRequests++, !release));
  base = server.base;
});

after(async () => {
  for (const w of workers) await w.close();
  await closeSharedEmbedder();
  await server.close();
  await deleteTopics([n.inputTopic, n.outputTopic, n.dlqTopic, n.queriesTopic]);
  await removeDir(media);
});

describe('consumer group', { timeout: 600_000 }, () => {
  it('a second worker joins mid-stream: the load is shared, aborted work is redone, nothing is lost', async () => {
    const config = testConfig(n, {
      mediaRoot: media,
      allowPrivateNetworks: true,
      topicPartitions: 6,
      maxVideosInFlight: 2,
    });
    const options = { limits: { networkTimeoutMs: 300_000 } };
    const a = await startWorker(config, 'a', options);
    workers.push(a);
    const file = pathToFileURL(join(media, 'a.mp4')).href;
    const first = [
      videoEvent('slow', `${base}/slow.mp4`),
      ...Array.from({ length: 7 }, (_, i) => videoEvent(`first-${i}`, file)),
    ];
    await produce(config.inputTopic, first);
    await waitFor(
      () => a.stats.results >= 3 && slowRequests >= 1,
      120_000,
      'the first worker under way, the slow video hanging',
    );

    const b = await startWorker(config, 'b', options);
    workers.push(b);
    await waitFor(
      () => a.stats.handedBack >= 1,
      120_000,
      'the rebalance to abort the hanging video on the first worker',
    );
    release = true;
    await waitFor(() => a.ready && b.ready, 120_000, 'both workers ready');

    // One event on every partition: both members own some.
    const second = Array.from({ length: 12 }, (_, i) => ({
      ...videoEvent(`second-${i}`, file),
      partition: i % 6,
    }));
    await produce(config.inputTopic, second);

    const ids = [...first, ...second].map((e) => e.key!);
    const results = await readUntil(
      config.outputTopic,
      (rs) => ids.every((id) => rs.some((r) => r.key === id)),
      300_000,
    );
    const resultIds = new Map<string, string>();
    for (const r of results) {
      const doc = json<{ videoId: string; resultId: string }>(r);
      const seen = resultIds.get(doc.videoId);
      if (seen) assert.equal(seen, doc.resultId, `duplicate of ${doc.videoId} carries the same resultId`);
      resultIds.set(doc.videoId, doc.resultId);
    }
    assert.deepEqual([...resultIds.keys()].sort(), [...ids].sort());
    assert.ok(slowRequests >= 2, 'the aborted video was fetched again');
    assert.ok(
      a.stats.results > 0 && b.stats.results > 0,
      `both workers did work (a ${a.stats.results}, b ${b.stats.results})`,
    );
    await waitFor(() => committedToEnd(config.group, config.inputTopic), 60_000, 'every offset committed');
    assert.equal(a.stats.dlq + b.stats.dlq, 0);
  });
});
