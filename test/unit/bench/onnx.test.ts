import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import * as ort from 'onnxruntime-node';
import { buildMatMulModel, matmulFlops } from '../../../src/bench/models/matmul.js';
import { Prng } from '../../../src/bench/models/prng.js';
import { VIT_B_32, vitFlops, vitMacs, vitParams } from '../../../src/bench/models/vit-b-32.js';
import { ProtoWriter, encodeModel } from '../../../src/bench/onnx/proto.js';
import type { ModelSpec } from '../../../src/bench/onnx/proto.js';

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

describe('ViT-B/32 cost', () => {
  it('counts 4.41 G multiply-accumulates per frame as published for CLIP ViT-B/32, plus the patch projection', () => {
    const m = vitMacs(VIT_B_32);
    assert.equal(m.patchEmbed, 49 * 3 * 32 * 32 * 768);
    assert.equal(m.qkv, 12 * 50 * 768 * 2304);
    assert.equal(m.attention, 12 * 2 * 50 * 50 * 768);
    assert.equal(m.outProj, 12 * 50 * 768 * 768);
    assert.equal(m.mlp, 12 * 2 * 50 * 768 * 3072);
    assert.equal(m.projection, 768 * 512);
    assert.equal(m.patchProjection, 49 * 768 * 512);
    assert.equal(m.total - m.patchProjection, 4_408_811_520);
    assert.equal(m.total, 4_428_079_104);
    assert.equal(vitFlops(VIT_B_32), 2 * 4_428_079_104);
  });

  it('has the parameter count of OpenAI CLIP ViT-B/32 visual tower', () => {
    assert.equal(vitParams(VIT_B_32), 87_849_216);
    // one layer more adds exactly one block: 2 LayerNorms, qkv, out proj and the MLP with biases
    const W = 768;
    const M = 3072;
    const block = 4 * W + 3 * W * W + 3 * W + W * W + W + 2 * W * M + M + W;
    assert.equal(vitParams({ ...VIT_B_32, layers: 13 }) - vitParams(VIT_B_32), block);
  });
});
