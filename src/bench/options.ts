/**
 * Options of `clipstream bench` (zod schema, defaults, inferred type) and the plan they imply:
 * what video, which sizes and how many repetitions.
 */
import { z } from 'zod';
import { ClipstreamError } from '../errors.js';
import type { ResolvedSampling, Sampling } from '../frames/index.js';
import type { RepeatOptions } from './measure.js';
import { SCENARIO_NAMES } from './scenarios.js';
import type { VideoSpec } from './video.js';

export const BenchOptionsSchema = z
  .object({
    /** Short run: smaller video, fewer batch sizes and repetitions. @defaultValue false */
    quick: z.boolean().default(false),
    /** Bench this model pack instead of the generated ViT-B/32-shaped model. */
    model: z.string().min(1).optional(),
    /** Also build and measure the dynamically quantised int8 variant (generated model only). @defaultValue false */
    int8: z.boolean().default(false),
    /** Seed of the generated model's random weights. @defaultValue 1 */
    seed: z.number().int().min(0).max(0xffffffff).default(1),
    /** GFLOP per frame of a `--model` pack whose shape is not recognised (2 per multiply-add). */
    gflopPerFrame: z.number().positive().max(1e6).optional(),
    /** Keep the scratch folder (models, video) instead of deleting it. @defaultValue false */
    keep: z.boolean().default(false),
    /** Execution provider, as `CLIPSTREAM_DEVICE`. @defaultValue auto */
    device: z.enum(['auto', 'cpu', 'cuda']).default('auto'),
    /** ONNX Runtime intra-op threads per lane, as `CLIPSTREAM_THREADS` (0 = the budget's share). @defaultValue 0 */
    threads: z.number().int().min(0).max(1024).default(0),
    /** Image-encoder lanes, as `CLIPSTREAM_ENCODER_LANES` (0 = the CPU budget's). @defaultValue 0 */
    encoderLanes: z.number().int().min(0).max(64).default(0),
    /** The batcher's most frames per run, as `CLIPSTREAM_BATCH_SIZE`. @defaultValue 16 */
    batchSize: z.number().int().min(1).max(1024).default(16),
    /** The batcher's longest wait for a fuller batch, ms, as `CLIPSTREAM_BATCH_WAIT_MS`. @defaultValue 10 */
    batchWaitMs: z.number().int().min(0).max(10_000).default(10),
    /** Frames of one video between decoder and encoder, as `CLIPSTREAM_MAX_FRAMES_IN_FLIGHT`. @defaultValue 32 */
    framesInFlight: z.number().int().min(1).max(4096).default(32),
    /** Scenarios against the expert script (`--scenarios a,b`; empty: none). @defaultValue all */
    scenarios: z
      .array(z.enum(SCENARIO_NAMES))
      .max(SCENARIO_NAMES.length)
      .default([...SCENARIO_NAMES]),
    /** Measure each change of the CPU budget in turn (src/bench/budget.ts). @defaultValue true */
    budget: z.boolean().default(true),
    /** Alternating rounds per scenario comparison; default 2 (1 with `quick`). */
    rounds: z.number().int().min(1).max(20).optional(),
  })
  .strict();

export type BenchOptions = z.output<typeof BenchOptionsSchema>;

export function parseBenchOptions(input: z.input<typeof BenchOptionsSchema>): Readonly<BenchOptions> {
  const r = BenchOptionsSchema.safeParse(input);
  if (!r.success) {
    const i = r.error.issues[0];
    throw new ClipstreamError(
      'CLIPSTREAM_BAD_ARGUMENT',
      `bench: ${i ? `${i.path.join('.') || '(root)'}: ${i.message}` : 'invalid options'}`,
    );
  }
  if (r.data.int8 && r.data.model) {
    throw new ClipstreamError(
      'CLIPSTREAM_BAD_ARGUMENT',
      '--int8 quantises the generated model; it cannot go with --model',
    );
  }
  return Object.freeze(r.data);
}

export interface BenchPlan {
  readonly video: VideoSpec;
  /** sampling of the end-to-end and reference runs (and the first decode figure) */
  readonly sampling: ResolvedSampling & { strategy: 'fps' };
  readonly decodeSamplings: readonly Sampling[];
  readonly decodeRuns: number;
  readonly matmulSizes: readonly number[];
  readonly matmulRepeat: RepeatOptions;
  /** the short MatMul probe taken before each embed batch size */
  readonly probeRepeat: RepeatOptions;
  /** rounds of (end to end, reference), alternating */
  readonly comparisonRounds: number;
  readonly embedBatches: readonly number[];
  readonly embedRepeat: RepeatOptions;
  readonly matchRepeat: RepeatOptions;
  readonly concurrentVideos: number;
  readonly queries: readonly string[];
  readonly captions: readonly string[];
  /** rounds of (clipstream, expert script) per scenario and model, alternating */
  readonly scenarioRounds: number;
}

/** Texts for the match stage: words of what testsrc2 shows, and some it does not. */
const QUERIES = [
  'colour bars',
  'a moving gradient',
  'numbers counting up',
  'a white circle',
  'a red square and a blue square',
  'a black background',
  'a person walking a dog',
  'text on a screen',
];
const CAPTIONS = [
  'colour bars',
  'a gradient',
  'a counter',
  'a test pattern',
  'a white circle',
  'a grey frame',
  'a red square',
  'a green square',
  'a blue square',
  'a yellow stripe',
  'a dark screen',
  'a person walking a dog',
];

export function planFor(opts: Pick<BenchOptions, 'quick' | 'batchSize'> & { rounds?: number }): BenchPlan {
  const sampling = { strategy: 'fps' as const, fps: 2 };
  const withPipelineBatch = (bs: number[]) => [...new Set([...bs, opts.batchSize])].sort((a, b) => a - b);
  const common = {
    sampling,
    decodeSamplings: [sampling, { strategy: 'keyframes' as const }],
    concurrentVideos: 2,
    queries: QUERIES,
    captions: CAPTIONS,
    scenarioRounds: opts.rounds ?? (opts.quick ? 1 : 2),
  };
  if (opts.quick) {
    return {
      ...common,
      video: { durationSec: 20, width: 640, height: 360, fps: 30, gopSec: 2 },
      decodeRuns: 1,
      matmulSizes: [2048],
      matmulRepeat: { warmup: 1, minRuns: 3, minMs: 500, maxRuns: 20 },
      probeRepeat: { warmup: 1, minRuns: 2, minMs: 0, maxRuns: 2 },
      comparisonRounds: 1,
      embedBatches: withPipelineBatch([1, 8]),
      embedRepeat: { warmup: 1, minRuns: 2, minMs: 1000, maxRuns: 20 },
      matchRepeat: { warmup: 1, minRuns: 3, minMs: 300, maxRuns: 200 },
    };
  }
  return {
    ...common,
    video: { durationSec: 60, width: 1280, height: 720, fps: 30, gopSec: 2 },
    decodeRuns: 2,
    matmulSizes: [1024, 2048],
    matmulRepeat: { warmup: 2, minRuns: 5, minMs: 2000, maxRuns: 100 },
    probeRepeat: { warmup: 1, minRuns: 3, minMs: 0, maxRuns: 3 },
    comparisonRounds: 2,
    embedBatches: withPipelineBatch([1, 8, 16, 32]),
    embedRepeat: { warmup: 1, minRuns: 3, minMs: 3000, maxRuns: 50 },
    matchRepeat: { warmup: 2, minRuns: 5, minMs: 1000, maxRuns: 1000 },
  };
}
