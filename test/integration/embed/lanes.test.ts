/**
 * Encoder lanes (src/embed/sessions.ts): on the CPU the image encoder runs in several worker
 * threads at once, each with its own session; the first also holds the text encoder. Real
 * ONNX Runtime with the bundled model: the lanes give the embeddings one lane gives, the
 * batcher keeps them all busy, and a process with lanes exits once they are closed.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Embedder, loadModelPack } from '../../../src/embed/index.js';
import type { ModelPack } from '../../../src/embed/index.js';
import { silentLogger } from '../../../src/log.js';
import { BUNDLED_PACK } from '../../helpers/cli.js';
import { cosine } from '../../helpers/vectors.js';

function open(pack: ModelPack, lanes: number, maxBatch: number): Promise<Embedder> {
  return Embedder.open(
    pack,
    {
      runtime: { device: 'cpu', intraOpThreads: 1, lanes, cudaDeviceId: 0 },
      batch: { maxBatch, maxWaitMs: 5, maxQueued: 64 },
    },
    silentLogger,
  );
}

describe('encoder lanes', () => {
  let pack: ModelPack;
  let one: Embedder;
  let two: Embedder;
  before(async () => {
    pack = await loadModelPack(BUNDLED_PACK);
    [one, two] = await Promise.all([open(pack, 1, 16), open(pack, 2, 16)]);
  });
  after(() => Promise.all([one?.close(), two?.close()]));

  it('frames submitted together run on both lanes and embed as on one lane', async () => {
    assert.equal(one.lanes, 1);
    assert.equal(two.lanes, 2);
    const m = pack.manifest;
    const size = m.image.height * m.image.width * 3;
    // Distinct frames: a gradient whose phase moves with the frame number.
    const frames = Array.from({ length: 24 }, (_, f) => {
      const px = new Uint8Array(size);
      for (let i = 0; i < size; i++) px[i] = (i * 7 + f * 31 + ((i / 3) | 0) * f) & 0xff;
      return px;
    });
    const before = [...two.runsPerLane];
    const [a, b] = await Promise.all([
      one.embedFramesNow(frames),
      Promise.all(frames.map((f) => two.embedFrame(f))),
    ]);
    const runs = two.runsPerLane.map((r, i) => r - (before[i] ?? 0));
    assert.ok(
      runs.every((r) => r > 0),
      `both lanes ran batches: ${JSON.stringify(runs)}`,
    );
    // A lane's run takes at most its share of the batch (16 over two lanes).
    assert.ok(runs.reduce((x, y) => x + y, 0) >= Math.ceil(24 / 8));
    for (let i = 0; i < frames.length; i++) {
      const c = cosine(a[i] as Float32Array, b[i] as Float32Array);
      assert.ok(c > 0.99999, `frame ${i}: cosine ${c}`);
    }
    // Different frames embed differently (the comparison above can fail).
    assert.ok(cosine(b[0] as Float32Array, b[1] as Float32Array) < 0.99999);
  });

  it('texts embed on the first lane as with one lane', async () => {
    const texts = ['a red circle', 'two blue squares'];
    const [x, y] = await Promise.all([one.embedTexts(texts), two.embedTexts(texts)]);
    for (let i = 0; i < texts.length; i++) {
      const c = cosine(x[i]!.sentence, y[i]!.sentence);
      assert.ok(c > 0.99999, `${texts[i]}: cosine ${c}`);
    }
  });
});
