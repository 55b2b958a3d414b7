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
  /** image-encoder lanes (src/embed/sessions.ts) */
  encoderLanes: number;
  videos: number;
}

/** The changes in the order they are added. Predictions were written down before the first run. */
export function budgetVariants(cores: number): BudgetVariant[] {
  const b = cpuBudget(cores, 'cpu');
  const before = {
    decode: 'all' as const,
    decodeThreads: 0,
    allowSpinning: true,
    encoderLanes: 1,
    videos: 1,
  };
  const decoded = { ...before, decode: 'auto' as const };
  const noSpin = { ...decoded, allowSpinning: b.allowSpinning };
  const threads = { ...noSpin, decodeThreads: b.decoderThreads };
  const lanes = { ...threads, encoderLanes: b.encoderLanes };
  return [
    {
      change: 'as before: every frame decoded, ffmpeg threads auto, ORT pool spinning',
      predicted: 1,
      ...before,
    },
    { change: 'decode only what is sampled (skip B-frames)', predicted: 1.12, ...decoded },
    { change: 'ORT pool spinning off', predicted: 1.08, ...noSpin },
    { change: `ffmpeg decoder threads from the budget (${b.decoderThreads})`, predicted: 1.03, ...threads },
    {
      change: `${b.encoderLanes} encoder lanes of ${b.intraOpThreads || 'the runtime default'} intra-op thread(s)`,
      predicted: 1.06,
      ...lanes,
    },
    { change: `${b.videosInFlight} videos in flight`, predicted: 1.1, ...lanes, videos: b.videosInFlight },
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
  // One Embedder per runtime setting the variants use (spinning, lanes).
  const keyOf = (v: BudgetVariant) => `${v.allowSpinning}/${v.encoderLanes}`;
  const embedders = new Map<string, Embedder>();
  try {
    for (const v of variants) {
      if (embedders.has(keyOf(v))) continue;
      const runtime = { ...embedderOptions.runtime, allowSpinning: v.allowSpinning, lanes: v.encoderLanes };
      embedders.set(keyOf(v), await EmbedderClass.open(pack, { ...embedderOptions, runtime }, silentLogger));
    }
    const runs: number[][] = variants.map(() => []);
    for (let r = 0; r < rounds; r++) {
      for (const [i, v] of variants.entries()) {
        step(`budget: ${v.change} (round ${r + 1})`);
        const e = await endToEnd(
          {
            ...base,
            embedder: embedders.get(keyOf(v)) as Embedder,
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
