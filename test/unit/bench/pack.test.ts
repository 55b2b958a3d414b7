import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import * as ort from 'onnxruntime-node';
import { writeBenchPacks } from '../../../src/bench/models/pack.js';
import { Prng } from '../../../src/bench/models/prng.js';
import { VIT_B_32, randomVitWeights } from '../../../src/bench/models/vit.js';
import type { VitConfig } from '../../../src/bench/models/vit.js';
import { resizeCrop } from '../../../src/bench/reference.js';
import { Embedder, loadModelPack } from '../../../src/embed/index.js';
import { silentLogger } from '../../../src/log.js';
import { normalisePixels, vitReference } from './vit-reference.js';

const TINY: VitConfig = {
  ...VIT_B_32,
  imageSize: 16,
  patchSize: 8,
  width: 16,
  layers: 1,
  heads: 2,
  mlpWidth: 32,
  embedDim: 8,
};

describe('benchmark model packs', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'clipstream-benchpack-'));
  });
  after(() => rm(dir, { recursive: true, force: true }));

  it('are whole model packs the real loader and Embedder accept, and compute the ViT', async () => {
    const packs = await writeBenchPacks(dir, TINY, {
      seed: 3,
      int8: true,
      texts: ['a red circle', 'colour bars'],
    });
    const frame = new Prng(4).bytes(16 * 16 * 3);
    const want = vitReference(TINY, randomVitWeights(TINY, 3), frame);
    for (const d of [packs.fp32Dir, packs.int8Dir as string]) {
      const pack = await loadModelPack(d);
      const e = await Embedder.open(
        pack,
        {
          runtime: { device: 'cpu', intraOpThreads: 1, cudaDeviceId: 0 },
          batch: { maxBatch: 4, maxWaitMs: 1, maxQueued: 16 },
        },
        silentLogger,
      );
      try {
        const [got] = await e.embedFramesNow([frame]);
        const cos = want.reduce((a, v, i) => a + v * got![i]!, 0);
        assert.ok(cos > (d === packs.fp32Dir ? 0.99999 : 0.99), `${d}: cosine ${cos}`);
        const [t] = await e.embedTexts(['A red circle']);
        assert.equal(t!.wordCount, 3);
        assert.deepEqual(t!.wordTokens, ['a', 'red', 'circle']);
        assert.ok(Math.abs(Math.hypot(...t!.sentence) - 1) < 1e-5);
      } finally {
        await e.close();
      }
    }
    const ref = await ort.InferenceSession.create(packs.referenceModel, { intraOpNumThreads: 1 });
    try {
      const out = await ref.run({
        pixel_values: new ort.Tensor('float32', normalisePixels(TINY, frame), [1, 3, 16, 16]),
      });
      const got = out.image_embeds!.data as Float32Array;
      want.forEach((v, i) => assert.ok(Math.abs(got[i]! - v) < 1e-4));
    } finally {
      await ref.release();
    }
  });
});

describe('reference pipeline resize', () => {
  it('keeps a flat image flat and normalises each pixel', () => {
    const src = new Uint8Array(8 * 4 * 3).fill(128);
    const out = new Float32Array(3 * 4 * 4);
    resizeCrop(src, 8, 4, 4, 4, out, { mean: [0.5, 0.5, 0.5], std: [0.5, 0.25, 1] });
    const v = 128 / 255;
    assert.ok(out.slice(0, 16).every((x) => Math.abs(x - (v - 0.5) / 0.5) < 1e-6));
    assert.ok(out.slice(16, 32).every((x) => Math.abs(x - (v - 0.5) / 0.25) < 1e-6));
  });

  it('scales the short side and takes the centre window (uint8 NHWC without normalisation)', () => {
    // 8x4 frame whose red channel is the column index * 10: the 4x4 centre crop at scale 1 is columns 2..5.
    const src = new Uint8Array(8 * 4 * 3);
    for (let y = 0; y < 4; y++) for (let x = 0; x < 8; x++) src[(y * 8 + x) * 3] = x * 10;
    const out = new Uint8Array(4 * 4 * 3);
    resizeCrop(src, 8, 4, 4, 4, out);
    assert.deepEqual(
      [0, 1, 2, 3].map((x) => out[x * 3]),
      [20, 30, 40, 50],
    );
    // Downscale by 2: 16x8 -> 4x4 with centre window; each output pixel samples between two columns.
    const big = new Uint8Array(16 * 8 * 3);
    for (let y = 0; y < 8; y++) for (let x = 0; x < 16; x++) big[(y * 16 + x) * 3] = x * 10;
    resizeCrop(big, 16, 8, 4, 4, out);
    assert.deepEqual(
      [0, 1, 2, 3].map((x) => out[x * 3]),
      [45, 65, 85, 105],
    );
  });
});
