import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { Batcher } from '../../../src/embed/batcher.js';
import { ClipstreamError } from '../../../src/errors.js';

function recorder(delayMs = 0) {
  const batches: number[][] = [];
  const run = async (items: number[]) => {
    batches.push([...items]);
    if (delayMs) await sleep(delayMs);
    return items.map((x) => x * 10);
  };
  return { batches, run };
}

describe('Batcher', () => {
  it('fills batches up to maxBatch and returns results to each caller in order', async () => {
    const r = recorder(5);
    const b = new Batcher({ maxBatch: 4, maxWaitMs: 1000, maxQueued: 64, run: r.run });
    const out = await Promise.all(Array.from({ length: 10 }, (_, i) => b.submit(i)));
    assert.deepEqual(out, [0, 10, 20, 30, 40, 50, 60, 70, 80, 90]);
    assert.deepEqual(r.batches[0], [0, 1, 2, 3]);
    assert.ok(r.batches.every((x) => x.length <= 4));
    assert.equal(r.batches.flat().length, 10);
  });

  it('runs a partial batch once its oldest item has waited maxWaitMs', async () => {
    const r = recorder();
    const b = new Batcher({ maxBatch: 16, maxWaitMs: 20, maxQueued: 64, run: r.run });
    const out = await Promise.all([b.submit(1), b.submit(2)]);
    assert.deepEqual(out, [10, 20]);
    assert.deepEqual(r.batches, [[1, 2]]);
  });

  it('frames from two concurrent videos share batches', async () => {
    const r = recorder(2);
    const b = new Batcher({ maxBatch: 4, maxWaitMs: 50, maxQueued: 64, run: r.run });
    const video = async (base: number) => {
      const out: number[] = [];
      for (let i = 0; i < 4; i++) out.push(await b.submit(base + i));
      return out;
    };
    // Each "video" submits one frame at a time, so only mixing fills a batch beyond 1.
    const [a, c] = await Promise.all([video(100), video(200)]);
    assert.deepEqual(a, [1000, 1010, 1020, 1030]);
    assert.deepEqual(c, [2000, 2010, 2020, 2030]);
    assert.ok(
      r.batches.some((bt) => bt.some((x) => x < 200) && bt.some((x) => x >= 200)),
      `expected a mixed batch: ${JSON.stringify(r.batches)}`,
    );
  });

  it('applies backpressure: submit waits while the queue is full', async () => {
    let release!: () => void;
    const gate = new Promise<void>((res) => (release = res));
    const batches: number[][] = [];
    const b = new Batcher({
      maxBatch: 2,
      maxWaitMs: 1,
      maxQueued: 2,
      run: async (items: number[]) => {
        batches.push(items);
        await gate;
        return items;
      },
    });
    const first = [b.submit(1), b.submit(2)]; // runs, blocked on gate
    await sleep(5);
    const queued = [b.submit(3), b.submit(4)]; // fill the queue
    let fifthQueued = false;
    const fifth = b.submit(5).then((v) => {
      fifthQueued = true;
      return v;
    });
    await sleep(20);
    assert.equal(b.queued, 2);
    assert.equal(fifthQueued, false);
    release();
    assert.deepEqual(await Promise.all([...first, ...queued, fifth]), [1, 2, 3, 4, 5]);
  });

  it('an aborted item leaves the queue and rejects with CLIPSTREAM_ABORTED', async () => {
    const r = recorder();
    const b = new Batcher({ maxBatch: 8, maxWaitMs: 30, maxQueued: 8, run: r.run });
    const ac = new AbortController();
    const p = b.submit(1, ac.signal);
    const q = b.submit(2);
    ac.abort();
    await assert.rejects(p, (e: unknown) => e instanceof ClipstreamError && e.code === 'CLIPSTREAM_ABORTED');
    assert.equal(await q, 20);
    assert.deepEqual(r.batches, [[2]]);
  });

  it('a failing run rejects every item of its batch; close rejects the queue and refuses more', async () => {
    const b = new Batcher<number, number>({
      maxBatch: 2,
      maxWaitMs: 1,
      maxQueued: 8,
      run: async () => {
        throw new Error('boom');
      },
    });
    await assert.rejects(Promise.all([b.submit(1), b.submit(2)]), /boom/);
    const slow = new Batcher<number, number>({
      maxBatch: 4,
      maxWaitMs: 10_000,
      maxQueued: 8,
      run: async (x) => x,
    });
    const pending = slow.submit(1);
    slow.close();
    slow.close();
    await assert.rejects(
      pending,
      (e: unknown) => e instanceof ClipstreamError && e.code === 'CLIPSTREAM_ABORTED',
    );
    await assert.rejects(slow.submit(2), (e: unknown) => e instanceof ClipstreamError);
  });
  it('runs up to maxConcurrent batches at once (one per lane), never more', async () => {
    const gates: (() => void)[] = [];
    let running = 0;
    let peak = 0;
    const batches: number[][] = [];
    const b = new Batcher({
      maxBatch: 4, // two per lane
      maxWaitMs: 1000,
      maxQueued: 16,
      maxConcurrent: 2,
      run: async (items: number[]) => {
        batches.push([...items]);
        running += 1;
        peak = Math.max(peak, running);
        await new Promise<void>((res) => gates.push(res));
        running -= 1;
        return items;
      },
    });
    const all = Promise.all(Array.from({ length: 6 }, (_, i) => b.submit(i)));
    await sleep(5);
    // The first full batch was shared between the two free lanes; the rest waits for a lane.
    assert.equal(b.inFlight, 2);
    assert.deepEqual(batches, [[0], [1]]);
    assert.equal(b.queued, 4);
    gates.shift()?.();
    await sleep(5);
    // One lane came free: it takes a whole batch, the other lane still runs.
    assert.deepEqual(batches[2], [2, 3]);
    assert.equal(b.inFlight, 2);
    while (batches.flat().length < 6 || gates.length > 0) {
      gates.shift()?.();
      await sleep(1);
    }
    assert.deepEqual(await all, [0, 1, 2, 3, 4, 5]);
    assert.equal(peak, 2);
    assert.ok(
      batches.every((x) => x.length <= 2),
      `a lane's run is at most 4 / 2: ${JSON.stringify(batches)}`,
    );
    assert.throws(
      () => new Batcher({ maxBatch: 1, maxWaitMs: 1, maxQueued: 1, maxConcurrent: 0, run: async (x) => x }),
      RangeError,
    );
  });

  it('an item that already waited for a lane runs as soon as the lane is free, without waiting again', async () => {
    let release!: () => void;
    const gate = new Promise<void>((res) => (release = res));
    const started: number[][] = [];
    const b = new Batcher({
      maxBatch: 8,
      maxWaitMs: 30,
      maxQueued: 16,
      run: async (items: number[]) => {
        started.push([...items]);
        if (items[0] === 1) await gate;
        return items;
      },
    });
    const first = Promise.all(Array.from({ length: 8 }, (_, i) => b.submit(i + 1))); // full: runs at once
    const late = b.submit(100); // queued behind the running batch
    await sleep(60); // longer than maxWaitMs
    assert.equal(started.length, 1);
    release();
    // Before any timer could fire: the lane's release itself started the waiting item.
    await new Promise<void>((res) => setImmediate(res));
    assert.deepEqual(started[1], [100]);
    await Promise.all([first, late]);
  });
  it('what has waited is shared between the free lanes, so that they finish together', async () => {
    const batches: number[][] = [];
    const b = new Batcher({
      maxBatch: 32,
      maxWaitMs: 20,
      maxQueued: 64,
      maxConcurrent: 2,
      run: async (items: number[]) => {
        batches.push([...items]);
        return items;
      },
    });
    // Ten frames, fewer than a lane's batch (16 of 32): after the wait, five on each lane.
    assert.deepEqual(
      await Promise.all(Array.from({ length: 10 }, (_, i) => b.submit(i))),
      [0, 1, 2, 3, 4, 5, 6, 7, 8, 9],
    );
    assert.deepEqual(batches, [
      [0, 1, 2, 3, 4],
      [5, 6, 7, 8, 9],
    ]);
  });
  it('a free lane leaves a share for a lane about to finish, instead of taking a whole batch', async () => {
    let release!: () => void;
    const gate = new Promise<void>((res) => (release = res));
    const batches: number[][] = [];
    const b = new Batcher({
      maxBatch: 16, // 8 per lane
      maxWaitMs: 5,
      maxQueued: 64,
      maxConcurrent: 2,
      run: async (items: number[]) => {
        batches.push([...items]);
        if (items.includes(100)) await gate;
        return items;
      },
    });
    // Instant runs: the batcher learns that an item takes next to no time...
    await Promise.all([1, 2, 3, 4].map((i) => b.submit(i)));
    // ...so a lane still busy with a batch of those is about to come free.
    const held = b.submit(100);
    await sleep(20);
    assert.equal(b.inFlight, 1);
    const rest = Promise.all(Array.from({ length: 8 }, (_, i) => b.submit(200 + i)));
    await sleep(5);
    // Eight frames queued, a full lane batch: the free lane takes half, not all eight.
    assert.deepEqual(
      batches.find((x) => x.includes(200)),
      [200, 201, 202, 203],
    );
    release();
    assert.deepEqual(await rest, [200, 201, 202, 203, 204, 205, 206, 207]);
    assert.equal(await held, 100);
  });
});
