/**
 * A CLIP-style vision transformer image encoder (OpenAI CLIP's VisionTransformer), written as an
 * ONNX graph with seeded random weights. With VIT_B_32 it has the shape, parameter count and
 * cost of CLIP ViT-B/32, which is what the benchmark needs: speed does not depend on the weights.
 *
 * Graph (opset 17, ops that ONNX Runtime supports on CPU and CUDA):
 *   pixels uint8 [N,S,S,3] -> Cast -> *1/(255 std) + (-mean/std) -> NCHW
 *   -> Conv p x p stride p -> [N,P,W] -> class token ++ -> + positional embedding -> ln_pre
 *   -> L x { x += attn(ln_1(x)); x += mlp(ln_2(x)) }, mlp = c_proj(QuickGELU(c_fc(.)))
 *   -> class token -> ln_post -> @ proj -> L2 normalise -> image_embeds [N,E]
 */
import { GraphBuilder } from '../onnx/builder.js';
import type { ModelSpec } from '../onnx/proto.js';
import { Prng } from './prng.js';

export interface VitConfig {
  /** Input height and width, pixels. */
  readonly imageSize: number;
  /** Patch side, pixels (the patch embedding is a Conv with this kernel and stride). */
  readonly patchSize: number;
  /** Residual width. */
  readonly width: number;
  readonly layers: number;
  readonly heads: number;
  /** Hidden width of each MLP. */
  readonly mlpWidth: number;
  /** Width of the joint embedding space (output). */
  readonly embedDim: number;
  readonly mean: readonly [number, number, number];
  readonly std: readonly [number, number, number];
  /** LayerNorm epsilon. */
  readonly eps: number;
}

/** OpenAI CLIP's pixel statistics. */
export const CLIP_MEAN = [0.48145466, 0.4578275, 0.40821073] as const;
export const CLIP_STD = [0.26862954, 0.26130258, 0.27577711] as const;

/** CLIP ViT-B/32: 224 px, 32 px patches, 12 layers of width 768, 12 heads, MLP 3072, 512-d output. */
export const VIT_B_32: VitConfig = Object.freeze({
  imageSize: 224,
  patchSize: 32,
  width: 768,
  layers: 12,
  heads: 12,
  mlpWidth: 3072,
  embedDim: 512,
  mean: CLIP_MEAN,
  std: CLIP_STD,
  eps: 1e-5,
});

export function vitPatches(c: VitConfig): number {
  return (c.imageSize / c.patchSize) ** 2;
}

/**
 * Multiply-accumulates per frame, by part. P patches, T = P + 1 tokens, width W, MLP width M,
 * L layers, output E:
 *   patch embedding  P * 3p^2 * W
 *   q, k, v          L * T * W * 3W
 *   attention        L * 2 * T^2 * W        (Q K^T and A V, over all heads)
 *   output proj.     L * T * W^2
 *   MLP              L * 2 * T * W * M
 *   final proj.      W * E                  (class token only)
 * LayerNorm, softmax, QuickGELU and the other element-wise ops are not counted (they are under
 * 1% and are not multiply-adds). Published CLIP figures ("4.4 GFLOPs" for ViT-B/32) count
 * multiply-accumulates; one MAC is two floating-point operations, the unit of a MatMul's
 * GFLOP/s (2 m k n per product), so the benchmark compares 2 x MACs with the MatMul peak.
 */
export function vitMacs(c: VitConfig): {
  patchEmbed: number;
  qkv: number;
  attention: number;
  outProj: number;
  mlp: number;
  projection: number;
  total: number;
} {
  const P = vitPatches(c);
  const T = P + 1;
  const { width: W, mlpWidth: M, layers: L, embedDim: E, patchSize: p } = c;
  const parts = {
    patchEmbed: P * 3 * p * p * W,
    qkv: L * T * W * 3 * W,
    attention: L * 2 * T * T * W,
    outProj: L * T * W * W,
    mlp: L * 2 * T * W * M,
    projection: W * E,
  };
  const total = Object.values(parts).reduce((a, b) => a + b, 0);
  return { ...parts, total };
}

