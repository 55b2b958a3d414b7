import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import {
  quantizeAxis,
  randomTensor,
  tensorBytes,
  writeExternalData,
} from '../../../src/bench/models/weights.js';
import type { ExternalTensor, GraphWeights } from '../../../src/bench/models/weights.js';

const f32 = (b: Uint8Array) => new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));

describe('generated weights', () => {
  it('have the mean and standard deviation asked for, the same for the same seed and name', () => {
    const a = randomTensor('w', 100_000, { mean: 0.5, std: 0.02 }, 7);
    const mean = a.reduce((s, v) => s + v, 0) / a.length;
    const std = Math.sqrt(a.reduce((s, v) => s + (v - mean) ** 2, 0) / a.length);
    assert.ok(Math.abs(mean - 0.5) < 1e-3 && Math.abs(std - 0.02) < 1e-3, `${mean} ${std}`);
    assert.deepEqual(
      randomTensor('w', 10, { mean: 0, std: 1 }, 7),
      randomTensor('w', 10, { mean: 0, std: 1 }, 7),
    );
    assert.notDeepEqual(
      randomTensor('w', 10, { mean: 0, std: 1 }, 7),
      randomTensor('v', 10, { mean: 0, std: 1 }, 7),
    );
    assert.notDeepEqual(
      randomTensor('w', 10, { mean: 0, std: 1 }, 7),
      randomTensor('w', 10, { mean: 0, std: 1 }, 8),
    );
    assert.deepEqual(Array.from(randomTensor('g', 3, { mean: 1, std: 0 }, 7)), [1, 1, 1]);
  });

  it('quantise per channel, symmetric, scale = max |w| / 127', () => {
    // [2, 2] row-major: columns (axis 1) [1, -2] and [-0.5, 0.25]
    const w = Float32Array.from([1, -0.5, -2, 0.25]);
    const cols = quantizeAxis(w, [2, 2], 1);
    assert.deepEqual(Array.from(cols.scale), [2 / 127, 0.5 / 127].map(Math.fround));
    assert.deepEqual(Array.from(cols.q), [64, -127, -127, 64]);
    const rows = quantizeAxis(w, [2, 2], 0);
    assert.deepEqual(Array.from(rows.scale), [1 / 127, 2 / 127].map(Math.fround));
    assert.deepEqual(Array.from(rows.q), [127, -64, -127, 16]);
  });

  it('derive the int8 graph from the float32 one (same, quantised, transposed, scale)', () => {
    const src: ExternalTensor = {
      name: 'W',
      dtype: 'float32',
      shape: [2, 3],
      offset: 0,
      length: 24,
      init: { kind: 'random', mean: 0, std: 1 },
    };
    const fp32: GraphWeights = { data: 'x', bytes: 24, tensors: [src] };
    const w = f32(tensorBytes(src, 5));
    assert.deepEqual(f32(tensorBytes({ ...src, name: 'W', init: { kind: 'same', of: 'W' } }, 5, fp32)), w);
    const q = tensorBytes(
      {
        name: 'W_quantized',
        dtype: 'int8',
        shape: [2, 3],
        offset: 0,
        length: 6,
        init: { kind: 'quantized', of: 'W', axis: 1 },
      },
      5,
      fp32,
    );
    const scale = f32(
      tensorBytes(
        {
          name: 'W_scale',
          dtype: 'float32',
          shape: [3],
          offset: 0,
          length: 12,
          init: { kind: 'scale', of: 'W', axis: 1 },
        },
        5,
        fp32,
      ),
    );
    const qi = new Int8Array(q.buffer, q.byteOffset, q.length);
    for (let i = 0; i < 6; i++)
      assert.ok(Math.abs(qi[i]! * scale[i % 3]! - w[i]!) <= scale[i % 3]! / 2 + 1e-7);
    // transposed: a [3, 2] int8 tensor of the [2, 3] weight, one scale per row of W
    const t = tensorBytes(
      {
        name: 'W_quantized',
        dtype: 'int8',
        shape: [3, 2],
        offset: 0,
        length: 6,
        init: { kind: 'quantized', of: 'W', axis: 1, transpose: true },
      },
      5,
      fp32,
    );
    const ti = new Int8Array(t.buffer, t.byteOffset, t.length);
    const rows = quantizeAxis(w, [2, 3], 0).q;
    for (let i = 0; i < 2; i++) for (let j = 0; j < 3; j++) assert.equal(ti[j * 2 + i], rows[i * 3 + j]);
    assert.throws(
      () => tensorBytes({ ...src, init: { kind: 'same', of: 'missing' } }, 5, fp32),
      /no float32 tensor missing/,
    );
    assert.throws(() => tensorBytes({ ...src, length: 20 }, 5), /generated 24 bytes for a 20-byte/);
  });

  it('write each tensor at its offset with zero padding between, and hash what they wrote', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'clipstream-weights-'));
    try {
      const g: GraphWeights = {
        data: 'g.data',
        bytes: 72,
        tensors: [
          {
            name: 'b',
            dtype: 'float32',
            shape: [2],
            offset: 64,
            length: 8,
            init: { kind: 'random', mean: 2, std: 0 },
          },
          {
            name: 'a',
            dtype: 'float32',
            shape: [3],
            offset: 0,
            length: 12,
            init: { kind: 'random', mean: 0, std: 1 },
          },
        ],
      };
      const r = await writeExternalData(join(dir, 'g.data'), g, 1);
      const bytes = await readFile(join(dir, 'g.data'));
      assert.equal(r.bytes, 72);
      assert.equal(bytes.length, 72);
      assert.ok(bytes.subarray(12, 64).every((b) => b === 0));
      assert.deepEqual(Array.from(f32(bytes.subarray(64))), [2, 2]);
      assert.deepEqual(f32(bytes.subarray(0, 12)), randomTensor('a', 3, { mean: 0, std: 1 }, 1));
      assert.match(r.sha256, /^[0-9a-f]{64}$/);
      await assert.rejects(writeExternalData(join(dir, 'h.data'), { ...g, bytes: 80 }, 1), /wrote 72 bytes/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
