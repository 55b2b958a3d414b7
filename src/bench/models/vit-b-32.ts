/**
 * The shape of CLIP ViT-B/32's image tower and what a frame costs: the documented formula
 * (docs/performance.md, "The cost of a frame") that the benchmark divides by, and that the tests
 * check against the committed graph (bench/models/vit-b-32, exported from open_clip).
 */

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
}

/** OpenAI CLIP's pixel statistics (open_clip's OPENAI_DATASET_MEAN/STD). */
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
});

/** Input of the reference graph (bench/models/vit-b-32/reference.onnx): float32 NCHW, normalised. */
export const FLOAT_INPUT = 'pixel_values';
export const IMAGE_INPUT = 'pixels';
export const IMAGE_OUTPUT = 'image_embeds';

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
 *   final proj.      W * E                  (class token: image_embeds)
 *   patch proj.      P * W * E              (patch tokens: the pack's patch_embeds output)
 * LayerNorm, softmax, GELU and the other element-wise ops are not counted (they are under 1%
 * and are not multiply-adds). Published CLIP figures ("4.4 GFLOPs" for ViT-B/32) count
 * multiply-accumulates without the patch projection; one MAC is two floating-point operations,
 * the unit of a MatMul's GFLOP/s (2 m k n per product), so the benchmark compares 2 x MACs with
 * the MatMul peak.
 */
export function vitMacs(c: VitConfig): {
  patchEmbed: number;
  qkv: number;
  attention: number;
  outProj: number;
  mlp: number;
  projection: number;
  patchProjection: number;
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
    patchProjection: P * W * E,
  };
  const total = Object.values(parts).reduce((a, b) => a + b, 0);
  return { ...parts, total };
}

/** Floating-point operations per frame (2 per multiply-accumulate). */
export function vitFlops(c: VitConfig): number {
  return 2 * vitMacs(c).total;
}

/**
 * Parameters of the image tower (87,849,216 for ViT-B/32, as OpenAI's checkpoint): patch conv
 * (no bias), class token, positions, ln_pre, L blocks (ln_1, qkv + bias, out proj + bias, ln_2,
 * MLP in + bias, MLP out + bias), ln_post, projection.
 */
export function vitParams(c: VitConfig): number {
  const { width: W, mlpWidth: M, layers: L, embedDim: E, patchSize: p } = c;
  const T = vitPatches(c) + 1;
  const block = 2 * W + (W * 3 * W + 3 * W) + (W * W + W) + 2 * W + (W * M + M) + (M * W + W);
  return 3 * p * p * W + W + T * W + 2 * W + L * block + 2 * W + W * E;
}