/** Floating-point operations per frame (2 per multiply-accumulate). */
export function vitFlops(c: VitConfig): number {
  return 2 * vitMacs(c).total;
}

/** Parameters of the image encoder (87,849,216 for ViT-B/32, as OpenAI's checkpoint). */
export function vitParams(c: VitConfig): number {
  const { width: W, mlpWidth: M, layers: L, embedDim: E, patchSize: p } = c;
  const T = vitPatches(c) + 1;
  const block = 2 * W + (W * 3 * W + 3 * W) + (W * W + W) + 2 * W + (W * M + M) + (M * W + W);
  return 3 * p * p * W + W + T * W + 2 * W + L * block + 2 * W + W * E;
}

export interface Linear {
  /** [in, out], row-major: y = x w + b */
  readonly w: Float32Array;
  readonly b: Float32Array;
  readonly inDim: number;
  readonly outDim: number;
}

export interface Norm {
  readonly g: Float32Array;
  readonly b: Float32Array;
}

export interface VitBlock {
  readonly ln1: Norm;
  readonly qkv: Linear;
  readonly out: Linear;
  readonly ln2: Norm;
  readonly fc: Linear;
  readonly proj: Linear;
}

export interface VitWeights {
  /** [W, 3, p, p] */
  readonly conv: Float32Array;
  /** [W] */
  readonly cls: Float32Array;
  /** [T, W] */
  readonly pos: Float32Array;
  readonly lnPre: Norm;
  readonly blocks: readonly VitBlock[];
  readonly lnPost: Norm;
  /** [W, E] */
  readonly proj: Float32Array;
}

/**
 * Random weights with CLIP's initialisation scales (so activations stay in a normal range, with
 * no overflow or denormals to distort timings), from a seeded generator.
 */
export function randomVitWeights(c: VitConfig, seed = 1): VitWeights {
  const r = new Prng(seed);
  const { width: W, mlpWidth: M, layers: L, embedDim: E, patchSize: p } = c;
  const T = vitPatches(c) + 1;
  const attnStd = W ** -0.5;
  const projStd = W ** -0.5 * (2 * L) ** -0.5;
  const norm = (n: number): Norm => ({ g: r.uniform(n, 0.05, 1), b: r.uniform(n, 0.05) });
  const linear = (inDim: number, outDim: number, std: number): Linear => ({
    w: r.uniform(inDim * outDim, std),
    b: r.uniform(outDim, 0.02),
    inDim,
    outDim,
  });
  const conv = r.uniform(W * 3 * p * p, (3 * p * p) ** -0.5);
  const cls = r.uniform(W, W ** -0.5);
  const pos = r.uniform(T * W, W ** -0.5);
  const lnPre = norm(W);
  const blocks: VitBlock[] = [];
  for (let l = 0; l < L; l++) {
    blocks.push({
      ln1: norm(W),
      qkv: linear(W, 3 * W, attnStd),
      out: linear(W, W, projStd),
      ln2: norm(W),
      fc: linear(W, M, (2 * W) ** -0.5),
      proj: linear(M, W, projStd),
    });
  }
  return { conv, cls, pos, lnPre, blocks, lnPost: norm(W), proj: r.uniform(W * E, W ** -0.5) };
}

export interface VitGraphOptions {
  /**
   * `uint8-nhwc` (default): the model pack contract, preprocessing inside the graph, input
   * `pixels`. `float32-nchw`: input `pixel_values`, already normalised (what a straightforward
   * pipeline feeds an exported CLIP).
   */
  readonly input?: 'uint8-nhwc' | 'float32-nchw';
  /**
   * `float32` (default), or `int8`: the linear layers dynamically quantised (activations per
   * tensor at run time, weights per output channel, symmetric); attention products and the patch
   * embedding stay float32.
   */
  readonly linear?: 'float32' | 'int8';
}

