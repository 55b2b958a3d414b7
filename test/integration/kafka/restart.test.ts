// A broker of the test's own, restarted with its data kept (scripts/kafka.sh KAFKA_KEEP_DATA=1):
// what the worker's "broker restart is survived" test builds on. Records and committed offsets
// must outlive the restart, and a client connected before it must work after it.
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { Partitioners } from 'kafkajs';
import type { ExtraBroker } from '../../helpers/kafka.js';
import {
  createTopics,
  kafka,
  restartExtraBroker,
  startExtraBroker,
  stopExtraBroker,
  uniqueGroup,
  uniqueTopic,
  waitFor,
} from '../../helpers/kafka.js';

let broker: ExtraBroker | undefined;
after(async () => {
  if (broker) await stopExtraBroker(broker);
});

test(
  'an extra broker restarted with kept data keeps records and committed offsets',
  { timeout: 300_000 },
  async () => {
    broker = await startExtraBroker();
    const client = kafka({ brokers: broker.brokers });
    const topic = uniqueTopic('restart');
    const groupId = uniqueGroup('restart');
    await createTopics([{ topic, numPartitions: 2 }], { brokers: broker.brokers });

    const producer = client.producer({
      idempotent: true,
      createPartitioner: Partitioners.DefaultPartitioner,
    });
    await producer.connect();
    const consumer = client.consumer({ groupId });
    const seen: string[] = [];
    try {
      await producer.send({
        topic,
        messages: [0, 1, 2, 3].map((i) => ({ key: `k${i}`, value: `before-${i}` })),
      });
      await consumer.connect();
      await consumer.subscribe({ topic, fromBeginning: true });
      await consumer.run({
        autoCommit: false,
        eachMessage: async ({ partition, message }) => {
          seen.push(message.value?.toString() ?? '');
          await consumer.commitOffsets([
            { topic, partition, offset: (BigInt(message.offset) + 1n).toString() },
          ]);
        },
      });
      await waitFor(() => seen.length >= 4, 60_000, 'the records sent before the restart');
      await consumer.disconnect();

      broker = await restartExtraBroker(broker);

      // The producer connected before the restart reconnects by itself.
      await producer.send({ topic, messages: [0, 1].map((i) => ({ key: `k${i}`, value: `after-${i}` })) });

      const admin = client.admin();
      await admin.connect();
      try {
        const ends = await admin.fetchTopicOffsets(topic);
        assert.equal(
          ends.reduce((sum, e) => sum + Number(e.high), 0),
          6,
          'all six records are on the restarted broker',
        );
      } finally {
        await admin.disconnect();
      }

      const resumed: string[] = [];
      const again = client.consumer({ groupId });
      await again.connect();
      try {
        await again.subscribe({ topic, fromBeginning: true });
        await again.run({
          eachMessage: async ({ message }) => {
            resumed.push(message.value?.toString() ?? '');
          },
        });
        await waitFor(() => resumed.length >= 2, 60_000, 'the records sent after the restart');
        assert.deepEqual(
          [...resumed].sort(),
          ['after-0', 'after-1'],
          'committed offsets survived the restart',
        );
      } finally {
        await again.disconnect();
      }
    } finally {
      await consumer.disconnect();
      await producer.disconnect();
    }
  },
);
