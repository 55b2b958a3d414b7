// Crash-loop protection for real: an event whose processing kills the worker process (the
// test-only fault switch CLIPSTREAM_TEST_CRASH_ON_VIDEO sends SIGKILL to itself) is tried
// CLIPSTREAM_CRASH_ATTEMPTS times across process deaths, then dead-lettered once with
// CLIPSTREAM_WORKER_CRASHED by whoever owns it next; every other event gets its result. Two
// workers, respawned when they die as Kubernetes would, on the real broker.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { pathToFileURL } from 'node:url';
import { deleteTopics, waitFor } from '../../helpers/kafka.js';
import {
  committedToEnd,
  json,
  makeClip,
  names,
  produce,
  readUntil,
  removeDir,
  spawnWorker,
  tempDir,
  testConfig,
  videoEvent,
} from './helpers.js';
import type { ChildWorker } from './helpers.js';

const BUDGET = 2;
const n = names('crashloop');
let media: string;
let stopping = false;
const live = new Set<ChildWorker>();
let deaths = 0;

before(async () => {
  media = await tempDir('cs-crashloop-');
  await makeClip(join(media, 'a.mp4'), { seconds: 1 });
});

after(async () => {
  stopping = true;
  for (const c of live) c.child.kill('SIGKILL');
  await deleteTopics([n.inputTopic, n.outputTopic, n.dlqTopic, n.queriesTopic]);
  await removeDir(media);
});

/** One "pod": a worker process, started again whenever it is killed. */
function pod(config: ReturnType<typeof testConfig>): void {
  const c = spawnWorker(config, {
    CLIPSTREAM_TEST_CRASH_ON_VIDEO: 'poison',
    CLIPSTREAM_CRASH_ATTEMPTS: String(BUDGET),
    CLIPSTREAM_SESSION_TIMEOUT_MS: '6000',
    CLIPSTREAM_SHUTDOWN_GRACE_MS: '1000',
  });
  live.add(c);
  void c.exited.then((exit) => {
    live.delete(c);
    if (exit.signal === 'SIGKILL' && !stopping) {
      deaths++;
      pod(config);
    }
  });
}

describe('crash-loop protection', { timeout: 300_000 }, () => {
  it('a poison event that kills its worker is dead-lettered once after the budget; the rest go on', async () => {
    const config = testConfig(n, { mediaRoot: media, topicPartitions: 2 });
    const file = pathToFileURL(join(media, 'a.mp4')).href;
    // The poison event in the middle of partition 0, normal events before and after it on both.
    const normal = (p: number, i: number) => ({ ...videoEvent(`ok-${p}-${i}`, file), partition: p });
    const events = [
      normal(0, 0),
      normal(1, 0),
      { ...videoEvent('poison', file), partition: 0 },
      normal(0, 1),
      normal(1, 1),
      normal(0, 2),
    ];
    pod(config);
    pod(config);
    await waitFor(
      () => [...live].some((c) => c.stderr().includes('"msg":"worker started"')),
      120_000,
      'a worker started',
    );
    await produce(config.inputTopic, events);

    const ok = events.filter((e) => e.key !== 'poison').map((e) => e.key!);
    const results = await readUntil(
      config.outputTopic,
      (rs) => ok.every((id) => rs.some((r) => r.key === id)),
      240_000,
    );
    const dlq = await readUntil(config.dlqTopic, (rs) => rs.some((r) => r.key === 'poison'), 60_000);
    await waitFor(() => committedToEnd(config.group, config.inputTopic), 60_000, 'all offsets committed');

    assert.equal(results.filter((r) => r.key === 'poison').length, 0, 'the poison event has no result');
    const records = (await readUntil(config.dlqTopic, (rs) => rs.length >= dlq.length, 10_000)).map((r) =>
      json<{ error: { code: string; message: string }; source: { partition: number } }>(r),
    );
    assert.equal(records.length, 1, JSON.stringify(records));
    assert.equal(records[0]?.error.code, 'CLIPSTREAM_WORKER_CRASHED');
    assert.equal(records[0]?.source.partition, 0);
    assert.equal(deaths, BUDGET, 'tried exactly the budget, each try one process death');
    assert.ok(live.size === 2, 'both pods are running again');

    stopping = true;
    const exits = [...live].map((c) => (c.child.kill('SIGTERM'), c.exited));
    for (const e of await Promise.all(exits)) assert.equal(e.code, 0);
  });
});
