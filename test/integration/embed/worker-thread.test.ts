/**
 * Regression: onnxruntime-node computes `run()` on the calling thread, so encoders run on the
 * main thread stalled the event loop for each batch (ffmpeg pipes, Kafka heartbeats and health
 * probes stopped; batches stayed at ~2 frames). The encoders now run in a worker thread: timers
 * keep firing while a batch computes. Checks ordering, not speed.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Embedder, loadModelPack } from '../../../src/embed/index.js';
import { silentLogger } from '../../../src/log.js';
import { BUNDLED_PACK } from '../../helpers/cli.js';

describe('inference runs off the main thread', () => {
  let embedder: Embedder;
  before(async () => {
    embedder = await Embedder.open(
      await loadModelPack(BUNDLED_PACK),
      {
        runtime: { device: 'cpu', intraOpThreads: 1, cudaDeviceId: 0 },
        batch: { maxBatch: 64, maxWaitMs: 1, maxQueued: 64 },
      },
      silentLogger,
    );
  });
  after(() => embedder.close());

  it('the event loop keeps turning while a batch computes', async () => {
    const m = embedder.pack.manifest;
    const frames = Array.from({ length: 64 }, (_, i) =>
      new Uint8Array(m.image.height * m.image.width * 3).fill(i * 3),
    );
    // A chain of 50 event-loop turns: on a free event loop it finishes long before a 64-frame
    // batch does; with the encoder on the main thread it cannot advance until the batch is over.
    let hops = 0;
    const chain = new Promise<string>((resolve) => {
      const hop = () => (++hops >= 50 ? resolve('event loop') : setImmediate(hop));
      setImmediate(hop);
    });
    const batch = embedder.embedFramesNow(frames).then((out) => {
      assert.equal(out.length, 64);
      return 'encoder';
    });
    assert.equal(
      await Promise.race([chain, batch]),
      'event loop',
      `only ${hops} turns while the encoder ran`,
    );
    await batch;
  });

  it('frames stay usable by the caller (the batch is copied before it is transferred)', async () => {
    const m = embedder.pack.manifest;
    const f = new Uint8Array(m.image.height * m.image.width * 3).fill(200);
    await embedder.embedFrame(f);
    assert.equal(f.length, m.image.height * m.image.width * 3);
    assert.equal(f[0], 200);
  });
});