export const IMAGE_INPUT = 'pixels';
export const FLOAT_INPUT = 'pixel_values';
export const IMAGE_OUTPUT = 'image_embeds';

/** Per-output-channel symmetric int8 quantisation of a [in, out] weight. */
export function quantizeColumns(w: Float32Array, inDim: number, outDim: number): { q: Int8Array; scale: Float32Array } {
  const scale = new Float32Array(outDim);
  for (let i = 0; i < inDim; i++) {
    for (let j = 0; j < outDim; j++) scale[j] = Math.max(scale[j] as number, Math.abs(w[i * outDim + j] as number));
  }
  for (let j = 0; j < outDim; j++) scale[j] = (scale[j] as number) > 0 ? (scale[j] as number) / 127 : 1;
  const q = new Int8Array(inDim * outDim);
  for (let i = 0; i < inDim; i++) {
    for (let j = 0; j < outDim; j++) q[i * outDim + j] = Math.round((w[i * outDim + j] as number) / (scale[j] as number));
  }
  return { q, scale };
}

export function buildVitModel(c: VitConfig, w: VitWeights, opts: VitGraphOptions = {}): ModelSpec {
  const g = new GraphBuilder('clip_vision');
  const { width: W, heads: H, patchSize: p, imageSize: S, embedDim: E } = c;
  const dh = W / H;
  if (!Number.isInteger(dh) || S % p !== 0) throw new RangeError('ViT: width must divide by heads, size by patch');
  const floatInput = opts.input === 'float32-nchw';
  const int8 = opts.linear === 'int8';

  const ln = (x: string, n: Norm, name: string): string =>
    g.op('LayerNormalization', [x, g.f32(`${name}.g`, [n.g.length], n.g), g.f32(`${name}.b`, [n.b.length], n.b)], {
      axis: { i: -1 },
      epsilon: { f: c.eps },
    });
  const linear = (x: string, l: Linear, name: string): string => {
    const bias = g.f32(`${name}.b`, [l.outDim], l.b);
    if (!int8) return g.op('Add', [g.op('MatMul', [x, g.f32(`${name}.w`, [l.inDim, l.outDim], l.w)]), bias]);
    // The pattern ORT fuses into DynamicQuantizeMatMul: DQL -> MatMulInteger -> Cast -> Mul(a_s * b_s) -> Add.
    const { q, scale } = quantizeColumns(l.w, l.inDim, l.outDim);
    const [xq, xs, xz] = g.opN('DynamicQuantizeLinear', [x], 3) as [string, string, string];
    const wq = g.init(`${name}.wq`, 'int8', [l.inDim, l.outDim], q);
    const acc = g.op('MatMulInteger', [xq, wq, xz]);
    const s = g.op('Mul', [xs, g.f32(`${name}.ws`, [l.outDim], scale)]);
    return g.op('Add', [g.op('Mul', [g.op('Cast', [acc], { to: { i: 1 } }), s]), bias]);
  };

  let x: string;
  if (floatInput) {
    x = g.input(FLOAT_INPUT);
  } else {
    const px = g.input(IMAGE_INPUT);
    const mul = c.std.map((s) => 1 / (255 * s));
    const add = c.mean.map((m, i) => -m / (c.std[i] as number));
    x = g.op('Cast', [px], { to: { i: 1 } });
    x = g.op('Add', [g.op('Mul', [x, g.f32('pre.scale', [3], mul)]), g.f32('pre.shift', [3], add)]);
    x = g.op('Transpose', [x], { perm: { ints: [0, 3, 1, 2] } });
  }
  x = g.op('Conv', [x, g.f32('conv1.w', [W, 3, p, p], w.conv)], {
    kernel_shape: { ints: [p, p] },
    strides: { ints: [p, p] },
  });
  x = g.op('Reshape', [x, g.i64('shape.patches', [0, W, -1])]);
  x = g.op('Transpose', [x], { perm: { ints: [0, 2, 1] } });
  // Class token, broadcast over the batch: Expand to [N, 1, W].
  const batch = g.op('Slice', [g.op('Shape', [x]), g.i64('s0', [0]), g.i64('s1', [1])]);
  const clsShape = g.op('Concat', [batch, g.i64('shape.cls', [1, W])], { axis: { i: 0 } });
  const cls = g.op('Expand', [g.f32('class_embedding', [1, 1, W], w.cls), clsShape]);
  x = g.op('Concat', [cls, x], { axis: { i: 1 } });
  const T = vitPatches(c) + 1;
  x = g.op('Add', [x, g.f32('positional_embedding', [T, W], w.pos)]);
  x = ln(x, w.lnPre, 'ln_pre');

  const headsShape = g.i64('shape.heads', [0, 0, H, dh]);
  const mergeShape = g.i64('shape.merge', [0, 0, W]);
  const qScale = g.scalar('attn.scale', dh ** -0.5);
  const geluK = g.scalar('gelu.k', 1.702);
  w.blocks.forEach((b, l) => {
    const name = `blocks.${l}`;
    let h = ln(x, b.ln1, `${name}.ln_1`);
    const qkv = linear(h, b.qkv, `${name}.attn.in_proj`);
    const [q0, k0, v0] = g.opN('Split', [qkv], 3, { axis: { i: -1 } }) as [string, string, string];
    const heads = (t: string, perm: number[]): string =>
      g.op('Transpose', [g.op('Reshape', [t, headsShape])], { perm: { ints: perm } });
    const q = heads(g.op('Mul', [q0, qScale]), [0, 2, 1, 3]);
    const k = heads(k0, [0, 2, 3, 1]);
    const v = heads(v0, [0, 2, 1, 3]);
    const attn = g.op('Softmax', [g.op('MatMul', [q, k])], { axis: { i: -1 } });
    let o = g.op('MatMul', [attn, v]);
    o = g.op('Reshape', [g.op('Transpose', [o], { perm: { ints: [0, 2, 1, 3] } }), mergeShape]);
    x = g.op('Add', [x, linear(o, b.out, `${name}.attn.out_proj`)]);
    h = ln(x, b.ln2, `${name}.ln_2`);
    h = linear(h, b.fc, `${name}.mlp.c_fc`);
    h = g.op('Mul', [h, g.op('Sigmoid', [g.op('Mul', [h, geluK])])]);
    x = g.op('Add', [x, linear(h, b.proj, `${name}.mlp.c_proj`)]);
  });

  x = g.op('Gather', [x, g.init('index0', 'int64', [], BigInt64Array.of(0n))], { axis: { i: 1 } });
  x = ln(x, w.lnPost, 'ln_post');
  x = g.op('MatMul', [x, g.f32('proj', [W, E], w.proj)]);
  const norm = g.op('Max', [g.op('ReduceL2', [x], { axes: { ints: [-1] }, keepdims: { i: 1 } }), g.scalar('eps', 1e-12)]);
  g.output(g.op('Div', [x, norm]), IMAGE_OUTPUT);

  const input = floatInput
    ? { name: FLOAT_INPUT, type: 'float32' as const, shape: ['N', 3, S, S] }
    : { name: IMAGE_INPUT, type: 'uint8' as const, shape: ['N', S, S, 3] };
  return g.model([input], [{ name: IMAGE_OUTPUT, type: 'float32', shape: ['N', E] }], 17, vitDoc(c, opts));
}

function vitDoc(c: VitConfig, opts: VitGraphOptions): string {
  return (
    `clipstream benchmark model: CLIP-style ViT ${c.imageSize}px/${c.patchSize}, ${c.layers}x${c.width}, ` +
    `${c.heads} heads, MLP ${c.mlpWidth}, ${c.embedDim}-d; random weights; ` +
    `${opts.input ?? 'uint8-nhwc'} input, ${opts.linear ?? 'float32'} linear layers`
  );
}
