// Proves that kafkajs 2.2.4 works against the broker scripts/kafka.sh runs: the client features
// the worker relies on (admin, idempotent keyed produce, manual commits, rebalances, compaction).
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { Partitioners } from 'kafkajs';
import type { Consumer, EachMessagePayload, Producer } from 'kafkajs';
import { createTopics, deleteTopics, kafka, uniqueGroup, uniqueTopic, waitFor } from '../../helpers/kafka.js';

const created: string[] = [];
after(async () => {
  await deleteTopics(created);
});

async function newTopic(
  prefix: string,
  numPartitions: number,
  config?: Record<string, string>,
): Promise<string> {
  const topic = uniqueTopic(prefix);
  created.push(topic);
  await createTopics([{ topic, numPartitions, ...(config ? { config } : {}) }]);
  return topic;
}

async function idempotentProducer(): Promise<Producer> {
  const producer = kafka().producer({
    idempotent: true,
    maxInFlightRequests: 1,
    createPartitioner: Partitioners.DefaultPartitioner,
  });
  await producer.connect();
  return producer;
}

interface Seen {
  partition: number;
  offset: string;
  key: string | null;
  value: string | null;
}

function toSeen({ partition, message }: EachMessagePayload): Seen {
  return {
    partition,
    offset: message.offset,
    key: message.key?.toString() ?? null,
    value: message.value ? message.value.toString() : null,
  };
}

