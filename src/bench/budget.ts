/**
 * Sharing the cores, measured: the end-to-end run on the headline scenario (one video, fps
 * sampling) with each change of issue 10 added in turn, from "as before" (every frame decoded,
 * ffmpeg's own thread count, ONNX Runtime's spinning pool) to the CPU budget of src/budget.ts.
 * Variants run in alternating rounds (v1, v2, ..., v1, v2, ...) so that each round's variants
 * see the same load; each change's gain is the median of its per-round ratio to the variant
 * before it.
 */
import type { Embedder, EmbedderOptions, ModelPack } from '../embed/index.js';
import { Embedder as EmbedderClass } from '../embed/index.js';
import { cpuBudget } from '../budget.js';
import { silentLogger } from '../log.js';
import { endToEnd } from './e2e.js';
import type { EndToEndSetup } from './e2e.js';
import { median } from './measure.js';

export interface BudgetVariant {
  /** what this variant adds to the one before */
  change: string;
  /** gain predicted before it was measured (x the variant before) */
  predicted: number;
  decode: 'all' | 'auto';
  /** ffmpeg threads: 0 = ffmpeg's own choice */
  decodeThreads: number;
  allowSpinning: boolean;
  videos: number;
}

/** The changes in the order they are added. Predictions were written down before the first run. */
export function budgetVariants(cores: number): BudgetVariant[] {
  const b = cpuBudget(cores, 'cpu');
  const before = { decode: 'all' as const, decodeThreads: 0, allowSpinning: true, videos: 1 };
  return [
    {
      change: 'as before: every frame decoded, ffmpeg threads auto, ORT pool spinning',
      predicted: 1,
      ...before,
    },
    { change: 'decode only what is sampled (skip B-frames)', predicted: 1.12, ...before, decode: 'auto' },
    {
      change: 'ORT pool spinning off',
      predicted: 1.08,
      ...before,
      decode: 'auto',
      allowSpinning: b.allowSpinning,
    },
    {
      change: `ffmpeg decoder threads from the budget (${b.decoderThreads})`,
      predicted: 1.03,
      ...before,
      decode: 'auto',
      allowSpinning: b.allowSpinning,
      decodeThreads: b.decoderThreads,
    },
    {
      change: `${b.videosInFlight} videos in flight`,
      predicted: 1.1,
      decode: 'auto',
      allowSpinning: b.allowSpinning,
      decodeThreads: b.decoderThreads,
      videos: b.videosInFlight,
    },
  ];
}

export interface BudgetRow extends BudgetVariant {
  framesPerSecRuns: number[];
  framesPerSec: number;
  /** median per-round ratio to the variant before (1 for the first) */
  measured: number;
  /** median per-round ratio to the first variant */
  cumulative: number;
}

export async function runBudget(
  base: Omit<EndToEndSetup, 'embedder'>,
  pack: ModelPack,
  embedderOptions: EmbedderOptions,
  cores: number,
  rounds: number,
  step: (s: string) => void,
  signal?: AbortSignal,
): Promise<BudgetRow[]> {
  const variants = budgetVariants(cores);
  const embedders = new Map<boolean, Embedder>();
  try {
    for (const spin of new Set(variants.map((v) => v.allowSpinning))) {
      const runtime = { ...embedderOptions.runtime, allowSpinning: spin };
      embedders.set(spin, await EmbedderClass.open(pack, { ...embedderOptions, runtime }, silentLogger));
    }
    const runs: number[][] = variants.map(() => []);
    for (let r = 0; r < rounds; r++) {
      for (const [i, v] of variants.entries()) {
        step(`budget: ${v.change} (round ${r + 1})`);
        const e = await endToEnd(
          {
            ...base,
            embedder: embedders.get(v.allowSpinning) as Embedder,
            decode: v.decode,
            decodeThreads: v.decodeThreads,
          },
          v.videos,
          signal,
        );
        (runs[i] as number[]).push(e.result.framesPerSec);
      }
    }
    const ratio = (a: number[], b: number[]) => median(a.map((x, k) => x / (b[k] as number)));
    return variants.map((v, i) => ({
      ...v,
      framesPerSecRuns: runs[i] as number[],
      framesPerSec: median(runs[i] as number[]),
      measured: i === 0 ? 1 : ratio(runs[i] as number[], runs[i - 1] as number[]),
      cumulative: ratio(runs[i] as number[], runs[0] as number[]),
    }));
  } finally {
    for (const e of embedders.values()) await e.close().catch(() => undefined);
  }
}
