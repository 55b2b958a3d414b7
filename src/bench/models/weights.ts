/**
 * Seeded weights for the committed weightless graphs: `weights.json` (written by
 * `tools/model/weightless.py`) lists every tensor the graphs keep in ONNX external data (name,
 * dtype, shape, offset, length) and how to fill it; this writes the external-data files.
 *
 * - `random`: uniform values with the mean and standard deviation of the exported tensor
 *   (open_clip's own initialisation: LayerNorm gains 1, biases 0, weights at their init std),
 *   from a generator seeded by the run's seed and the tensor's name, so each tensor is the same
 *   whichever graph asks for it.
 * - `same`, `quantized`, `scale` (the int8 graph): the float32 graph's tensor of that name, or
 *   its per-channel symmetric int8 quantisation (scale = max |w| / 127 over the other axes; of
 *   the transposed matrix where `quantize_dynamic` turned a Gemm with transB into a
 *   MatMulInteger), so the int8 model is the quantised float32 model.
 */
import { createHash } from 'node:crypto';
import { open, readFile } from 'node:fs/promises';
import { z } from 'zod';
import { Prng } from './prng.js';

const InitSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('random'), mean: z.number(), std: z.number().min(0) }),
  z.object({ kind: z.literal('same'), of: z.string() }),
  z.object({
    kind: z.literal('quantized'),
    of: z.string(),
    axis: z.number().int().min(0),
    transpose: z.boolean().optional(),
  }),
  z.object({
    kind: z.literal('scale'),
    of: z.string(),
    axis: z.number().int().min(0),
    transpose: z.boolean().optional(),
  }),
]);
export type TensorInit = z.infer<typeof InitSchema>;

const TensorSchema = z.object({
  name: z.string().min(1),
  dtype: z.enum(['float32', 'int8']),
  shape: z.array(z.number().int().min(0)),
  offset: z.number().int().min(0),
  length: z.number().int().min(0),
  init: InitSchema,
});
export type ExternalTensor = z.infer<typeof TensorSchema>;

const GraphSchema = z.object({ data: z.string(), bytes: z.number().int().min(0), tensors: z.array(TensorSchema) });
export type GraphWeights = z.infer<typeof GraphSchema>;

export const WeightsManifestSchema = z.object({
  schema: z.literal('clipstream.weightless.v1'),
  threshold: z.number().int(),
  align: z.number().int(),
  graphs: z.record(z.string(), z.union([GraphSchema, z.object({ data: z.string(), sameAs: z.string() })])),
});
export type WeightsManifest = z.infer<typeof WeightsManifestSchema>;

export async function readWeightsManifest(path: string): Promise<WeightsManifest> {
  return WeightsManifestSchema.parse(JSON.parse(await readFile(path, 'utf8')));
}

/** The graph's own tensor list (not a `sameAs` alias). */
export function graphWeights(m: WeightsManifest, graph: string): GraphWeights {
  const g = m.graphs[graph];
  if (!g || !('tensors' in g)) throw new Error(`weights.json has no tensors for ${graph}`);
  return g;
}

export function elements(t: { shape: readonly number[] }): number {
  return t.shape.reduce((a, b) => a * b, 1);
}

/** FNV-1a of the name, mixed with the seed: one generator per tensor. */
function tensorSeed(seed: number, name: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < name.length; i++) h = Math.imul(h ^ name.charCodeAt(i), 0x01000193);
  return (h ^ Math.imul(seed >>> 0, 0x9e3779b1)) >>> 0;
}

export function randomTensor(name: string, n: number, init: { mean: number; std: number }, seed: number): Float32Array {
  if (init.std === 0) return new Float32Array(n).fill(init.mean);
  return new Prng(tensorSeed(seed, name)).uniform(n, init.std, init.mean);
}

/** Per-channel symmetric int8: one scale per index of `axis`, max |x| / 127 over the rest. */
export function quantizeAxis(
  x: Float32Array,
  shape: readonly number[],
  axis: number,
): { q: Int8Array; scale: Float32Array } {
  const size = shape[axis] as number;
  const inner = shape.slice(axis + 1).reduce((a, b) => a * b, 1);
  const outer = x.length / (size * inner);
  const absmax = new Float64Array(size);
  for (let o = 0; o < outer; o++)
    for (let c = 0; c < size; c++) {
      const at = (o * size + c) * inner;
      let m = absmax[c] as number;
      for (let i = 0; i < inner; i++) m = Math.max(m, Math.abs(x[at + i] as number));
      absmax[c] = m;
    }
  const scale = Float32Array.from(absmax, (m) => m / 127);
  const q = new Int8Array(x.length);
  for (let o = 0; o < outer; o++)
    for (let c = 0; c < size; c++) {
      const s = (scale[c] as number) || 1;
      const at = (o * size + c) * inner;
      for (let i = 0; i < inner; i++) {
        q[at + i] = Math.max(-127, Math.min(127, roundEven(Math.fround((x[at + i] as number) / s))));
      }
    }
  return { q, scale };
}

