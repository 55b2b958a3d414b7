import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import * as ort from 'onnxruntime-node';
import { BENCH_MODEL_DIR, writeBenchPacks } from '../../../src/bench/models/pack.js';
import type { BenchPacks } from '../../../src/bench/models/pack.js';
import { Prng } from '../../../src/bench/models/prng.js';
import {
  FLOAT_INPUT,
  IMAGE_INPUT,
  IMAGE_OUTPUT,
  VIT_B_32,
  vitMacs,
  vitParams,
} from '../../../src/bench/models/vit-b-32.js';
import { elements, graphWeights, readWeightsManifest } from '../../../src/bench/models/weights.js';
import { resizeCrop } from '../../../src/bench/reference.js';
import { Embedder, loadModelPack } from '../../../src/embed/index.js';
import { silentLogger } from '../../../src/log.js';

const S = VIT_B_32.imageSize;
const frames = [new Prng(4).bytes(S * S * 3), new Prng(5).bytes(S * S * 3)];
const dot = (a: Float32Array, b: Float32Array) => a.reduce((s, v, i) => s + v * b[i]!, 0);

async function embedder(dir: string): Promise<Embedder> {
  return Embedder.open(
    await loadModelPack(dir),
    {
      runtime: { device: 'cpu', intraOpThreads: 2, cudaDeviceId: 0 },
      batch: { maxBatch: 4, maxWaitMs: 1, maxQueued: 16 },
    },
    silentLogger,
  );
}

/** Multiply-accumulates of every MatMul, Gemm and Conv ONNX Runtime ran, from its profile. */
function profiledMacs(events: { cat?: string; args?: Record<string, unknown> }[]): {
  macs: number;
  ops: number;
} {
  let macs = 0;
  let ops = 0;
  for (const e of events) {
    const a = e.args as
      | {
          op_name?: string;
          input_type_shape?: Record<string, number[]>[];
          output_type_shape?: Record<string, number[]>[];
        }
      | undefined;
    if (e.cat !== 'Node' || !a?.op_name || !['MatMul', 'Gemm', 'Conv'].includes(a.op_name)) continue;
    const shapes = (a.input_type_shape ?? []).map((x) => Object.values(x)[0] as number[]);
    const out = Object.values(a.output_type_shape?.[0] ?? {})[0] as number[];
    const outN = out.reduce((x, y) => x * y, 1);
    // per output element: K multiply-adds (the inner dimension; for Conv, C_in x kH x kW)
    const k = a.op_name === 'Conv' ? elements({ shape: shapes[1]!.slice(1) }) : (shapes[0]!.at(-1) as number);
    macs += outN * k;
    ops++;
  }
  return { macs, ops };
}

