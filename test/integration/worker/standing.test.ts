// Standing queries from the compacted queries topic: loaded before the worker is ready, applied
// to every video after its own queries (ordered by id), added and removed (tombstones) while the
// worker runs; invalid records are skipped. Topics the worker creates: queries compacted.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { pathToFileURL } from 'node:url';
import kafkajs from 'kafkajs';
import { ensureTopics } from '../../../src/ingest/topics.js';
import type { Worker } from '../../../src/ingest/index.js';
import { silentLogger } from '../../../src/log.js';
import { createTopics, deleteTopics, kafka, uniqueTopic, waitFor } from '../../helpers/kafka.js';
import {
  closeSharedEmbedder,
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

const n = names('standing');
const created: string[] = [];
let media: string;
let worker: Worker | undefined;

before(async () => {
  media = await tempDir('cs-standing-');
  await makeClip(join(media, 'a.mp4'), { seconds: 2 });
});

after(async () => {
  await worker?.close();
  await closeSharedEmbedder();
  await deleteTopics([n.inputTopic, n.outputTopic, n.dlqTopic, n.queriesTopic, ...created]);
  await removeDir(media);
});

const query = (id: string, text: string | null) => ({
  key: id,
  value: text === null ? null : JSON.stringify({ schema: 'clipstream.query.v1', text }),
});

describe('standing queries', { timeout: 600_000 }, () => {
  it("are loaded before ready, applied after the event's own, and follow additions and tombstones", async () => {
    await createTopics([
      { topic: n.queriesTopic, numPartitions: 2, config: { 'cleanup.policy': 'compact' } },
    ]);
    await produce(n.queriesTopic, [
      query('b-standing', 'a blue square'),
      query('gone', 'soon deleted'),
      query('gone', null),
    ]);

    const config = testConfig(n, { mediaRoot: media, topicPartitions: 1 });
    worker = await startWorker(config, 'standing');
    assert.equal(worker.ready, true);
    assert.deepEqual(
      worker.standing.list(),
      [{ id: 'b-standing', text: 'a blue square' }],
      'caught up before ready',
    );

    const file = pathToFileURL(join(media, 'a.mp4')).href;
    const own = [{ id: 'own', text: 'a red circle' }];
    const queriesOf = async (videoId: string) => {
      await produce(config.inputTopic, [videoEvent(videoId, file, { queries: own })]);
      const rs = await readUntil(config.outputTopic, (all) => all.some((r) => r.key === videoId));
      const doc = json<{ queries: { id: string; text: string }[] }>(rs.find((r) => r.key === videoId)!);
      return doc.queries.map((q) => [q.id, q.text]);
    };

    assert.deepEqual(await queriesOf('v1'), [
      ['own', 'a red circle'],
      ['b-standing', 'a blue square'],
    ]);

    await produce(config.queriesTopic, [
      query('a-standing', 'a green triangle'),
      { key: 'broken', value: 'not json' },
    ]);
    await waitFor(() => worker!.standing.size === 2, 60_000, 'the added query');
    assert.deepEqual(await queriesOf('v2'), [
      ['own', 'a red circle'],
      ['a-standing', 'a green triangle'],
      ['b-standing', 'a blue square'],
    ]);

    await produce(config.queriesTopic, [query('b-standing', null)]);
    await waitFor(() => worker!.standing.size === 1, 60_000, 'the tombstone');
    assert.deepEqual(await queriesOf('v3'), [
      ['own', 'a red circle'],
      ['a-standing', 'a green triangle'],
    ]);
  });

  it('missing topics are created, the queries topic compacted', async () => {
    const topics = { videos: uniqueTopic('create-videos'), queries: uniqueTopic('create-queries') };
    created.push(...Object.values(topics));
    const admin = kafka().admin();
    await admin.connect();
    try {
      const settings = { create: true, partitions: 2, replication: 1 };
      const required = [
        { topic: topics.videos },
        { topic: topics.queries, config: { 'cleanup.policy': 'compact' } },
      ];
      await ensureTopics(admin, required, settings, silentLogger);
      await ensureTopics(admin, required, settings, silentLogger); // idempotent
      const meta = await admin.fetchTopicMetadata({ topics: [topics.videos] });
      assert.equal(meta.topics[0]?.partitions.length, 2);
      const described = await admin.describeConfigs({
        includeSynonyms: false,
        resources: [
          { type: kafkajs.ConfigResourceTypes.TOPIC, name: topics.queries, configNames: ['cleanup.policy'] },
        ],
      });
      assert.equal(
        described.resources[0]?.configEntries.find((e) => e.configName === 'cleanup.policy')?.configValue,
        'compact',
      );
      await assert.rejects(
        ensureTopics(admin, [{ topic: uniqueTopic('never') }], { ...settings, create: false }, silentLogger),
        {
          code: 'CLIPSTREAM_TOPIC_MISSING',
        },
      );
      await assert.rejects(
        ensureTopics(admin, [{ topic: uniqueTopic('never') }], { ...settings, replication: 3 }, silentLogger),
        {
          code: 'CLIPSTREAM_TOPIC_MISSING',
        },
      );
    } finally {
      await admin.disconnect();
    }
  });
});