function transpose2d(x: Float32Array, shape: readonly number[]): { data: Float32Array; shape: number[] } {
  if (shape.length !== 2) throw new Error(`transpose of a ${shape.length}-d tensor`);
  const [r, c] = shape as [number, number];
  const out = new Float32Array(x.length);
  for (let i = 0; i < r; i++) for (let j = 0; j < c; j++) out[j * r + i] = x[i * c + j] as number;
  return { data: out, shape: [c, r] };
}

/** Round half to even (numpy's rint, which quantize_dynamic uses). */
function roundEven(v: number): number {
  const r = Math.round(v);
  return r - v === 0.5 && (r & 1) !== 0 ? r - 1 : r;
}

/**
 * A quantised matrix is asked for twice (its int8 values and its scales): keeps the half not yet
 * taken, so each float32 source is generated and quantised once.
 */
export type QuantCache = Map<string, { q?: Int8Array; scale?: Float32Array }>;

/** The bytes of one tensor, generated from `seed` (and, for the int8 graph, the float32 graph's list). */
export function tensorBytes(
  t: ExternalTensor,
  seed: number,
  fp32?: GraphWeights,
  cache: QuantCache = new Map(),
): Uint8Array {
  const n = elements(t);
  const source = (name: string): { data: Float32Array; shape: number[] } => {
    const s = fp32?.tensors.find((x) => x.name === name);
    if (!s || s.init.kind !== 'random') throw new Error(`${t.name}: no float32 tensor ${name} to derive it from`);
    return { data: randomTensor(s.name, elements(s), s.init, seed), shape: s.shape };
  };
  let out: Float32Array | Int8Array;
  switch (t.init.kind) {
    case 'random': {
      const v = randomTensor(t.name, n, t.init, seed);
      // int8 (zero points): rounded and clipped; they are constant 0 in quantize_dynamic's output
      out = t.dtype === 'float32' ? v : Int8Array.from(v, (x) => Math.max(-128, Math.min(127, Math.round(x))));
      break;
    }
    case 'same':
      out = source(t.init.of).data;
      break;
    case 'quantized':
    case 'scale': {
      const key = `${t.init.of}:${t.init.axis}:${t.init.transpose === true}`;
      let hit = cache.get(key);
      if (!hit) {
        let s = source(t.init.of);
        if (t.init.transpose) s = transpose2d(s.data, s.shape);
        hit = quantizeAxis(s.data, s.shape, t.init.axis);
        cache.set(key, hit);
      }
      const part = t.init.kind === 'quantized' ? hit.q : hit.scale;
      if (!part) throw new Error(`${t.name}: asked for twice`);
      if (t.init.kind === 'quantized') delete hit.q;
      else delete hit.scale;
      if (!hit.q && !hit.scale) cache.delete(key);
      out = part;
      break;
    }
  }
  const bytes = new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
  if (out.length !== n || bytes.length !== t.length) {
    throw new Error(`${t.name}: generated ${bytes.length} bytes for a ${t.length}-byte ${t.dtype}${JSON.stringify(t.shape)}`);
  }
  return bytes;
}

/**
 * Writes the external-data file of one graph (tensors in offset order, zero padding between)
 * and returns its size and sha256. The machine is little-endian (ONNX stores little-endian).
 */
export async function writeExternalData(
  path: string,
  g: GraphWeights,
  seed: number,
  fp32?: GraphWeights,
): Promise<{ bytes: number; sha256: string }> {
  const hash = createHash('sha256');
  const fh = await open(path, 'w');
  const cache: QuantCache = new Map();
  let at = 0;
  const put = async (b: Uint8Array) => {
    hash.update(b);
    let done = 0;
    while (done < b.length) done += (await fh.write(b, done, b.length - done)).bytesWritten;
    at += b.length;
  };
  try {
    for (const t of [...g.tensors].sort((a, b) => a.offset - b.offset)) {
      if (t.offset < at) throw new Error(`${t.name}: overlaps the tensor before it`);
      if (t.offset > at) await put(new Uint8Array(t.offset - at));
      await put(tensorBytes(t, seed, fp32, cache));
    }
  } finally {
    await fh.close();
  }
  if (at !== g.bytes) throw new Error(`${g.data}: wrote ${at} bytes, weights.json says ${g.bytes}`);
  return { bytes: at, sha256: hash.digest('hex') };
}
