/**
 * The benchmark report: its JSON shape (`clipstream.bench.v1`), the derived figures (pure math,
 * unit-tested) and its renderings as a terminal table and as Markdown for bench/README.md.
 */
import type { EndToEndResult } from './e2e.js';
import type { MachineInfo } from './machine.js';
import { median, round } from './measure.js';
import type { ReferenceResult } from './reference.js';
import type { ScenarioResult } from './scenarios.js';
import type { BudgetRow } from './budget.js';
import type { DecodeResult, EmbedResult, MatchResult, MatMulResult } from './stages.js';

export const BENCH_SCHEMA = 'clipstream.bench.v1';

export interface ModelInfo {
  name: string;
  /** `generated`: the benchmark's own ViT-B/32-shaped model; `pack`: `--model DIR` */
  source: 'generated' | 'pack';
  description: string;
  inputSize: number;
  embedDim: number;
  params?: number;
  imageOnnxBytes: number;
  /** multiply-accumulates per frame; null when unknown (a pack of unknown shape) */
  gmacsPerFrame: number | null;
  /** floating-point operations per frame = 2 x MACs */
  gflopPerFrame: number | null;
  flopFormula?: string;
  seed?: number;
}

export interface RuntimeInfo {
  provider: string;
  /** ONNX Runtime intra-op threads of each lane; 0 = the runtime's default (one per physical core) */
  intraOpThreads: number;
  /** image-encoder lanes (sessions running batches at once; src/embed/sessions.ts) */
  encoderLanes: number;
  batch: { maxBatch: number; maxWaitMs: number; maxQueued: number };
  framesInFlight: number;
}

export interface VideoInfo {
  width: number;
  height: number;
  fps: number;
  durationSec: number;
  gopSec: number;
  codec: string;
  bytes: number;
  renderMs: number;
}

export interface Summary {
  /** the MatMul peak: the best median GFLOP/s over the sizes and passes measured */
  peakGflops: number;
  /** embed rate at the pipeline's batch size */
  embedAtPipelineBatch: {
    batch: number;
    framesPerSec: number;
    gflops: number | null;
    ofPeakPct: number | null;
  };
  /** the best embed GFLOP/s over the batch sizes measured, as a share of the peak */
  embedBestOfPeakPct: number | null;
  /** each stage alone at the end-to-end settings, frames/s */
  stages: { decode: number; embed: number; match: number };
  slowestStage: 'decode' | 'embed' | 'match';
  slowestFramesPerSec: number;
  /** frames/s if the stages ran one after another, each at its rate alone: 1 / sum(1/rate) */
  serialFramesPerSec: number;
  endToEndFramesPerSec: number;
  /** end-to-end (one video) as a share of the slowest stage alone */
  endToEndOfSlowestPct: number;
  /** two videos at once sharing the batcher, as a share of the slowest stage alone */
  concurrentOfSlowestPct: number | null;
  /**
   * How much of the gap between no overlap and perfect overlap the pipeline recovered:
   * (e2e - serial) / (slowest - serial); null when that gap is under 10% of the slowest stage
   * (one stage dominates, so there is nothing for overlap to hide).
   */
  overlapRecoveredPct: number | null;
  referenceFramesPerSec: number;
  /**
   * Real pipeline (one video) over the reference pipeline: the median of the per-round ratios
   * when the two were measured in alternating rounds (each round's pair saw the same load),
   * else the ratio of the two figures.
   */
  speedupOverReference: number;
  /**
   * Against the expert script, scenario by scenario: fp32 over the fp32 script; int8 over the
   * same script on the int8 model, and over the fp32 script. The headline is the first scenario.
   */
  speedupOverExpert: {
    scenario: string;
    fp32: number;
    int8: number | null;
    int8OverFp32Expert: number | null;
  }[];
  int8?: {
    /** embed alone at the pipeline's batch size */
    embedFramesPerSec: number;
    embedSpeedupOverFp32: number;
    meanCosineToFp32: number;
    endToEndFramesPerSec: number | null;
    speedupOverReference: number | null;
  };
}

export interface BenchReport {
  schema: typeof BENCH_SCHEMA;
  startedAt: string;
  durationSec: number;
  mode: 'default' | 'quick';
  machine: MachineInfo;
  runtime: RuntimeInfo;
  model: ModelInfo;
  video: VideoInfo;
  sampling: string;
  matmul: MatMulResult[];
  decode: DecodeResult[];
  embed: EmbedResult[];
  embedInt8?: EmbedResult[];
  int8Agreement?: { frames: number; meanCosine: number; minCosine: number };
  match: MatchResult;
  endToEnd: EndToEndResult[];
  reference: ReferenceResult;
  /** clipstream against the expert script, per scenario (empty when none were selected) */
  scenarios?: ScenarioResult[];
  /** each change of the CPU budget added in turn, end to end on one video (src/bench/budget.ts) */
  budget?: BudgetRow[];
  summary: Summary;
  /** the benchmark process's peak resident memory, MiB (ffmpeg children not included) */
  peakRssMiB: number;
  /** wall time of each step of the run, in order, with the 1-minute load average as it began */
  steps: { step: string; sec: number; load1?: number }[];
  notes: string[];
}

export type Measurements = Omit<BenchReport, 'summary'>;

const pct = (a: number, b: number): number => (b > 0 ? (100 * a) / b : Number.NaN);

