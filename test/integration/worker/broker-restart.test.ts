// A broker restart while the worker runs: work in flight during the outage is handed back (never
// dead-lettered, never lost), and the worker carries on once the broker is back.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { pathToFileURL } from 'node:url';
import type { Worker } from '../../../src/ingest/index.js';
import { restartExtraBroker, startExtraBroker, stopExtraBroker, waitFor } from '../../helpers/kafka.js';
import type { ExtraBroker } from '../../helpers/kafka.js';
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
} from './helpers.js';

let media: string;
let broker: ExtraBroker | undefined;
let worker: Worker | undefined;

before(async () => {
  media = await tempDir('cs-broker-');
  await makeClip(join(media, 'a.mp4'), { seconds: 3 });
  broker = await startExtraBroker();
});

after(async () => {
  await worker?.close();
  await closeSharedEmbedder();
  if (broker) await stopExtraBroker(broker);
  await removeDir(media);
});

describe('broker restart', { timeout: 600_000 }, () => {
  it('the worker survives a broker restart with nothing lost and nothing dead-lettered', async () => {
    const b = broker!;
    const n = names('restart');
    const config = testConfig(n, { brokers: b.brokers.join(','), mediaRoot: media, topicPartitions: 2 });
    worker = await startWorker(config, 'restart');
    const file = pathToFileURL(join(media, 'a.mp4')).href;
    const before = Array.from({ length: 6 }, (_, i) => videoEvent(`before-${i}`, file));
    await produce(config.inputTopic, before, b.brokers);
    await readUntil(config.outputTopic, (rs) => rs.length >= 1, 120_000, b.brokers);

    // Restart with the data kept while videos are still being worked on.
    broker = await restartExtraBroker(b);

    const afterRestart = Array.from({ length: 4 }, (_, i) => videoEvent(`after-${i}`, file));
    await produce(config.inputTopic, afterRestart, b.brokers);
    const ids = [...before, ...afterRestart].map((e) => e.key!);
    const results = await readUntil(
      config.outputTopic,
      (rs) => ids.every((id) => rs.some((r) => r.key === id)),
      300_000,
      b.brokers,
    );
    const resultIds = new Map<string, Set<string>>();
    for (const r of results) {
      const doc = json<{ videoId: string; resultId: string }>(r);
      resultIds.set(doc.videoId, (resultIds.get(doc.videoId) ?? new Set()).add(doc.resultId));
    }
    for (const id of ids) assert.equal(resultIds.get(id)?.size, 1, id);
    await waitFor(
      () => committedToEnd(config.group, config.inputTopic, b.brokers),
      120_000,
      'all offsets committed',
    );
    assert.equal(worker.stats.dlq, 0, 'broker trouble never becomes a DLQ record');
    await waitFor(() => worker!.ready, 60_000, 'ready again');
  });
});
