import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import * as ort from 'onnxruntime-node';
import { buildMatMulModel, matmulFlops } from '../../../src/bench/models/matmul.js';
import { Prng } from '../../../src/bench/models/prng.js';
import {
  FLOAT_INPUT,
  IMAGE_INPUT,
  IMAGE_OUTPUT,
  VIT_B_32,
  buildVitModel,
  quantizeColumns,
  randomVitWeights,
  vitFlops,
  vitMacs,
  vitParams,
} from '../../../src/bench/models/vit.js';
import type { VitConfig } from '../../../src/bench/models/vit.js';
import { ProtoWriter, encodeModel } from '../../../src/bench/onnx/proto.js';
import type { ModelSpec } from '../../../src/bench/onnx/proto.js';
import { normalisePixels, vitReference } from './vit-reference.js';

const bytes = (w: ProtoWriter) => Array.from(w.finish());

async function session(model: ModelSpec): Promise<ort.InferenceSession> {
  return ort.InferenceSession.create(encodeModel(model).finish(), {
    intraOpNumThreads: 1,
    graphOptimizationLevel: 'all',
  });
}

describe('ProtoWriter', () => {
  it('writes varints, negative int64s, floats, strings and nested messages as protobuf does', () => {
    assert.deepEqual(bytes(new ProtoWriter().int(1, 300)), [0x08, 0xac, 0x02]);
    assert.deepEqual(bytes(new ProtoWriter().int(3, -1)), [0x18, ...new Array(9).fill(0xff), 0x01]);
    assert.deepEqual(bytes(new ProtoWriter().float(2, 1)), [0x15, 0x00, 0x00, 0x80, 0x3f]);
    assert.deepEqual(bytes(new ProtoWriter().string(2, 'ab')), [0x12, 0x02, 0x61, 0x62]);
    const inner = new ProtoWriter().int(1, 5);
    assert.deepEqual(
      bytes(new ProtoWriter().message(7, inner).int(2, 1)),
      [0x3a, 0x02, 0x08, 0x05, 0x10, 0x01],
    );
  });

  it('references large payloads without copying them until finish()', () => {
    const big = new Uint8Array(1000).fill(7);
    const w = new ProtoWriter().bytes(9, big);
    assert.equal(w.length, 1 + 2 + 1000);
    assert.ok(w.toChunks().includes(big));
    const out = w.finish();
    assert.deepEqual(Array.from(out.subarray(0, 3)), [0x4a, 0xe8, 0x07]);
    assert.equal(out[1002], 7);
  });
});

describe('MatMul model', () => {
  it('loads in onnxruntime-node and multiplies like JavaScript does', async () => {
    const shape = { m: 3, k: 5, n: 4 };
    const { model, b } = buildMatMulModel(shape, 7);
    const a = new Prng(3).uniform(shape.m * shape.k, 1);
    const s = await session(model);
    try {
      const out = await s.run({ A: new ort.Tensor('float32', a, [shape.m, shape.k]) });
      const c = out.C!.data as Float32Array;
      assert.deepEqual(out.C!.dims, [3, 4]);
      for (let i = 0; i < shape.m; i++) {
        for (let j = 0; j < shape.n; j++) {
          let want = 0;
          for (let t = 0; t < shape.k; t++) want += a[i * shape.k + t]! * b[t * shape.n + j]!;
          assert.ok(Math.abs(c[i * shape.n + j]! - want) < 1e-4, `C[${i},${j}]`);
        }
      }
    } finally {
      await s.release();
    }
    assert.equal(matmulFlops({ m: 2048, k: 2048, n: 2048 }), 2 * 2048 ** 3);
  });
});

const TINY: VitConfig = {
  ...VIT_B_32,
  imageSize: 16,
  patchSize: 8,
  width: 16,
  layers: 2,
  heads: 2,
  mlpWidth: 32,
  embedDim: 8,
};

