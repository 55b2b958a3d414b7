/** What the report says about the model: its cost per frame (the FLOP formula) and where it came from. */
import { stat } from 'node:fs/promises';
import type { ModelPack } from '../embed/index.js';
import type { BenchPacks } from './models/pack.js';
import { VIT_B_32, vitFlops, vitMacs } from './models/vit-b-32.js';
import type { BenchOptions } from './options.js';
import type { ModelInfo } from './report.js';

export const FORMULA =
  'MACs/frame = P*3p^2*W + L*(3TW^2 + 2T^2W + TW^2 + 2TWM) + WE + PWE (patch_embeds); ' +
  'P=49 patches, T=50 tokens, p=32, W=768, M=3072, L=12, E=512; FLOP = 2 x MACs';

export async function packModelInfo(pack: ModelPack, o: BenchOptions): Promise<ModelInfo> {
  const m = pack.manifest;
  const src = `${String(m.provenance?.source ?? '')} ${m.name}`;
  const b32 =
    /vit-?b-?32|clip-vit-base-patch32/i.test(src) && m.image.height === 224 && m.image.width === 224;
  // the patch projection only where the graph has patch_embeds (tools/model's packs do)
  const macs = vitMacs(VIT_B_32);
  const b32Macs = m.image.outputs.patches ? macs.total : macs.total - macs.patchProjection;
  const gflop = o.gflopPerFrame ?? (b32 ? (2 * b32Macs) / 1e9 : null);
  return {
    name: m.name,
    source: 'pack',
    description: `model pack ${m.name} (${m.image.width}x${m.image.height} input, ${m.embedDim}-d)`,
    inputSize: m.image.height,
    embedDim: m.embedDim,
    imageOnnxBytes: (await stat(pack.paths.image)).size,
    gmacsPerFrame: gflop === null ? null : gflop / 2,
    gflopPerFrame: gflop,
    ...(o.gflopPerFrame === undefined && b32
      ? { flopFormula: `${FORMULA} (recognised as ViT-B/32 from its manifest)` }
      : {}),
  };
}

export function generatedModelInfo(p: BenchPacks): ModelInfo {
  return {
    name: 'vit-b-32-random-fp32',
    source: 'generated',
    description:
      'open_clip ViT-B-32 as tools/model exports it (bench/models/vit-b-32), float32, seeded random weights',
    inputSize: VIT_B_32.imageSize,
    embedDim: VIT_B_32.embedDim,
    params: p.params,
    imageOnnxBytes: p.imageBytes,
    gmacsPerFrame: vitMacs(VIT_B_32).total / 1e9,
    gflopPerFrame: vitFlops(VIT_B_32) / 1e9,
    flopFormula: FORMULA,
    seed: p.seed,
  };
}