/** Picks the measured row closest to `batch` (exact when present). */
export function nearestBatch<T extends { batch: number }>(rows: readonly T[], batch: number): T {
  if (rows.length === 0) throw new RangeError('no embed rows');
  return rows.reduce((best, r) => (Math.abs(r.batch - batch) < Math.abs(best.batch - batch) ? r : best));
}

/** Median of the per-round ratios a_i / b_i when both sides have the same rounds, else a / b. */
export function pairedSpeedup(
  a: { framesPerSec: number; framesPerSecRuns?: number[] },
  b: { framesPerSec: number; framesPerSecRuns?: number[] },
): number {
  const ra = a.framesPerSecRuns;
  const rb = b.framesPerSecRuns;
  if (ra && rb && ra.length === rb.length && ra.length > 0) {
    return median(ra.map((x, i) => x / (rb[i] as number)));
  }
  return a.framesPerSec / b.framesPerSec;
}

/** Most frames in one lane's run: its share of the batcher's batch (src/embed/batcher.ts). */
export function laneBatch(r: Pick<RuntimeInfo, 'batch' | 'encoderLanes'>): number {
  // Reports recorded before the lanes have no `encoderLanes`: one lane.
  return Math.ceil(r.batch.maxBatch / Math.max(1, r.encoderLanes || 1));
}

/** The derived figures of design.md 6 from the raw measurements. */
export function summarise(m: Measurements): Summary {
  const peakGflops = Math.max(...m.matmul.map((r) => r.gflops));
  // The pipeline's batch is each lane's share of the batcher's (8 of 16 on two lanes).
  const atBatch = nearestBatch(m.embed, laneBatch(m.runtime));
  const gflopRows = m.embed.filter((r) => r.gflops !== null);
  const bestGflops = gflopRows.length > 0 ? Math.max(...gflopRows.map((r) => r.gflops as number)) : null;
  const decode = m.decode.find((d) => d.sampling === m.sampling);
  if (!decode) throw new RangeError(`no decode figure for the end-to-end sampling '${m.sampling}'`);
  const stages = { decode: decode.framesPerSec, embed: atBatch.framesPerSec, match: m.match.framesPerSec };
  const slowestStage = (Object.keys(stages) as (keyof typeof stages)[]).reduce((a, b) =>
    stages[b] < stages[a] ? b : a,
  );
  const slowest = stages[slowestStage];
  const serial = 1 / (1 / stages.decode + 1 / stages.embed + 1 / stages.match);
  const fp32 = m.endToEnd.filter((e) => e.model === 'fp32');
  const one = fp32.find((e) => e.videos === 1);
  if (!one) throw new RangeError('no single-video end-to-end figure');
  const many = fp32.find((e) => e.videos > 1);
  const summary: Summary = {
    peakGflops,
    embedAtPipelineBatch: {
      batch: atBatch.batch,
      framesPerSec: atBatch.framesPerSec,
      gflops: atBatch.gflops,
      ofPeakPct: atBatch.gflops === null ? null : pct(atBatch.gflops, peakGflops),
    },
    embedBestOfPeakPct: bestGflops === null ? null : pct(bestGflops, peakGflops),
    stages,
    slowestStage,
    slowestFramesPerSec: slowest,
    serialFramesPerSec: serial,
    endToEndFramesPerSec: one.framesPerSec,
    endToEndOfSlowestPct: pct(one.framesPerSec, slowest),
    concurrentOfSlowestPct: many ? pct(many.framesPerSec, slowest) : null,
    overlapRecoveredPct:
      slowest - serial < 0.1 * slowest ? null : pct(one.framesPerSec - serial, slowest - serial),
    referenceFramesPerSec: m.reference.framesPerSec,
    speedupOverReference: pairedSpeedup(one, m.reference),
    speedupOverExpert: (m.scenarios ?? []).map((sc) => {
      const f = sc.comparisons.find((c) => c.model === 'fp32');
      const q = sc.comparisons.find((c) => c.model === 'int8');
      return {
        scenario: sc.name,
        fp32: f ? f.speedupOverExpert : Number.NaN,
        int8: q ? q.speedupOverExpert : null,
        int8OverFp32Expert: q?.speedupOverFp32Expert ?? null,
      };
    }),
  };
  if (m.embedInt8 && m.embedInt8.length > 0 && m.int8Agreement) {
    const q = nearestBatch(m.embedInt8, atBatch.batch);
    const e2e = m.endToEnd.find((e) => e.model === 'int8' && e.videos === 1);
    summary.int8 = {
      embedFramesPerSec: q.framesPerSec,
      embedSpeedupOverFp32: q.framesPerSec / atBatch.framesPerSec,
      meanCosineToFp32: m.int8Agreement.meanCosine,
      endToEndFramesPerSec: e2e ? e2e.framesPerSec : null,
      speedupOverReference: e2e ? e2e.framesPerSec / m.reference.framesPerSec : null,
    };
  }
  return summary;
}

/** Rounds every number in a report for output (6 significant digits, whole large numbers). */
export function roundReport<T>(value: T): T {
  return JSON.parse(
    JSON.stringify(value, (_k, v: unknown) =>
      typeof v === 'number' && !Number.isInteger(v) ? round(v, 6) : v,
    ),
  ) as T;
}