describe('benchmark ViT graph', () => {
  const w = randomVitWeights(TINY, 11);
  const frames = [new Prng(5).bytes(16 * 16 * 3), new Prng(6).bytes(16 * 16 * 3)];
  const want = frames.map((f) => vitReference(TINY, w, f));
  const uint8Input = () => {
    const buf = new Uint8Array(frames.length * 16 * 16 * 3);
    frames.forEach((f, i) => buf.set(f, i * f.length));
    return new ort.Tensor('uint8', buf, [frames.length, 16, 16, 3]);
  };

  it('computes the CLIP ViT forward pass from uint8 NHWC pixels (preprocessing in the graph)', async () => {
    const s = await session(buildVitModel(TINY, w));
    try {
      assert.deepEqual(s.inputNames, [IMAGE_INPUT]);
      const got = (await s.run({ [IMAGE_INPUT]: uint8Input() }))[IMAGE_OUTPUT]!;
      assert.deepEqual(got.dims, [2, 8]);
      const data = got.data as Float32Array;
      want.forEach((row, i) =>
        row.forEach((v, j) =>
          assert.ok(Math.abs(data[i * 8 + j]! - v) < 1e-4, `row ${i} col ${j}: ${data[i * 8 + j]} vs ${v}`),
        ),
      );
    } finally {
      await s.release();
    }
  });

  it('computes the same embedding from float32 NCHW normalised pixels (the reference pipeline input)', async () => {
    const s = await session(buildVitModel(TINY, w, { input: 'float32-nchw' }));
    try {
      const px = new Float32Array(2 * 3 * 16 * 16);
      frames.forEach((f, i) => px.set(normalisePixels(TINY, f), i * 3 * 16 * 16));
      const got = (await s.run({ [FLOAT_INPUT]: new ort.Tensor('float32', px, [2, 3, 16, 16]) }))[
        IMAGE_OUTPUT
      ]!;
      const data = got.data as Float32Array;
      want.forEach((row, i) => row.forEach((v, j) => assert.ok(Math.abs(data[i * 8 + j]! - v) < 1e-4)));
    } finally {
      await s.release();
    }
  });

  it('int8 variant stays close to float32 (cosine > 0.99)', async () => {
    const s = await session(buildVitModel(TINY, w, { linear: 'int8' }));
    try {
      const data = (await s.run({ [IMAGE_INPUT]: uint8Input() }))[IMAGE_OUTPUT]!.data as Float32Array;
      want.forEach((row, i) => {
        const cos = row.reduce((a, v, j) => a + v * data[i * 8 + j]!, 0);
        assert.ok(cos > 0.99, `row ${i}: cosine ${cos}`);
      });
    } finally {
      await s.release();
    }
  });

  it('quantizes weights per output column, symmetric', () => {
    const { q, scale } = quantizeColumns(Float32Array.from([1, -0.5, -2, 0.25]), 2, 2);
    assert.deepEqual(Array.from(scale), [2 / 127, 0.5 / 127].map(Math.fround));
    assert.deepEqual(Array.from(q), [64, -127, -127, 64]);
  });
});

describe('ViT-B/32 cost', () => {
  it('counts 4.41 G multiply-accumulates (8.82 GFLOP) per frame, as published for CLIP ViT-B/32', () => {
    const m = vitMacs(VIT_B_32);
    assert.equal(m.patchEmbed, 49 * 3 * 32 * 32 * 768);
    assert.equal(m.qkv, 12 * 50 * 768 * 2304);
    assert.equal(m.attention, 12 * 2 * 50 * 50 * 768);
    assert.equal(m.outProj, 12 * 50 * 768 * 768);
    assert.equal(m.mlp, 12 * 2 * 50 * 768 * 3072);
    assert.equal(m.projection, 768 * 512);
    assert.equal(m.total, 4_408_811_520);
    assert.equal(vitFlops(VIT_B_32), 2 * 4_408_811_520);
  });

  it('has the parameter count of OpenAI CLIP ViT-B/32 visual tower', () => {
    assert.equal(vitParams(VIT_B_32), 87_849_216);
    const w = randomVitWeights(TINY, 1);
    const counted =
      w.conv.length +
      w.cls.length +
      w.pos.length +
      2 * w.lnPre.g.length +
      2 * w.lnPost.g.length +
      w.proj.length +
      w.blocks.reduce(
        (a, b) =>
          a +
          [b.qkv, b.out, b.fc, b.proj].reduce((s, l) => s + l.w.length + l.b.length, 0) +
          2 * b.ln1.g.length +
          2 * b.ln2.g.length,
        0,
      );
    assert.equal(vitParams(TINY), counted);
  });
});
