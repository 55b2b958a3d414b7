import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  ATTEMPT_SCHEMA,
  AttemptLedger,
  decodeAttempts,
  encodeAttempts,
} from '../../../src/ingest/attempts.js';
import type { OffsetStore } from '../../../src/ingest/attempts.js';

/** The group's committed offsets, as the broker keeps them (one map shared by every "process"). */
function memoryStore(): OffsetStore & {
  commits: number;
  fetches: number;
  data: Map<string, { offset: string; metadata: string | null }>;
} {
  const data = new Map<string, { offset: string; metadata: string | null }>();
  const store = {
    data,
    commits: 0,
    fetches: 0,
    fetch(topic: string, partition: number) {
      store.fetches++;
      return Promise.resolve(data.get(`${topic}/${partition}`));
    },
    commit(topic: string, partition: number, offset: string, metadata: string | null) {
      store.commits++;
      data.set(`${topic}/${partition}`, { offset, metadata });
      return Promise.resolve();
    },
  };
  return store;
}

describe('attempt ledger (crash-loop protection)', () => {
  it('encodes and decodes attempt metadata, ignoring metadata that is not ours', () => {
    assert.equal(decodeAttempts(encodeAttempts(3)), 3);
    assert.equal(decodeAttempts(null), 0);
    assert.equal(decodeAttempts('event-id-3'), 0);
    assert.equal(decodeAttempts(JSON.stringify({ schema: 'other', attempts: 9 })), 0);
    assert.equal(decodeAttempts(JSON.stringify({ schema: ATTEMPT_SCHEMA, attempts: -1 })), 0);
  });

  it('counts attempts across process deaths and says spent once the budget is used', async () => {
    const store = memoryStore();
    store.data.set('t/0', { offset: '7', metadata: null }); // the commit after offset 6
    for (let life = 1; life <= 2; life++) {
      const ledger = new AttemptLedger(store, 2); // a fresh process each time
      const c = await ledger.claim('t', 0, '7');
      assert.deepEqual(c, { previous: life - 1, spent: false });
      assert.equal(decodeAttempts(store.data.get('t/0')?.metadata), life);
      // ...and the process dies here: nothing else is committed
    }
    const third = new AttemptLedger(store, 2);
    assert.deepEqual(await third.claim('t', 0, '7'), { previous: 2, spent: true });
    assert.equal(decodeAttempts(store.data.get('t/0')?.metadata), 2, 'a spent claim records nothing');
  });

  it('a finished event clears the count; the next offset starts at zero without asking the broker', async () => {
    const store = memoryStore();
    const ledger = new AttemptLedger(store, 3);
    await ledger.claim('t', 1, '0');
    store.data.set('t/1', { offset: '1', metadata: null });
    ledger.done('t', 1, '1');
    const fetches = store.fetches;
    assert.deepEqual(await ledger.claim('t', 1, '1'), { previous: 0, spent: false });
    assert.equal(store.fetches, fetches);
    ledger.forget();
    assert.deepEqual(
      await ledger.claim('t', 1, '1'),
      { previous: 1, spent: false },
      'after a rebalance it reads the broker',
    );
  });

  it('a hand-back takes its attempt back', async () => {
    const store = memoryStore();
    const ledger = new AttemptLedger(store, 1);
    await ledger.claim('t', 0, '5');
    await ledger.release('t', 0, '5');
    assert.equal(store.data.get('t/0')?.metadata, null);
    assert.deepEqual(await new AttemptLedger(store, 1).claim('t', 0, '5'), { previous: 0, spent: false });
  });

  it('a committed offset other than this one carries no attempts for it', async () => {
    const store = memoryStore();
    store.data.set('t/0', { offset: '3', metadata: encodeAttempts(5) });
    assert.deepEqual(await new AttemptLedger(store, 2).claim('t', 0, '4'), { previous: 0, spent: false });
  });
});