describe('benchmark model (the exported open_clip ViT-B/32, weights generated)', () => {
  let dir: string;
  let packs: BenchPacks;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'clipstream-benchpack-'));
    packs = await writeBenchPacks(dir, { seed: 3, int8: true });
  });
  after(() => rm(dir, { recursive: true, force: true }));

  it('loads through the real loader (sha256 of the generated data included) and embeds to unit-length 512-d vectors', async () => {
    const m = JSON.parse(await readFile(join(packs.fp32Dir, 'model.json'), 'utf8')) as {
      files: Record<string, string>;
    };
    assert.ok('image.onnx.data' in m.files && 'text.onnx.data' in m.files);
    const e = await embedder(packs.fp32Dir);
    let fp32: Float32Array[];
    try {
      fp32 = await e.embedFramesNow(frames);
      for (const v of fp32) {
        assert.equal(v.length, 512);
        assert.ok(v.every(Number.isFinite));
        assert.ok(Math.abs(Math.hypot(...v) - 1) < 1e-5, `norm ${Math.hypot(...v)}`);
      }
      assert.ok(dot(fp32[0]!, fp32[1]!) < 0.9999, 'two different frames give two different embeddings');
      const [t] = await e.embedTexts(['a red circle']);
      assert.equal(t!.sentence.length, 512);
      assert.ok(Math.abs(Math.hypot(...t!.sentence) - 1) < 1e-5);
    } finally {
      await e.close();
    }
    // int8: the quantised float32 weights, so it agrees with float32
    const q = await embedder(packs.int8Dir as string);
    try {
      const got = await q.embedFramesNow(frames);
      got.forEach((v, i) => assert.ok(dot(v, fp32[i]!) > 0.99, `int8 cosine ${dot(v, fp32[i]!)}`));
    } finally {
      await q.close();
    }
    // reference.onnx: the same weights from float32 NCHW pixels normalised outside the graph
    const ref = await ort.InferenceSession.create(packs.referenceModel, { intraOpNumThreads: 2 });
    try {
      const px = new Float32Array(3 * S * S);
      const f = frames[0]!;
      for (let i = 0; i < S * S; i++)
        for (let c = 0; c < 3; c++)
          px[c * S * S + i] = (f[i * 3 + c]! / 255 - VIT_B_32.mean[c]!) / VIT_B_32.std[c]!;
      const out = await ref.run({ [FLOAT_INPUT]: new ort.Tensor('float32', px, [1, 3, S, S]) });
      assert.ok(dot(out[IMAGE_OUTPUT]!.data as Float32Array, fp32[0]!) > 0.9999);
    } finally {
      await ref.release();
    }
  });

  it('has the parameters of the documented formula (87,849,216) in tensors of the shapes it names', async () => {
    assert.equal(vitParams(VIT_B_32), 87_849_216);
    assert.equal(packs.params, vitParams(VIT_B_32));
    const w = graphWeights(await readWeightsManifest(join(BENCH_MODEL_DIR, 'weights.json')), 'image.onnx');
    const shapes = w.tensors.map((t) => t.shape.join('x'));
    const { width: W, patchSize: p, mlpWidth: M, embedDim: E, layers: L } = VIT_B_32;
    assert.ok(shapes.includes(`${W}x3x${p}x${p}`), 'patch convolution');
    assert.ok(shapes.includes(`${vitPatchesPlusOne()}x${W}`), 'positional embedding');
    assert.ok(shapes.includes(`${W}x${E}`), 'projection');
    assert.equal(shapes.filter((s) => s === `${W}x${M}` || s === `${M}x${W}`).length, 2 * L, 'MLP weights');
    assert.equal(
      w.tensors.reduce((a, t) => a + elements(t), 0),
      packs.params,
    );
  });

  it('costs the documented multiply-adds per frame, counted from what ONNX Runtime runs', async () => {
    const m = vitMacs(VIT_B_32);
    assert.equal(m.total - m.patchProjection, 4_408_811_520);
    const profDir = await mkdtemp(join(dir, 'profile-'));
    const s = await ort.InferenceSession.create(join(packs.fp32Dir, 'image.onnx'), {
      graphOptimizationLevel: 'disabled',
      intraOpNumThreads: 2,
      enableProfiling: true,
      profileFilePrefix: join(profDir, 'image'),
    });
    try {
      await s.run({ [IMAGE_INPUT]: new ort.Tensor('uint8', frames[0]!, [1, S, S, 3]) }, [IMAGE_OUTPUT]);
      s.endProfiling();
    } finally {
      await s.release();
    }
    const [file] = (await readdir(profDir)).filter((f) => f.endsWith('.json'));
    assert.ok(file, 'ONNX Runtime wrote a profile');
    const counted = profiledMacs(JSON.parse(await readFile(join(profDir, file), 'utf8')) as []);
    assert.ok(counted.ops > 12 * 4, `${counted.ops} products`);
    assert.equal(counted.macs, m.total);
  });
});

function vitPatchesPlusOne(): number {
  return (VIT_B_32.imageSize / VIT_B_32.patchSize) ** 2 + 1;
}

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