describe('kafkajs 2.2.4 against the development broker', { timeout: 180_000 }, () => {
  test('admin creates a topic with several partitions, each with a leader', async () => {
    const admin = kafka().admin();
    await admin.connect();
    try {
      const cluster = await admin.describeCluster();
      assert.equal(cluster.brokers.length, 1);
      assert.notEqual(cluster.controller, null);

      const topic = await newTopic('admin', 3);
      assert.ok((await admin.listTopics()).includes(topic));
      const meta = await admin.fetchTopicMetadata({ topics: [topic] });
      const partitions = meta.topics[0]?.partitions ?? [];
      assert.deepEqual(partitions.map((p) => p.partitionId).sort(), [0, 1, 2]);
      for (const p of partitions) assert.ok(p.leader >= 0, `partition ${p.partitionId} has no leader`);
    } finally {
      await admin.disconnect();
    }
  });

  test('automatic topic creation is off: producing to an unknown topic fails', async () => {
    const topic = uniqueTopic('no-auto-create');
    const producer = kafka({ retry: { retries: 1, initialRetryTime: 100 } }).producer({
      createPartitioner: Partitioners.DefaultPartitioner,
    });
    await producer.connect();
    try {
      await assert.rejects(producer.send({ topic, messages: [{ key: 'k', value: 'v' }] }), {
        message: /does not host this topic-partition/,
      });
    } finally {
      await producer.disconnect();
    }
    const admin = kafka().admin();
    await admin.connect();
    try {
      assert.equal((await admin.listTopics()).includes(topic), false);
    } finally {
      await admin.disconnect();
    }
  });

  test('idempotent keyed produce, group consume with manual commits, offsets read back', async () => {
    const topic = await newTopic('commits', 3);
    const groupId = uniqueGroup('commits');
    const keys = Array.from({ length: 12 }, (_, i) => `video-${i}`);

    const producer = await idempotentProducer();
    const consumers: Consumer[] = [];
    const admin = kafka().admin();
    await admin.connect();
    try {
      // Two rounds per key: records of one key must land on one partition, in order.
      for (const round of [1, 2]) {
        const acks = await producer.send({
          topic,
          acks: -1,
          messages: keys.map((key) => ({ key, value: `${key}#${round}` })),
        });
        assert.ok(acks.length > 0 && acks.every((a) => a.errorCode === 0));
      }

      const seen: Seen[] = [];
      const consumer = kafka().consumer({ groupId });
      consumers.push(consumer);
      await consumer.connect();
      await consumer.subscribe({ topic, fromBeginning: true });
      await consumer.run({
        autoCommit: false,
        eachMessage: async (payload) => {
          seen.push(toSeen(payload));
          await consumer.commitOffsets([
            { topic, partition: payload.partition, offset: (BigInt(payload.message.offset) + 1n).toString() },
          ]);
        },
      });
      await waitFor(() => seen.length >= keys.length * 2, 60_000, 'all 24 records');

      assert.equal(seen.length, keys.length * 2, 'no record is delivered twice');
      for (const key of keys) {
        const mine = seen.filter((s) => s.key === key);
        assert.deepEqual(
          mine.map((s) => s.value),
          [`${key}#1`, `${key}#2`],
          `order of ${key}`,
        );
        assert.equal(new Set(mine.map((s) => s.partition)).size, 1, `${key} stays on one partition`);
      }

      // What the group committed equals the end of every partition.
      const ends = await admin.fetchTopicOffsets(topic);
      const committed = await admin.fetchOffsets({ groupId, topics: [topic] });
      const byPartition = new Map(committed[0]?.partitions.map((p) => [p.partition, p.offset]));
      for (const end of ends) {
        assert.equal(
          byPartition.get(end.partition),
          end.high,
          `committed offset of partition ${end.partition}`,
        );
      }
      await consumer.disconnect();

      // A new member of the group resumes after the commits: it sees only records produced now.
      await producer.send({
        topic,
        messages: ends.map((e) => ({ partition: e.partition, key: `late-${e.partition}`, value: 'late' })),
      });
      const resumed: Seen[] = [];
      const again = kafka().consumer({ groupId });
      consumers.push(again);
      await again.connect();
      await again.subscribe({ topic, fromBeginning: true });
      await again.run({
        eachMessage: async (payload) => {
          resumed.push(toSeen(payload));
        },
      });
      await waitFor(() => resumed.length >= ends.length, 60_000, 'the late records');
      assert.deepEqual(
        resumed.map((s) => s.value),
        ends.map(() => 'late'),
        'nothing before the committed offsets is read again',
      );
    } finally {
      for (const c of consumers) await c.disconnect();
      await producer.disconnect();
      await admin.disconnect();
    }
  });

  test('a second consumer joining the group takes over partitions and no record is lost', async () => {
    const numPartitions = 4;
    const topic = await newTopic('rebalance', numPartitions);
    const groupId = uniqueGroup('rebalance');
    const producer = await idempotentProducer();

    const received = new Map<string, Seen[]>([
      ['a', []],
      ['b', []],
    ]);
    const assignment = new Map<string, number[]>();
    const consumers: Consumer[] = [];

    const startMember = async (name: string): Promise<Consumer> => {
      const consumer = kafka().consumer({ groupId, sessionTimeout: 10_000, heartbeatInterval: 500 });
      consumers.push(consumer);
      consumer.on(consumer.events.GROUP_JOIN, (event) => {
        assignment.set(name, [...(event.payload.memberAssignment[topic] ?? [])].sort());
      });
      await consumer.connect();
      await consumer.subscribe({ topic, fromBeginning: true });
      await consumer.run({
        autoCommit: false,
        eachMessage: async (payload) => {
          received.get(name)?.push(toSeen(payload));
          await consumer.commitOffsets([
            { topic, partition: payload.partition, offset: (BigInt(payload.message.offset) + 1n).toString() },
          ]);
        },
      });
      return consumer;
    };

    const sendRound = async (round: string, count: number): Promise<string[]> => {
      const values = Array.from({ length: count }, (_, i) => `${round}-${i}`);
      // Explicit partitions: every partition gets records in every round.
      await producer.send({
        topic,
        messages: values.map((value, i) => ({ partition: i % numPartitions, key: value, value })),
      });
      return values;
    };

    const allValues = (): Set<string | null> => new Set([...received.values()].flat().map((s) => s.value));

    try {
      await startMember('a');
      const first = await sendRound('before', 20);
      await waitFor(() => first.every((v) => allValues().has(v)), 60_000, 'member a to read the first round');
      assert.deepEqual(assignment.get('a'), [0, 1, 2, 3]);

      // Records produced while the second member joins must not fall between the two.
      const bStarted = startMember('b');
      const during = await sendRound('during', 20);
      await bStarted;
      await waitFor(
        () =>
          (assignment.get('a')?.length ?? 0) > 0 &&
          (assignment.get('b')?.length ?? 0) > 0 &&
          (assignment.get('a')?.length ?? 0) + (assignment.get('b')?.length ?? 0) === numPartitions,
        60_000,
        'the rebalance to give both members partitions',
      );
      const a = assignment.get('a') ?? [];
      const b = assignment.get('b') ?? [];
      assert.deepEqual([...a, ...b].sort(), [0, 1, 2, 3], 'the members split the partitions without overlap');

      const last = await sendRound('after', 20);
      const expected = [...first, ...during, ...last];
      await waitFor(
        () => expected.every((v) => allValues().has(v)),
        60_000,
        'every record of the three rounds',
      );

      // After the rebalance each member reads only its own partitions.
      for (const [name, parts] of [
        ['a', a],
        ['b', b],
      ] as const) {
        const late = (received.get(name) ?? []).filter((s) => s.value?.startsWith('after-'));
        assert.ok(late.length > 0, `member ${name} consumed records after the rebalance`);
        for (const s of late)
          assert.ok(parts.includes(s.partition), `member ${name} read partition ${s.partition}`);
      }
    } finally {
      for (const c of consumers) await c.disconnect();
      await producer.disconnect();
    }
  });

  test('a compacted topic keeps keyed records and delivers tombstones as null values', async () => {
    const topic = await newTopic('compacted', 1, {
      'cleanup.policy': 'compact',
      'min.cleanable.dirty.ratio': '0.01',
      'segment.ms': '100',
    });
    const admin = kafka().admin();
    const producer = await idempotentProducer();
    const consumer = kafka().consumer({ groupId: uniqueGroup('compacted') });
    await admin.connect();
    try {
      const described = await admin.describeConfigs({
        includeSynonyms: false,
        resources: [{ type: 2 /* TOPIC */, name: topic, configNames: ['cleanup.policy'] }],
      });
      const policy = described.resources[0]?.configEntries.find((e) => e.configName === 'cleanup.policy');
      assert.equal(policy?.configValue, 'compact');

      await producer.send({
        topic,
        messages: [
          { key: 'q1', value: JSON.stringify({ schema: 'clipstream.query.v1', text: 'a red circle' }) },
          { key: 'q2', value: JSON.stringify({ schema: 'clipstream.query.v1', text: 'a blue square' }) },
          { key: 'q1', value: null },
        ],
      });

      const seen: Seen[] = [];
      await consumer.connect();
      await consumer.subscribe({ topic, fromBeginning: true });
      await consumer.run({
        eachMessage: async (payload) => {
          seen.push(toSeen(payload));
        },
      });
      // Compaction may or may not have run yet; either way the latest state per key is the same.
      await waitFor(() => seen.some((s) => s.key === 'q1' && s.value === null), 60_000, 'the tombstone');
      const latest = new Map(seen.map((s) => [s.key, s.value]));
      assert.equal(latest.get('q1'), null);
      assert.equal(JSON.parse(latest.get('q2') ?? 'null').text, 'a blue square');
    } finally {
      await consumer.disconnect();
      await producer.disconnect();
      await admin.disconnect();
    }
  });
});
