/**
 * Each stage alone: the runtime's MatMul peak, decode + sample (src/frames), embed (the real
 * Embedder, batches run directly), match (src/match on a real frame track).
 */
import * as ort from 'onnxruntime-node';
import type { Embedder, Provider } from '../embed/index.js';
import { decodeFrames, probe, resolveSource } from '../frames/index.js';
import type { ResizeMode, Sampling } from '../frames/index.js';
import { matchVideo } from '../match/index.js';
import type { Calibration, CaptionInput, FrameTrack, MatchOptions, QueryInput } from '../match/index.js';
import { median, perSecond, repeat } from './measure.js';
import type { RepeatOptions } from './measure.js';
import { buildMatMulModel, matmulFlops } from './models/matmul.js';
import { Prng } from './models/prng.js';
import { encodeModel } from './onnx/proto.js';

/**
 * The session settings of the embedder (src/embed/sessions.ts), so that the MatMul peak and the
 * reference pipeline run under the same runtime configuration as the model.
 */
export function sessionOptionsLike(provider: Provider, threads: number): ort.InferenceSession.SessionOptions {
  return {
    executionProviders: provider === 'cuda' ? [{ name: 'cuda', deviceId: 0 }] : ['cpu'],
    graphOptimizationLevel: 'all',
    executionMode: 'sequential',
    interOpNumThreads: 1,
    ...(threads > 0 ? { intraOpNumThreads: threads } : {}),
  };
}

export interface MatMulResult {
  /** when it was measured: `first`, or `before batch N` (a probe next to each embed figure) */
  when: string;
  /** m = k = n */
  size: number;
  runs: number;
  medianMs: number;
  bestMs: number;
  /** GFLOP/s at the median time (2 n^3 floating-point operations per product) */
  gflops: number;
  /** GFLOP/s at the best time */
  bestGflops: number;
}

export async function matmulPeak(
  sizes: readonly number[],
  provider: Provider,
  threads: number,
  r: RepeatOptions,
  when = 'first',
): Promise<MatMulResult[]> {
  const out: MatMulResult[] = [];
  for (const n of sizes) {
    const shape = { m: n, k: n, n };
    const session = await ort.InferenceSession.create(
      encodeModel(buildMatMulModel(shape).model).finish(),
      sessionOptionsLike(provider, threads),
    );
    try {
      const a = new ort.Tensor('float32', new Prng(9).uniform(n * n, 1), [n, n]);
      const samples = await repeat(() => session.run({ A: a }), r);
      const flops = matmulFlops(shape);
      const med = median(samples);
      const best = Math.min(...samples);
      out.push({
        when,
        size: n,
        runs: samples.length,
        medianMs: med,
        bestMs: best,
        gflops: flops / med / 1e6,
        bestGflops: flops / best / 1e6,
      });
    } finally {
      await session.release();
    }
  }
  return out;
}

export interface DecodeResult {
  /** e.g. `fps 2` or `keyframes` */
  sampling: string;
  frames: number;
  runs: number;
  /** resolve + probe + decode of the whole video, median over runs */
  medianMs: number;
  framesPerSec: number;
}

export function describeSampling(s: Sampling): string {
  return s.strategy === 'fps' ? `fps ${s.fps}` : s.strategy;
}

/**
 * Decodes and samples the whole video through src/frames as the pipeline does (resolve, probe,
 * decode with scale + crop to the model's input size in ffmpeg's filter graph). Keeps the first
 * `keep` frames of the first run for the embed stage.
 */
export async function decodeStage(
  path: string,
  size: { width: number; height: number; resize: ResizeMode },
  sampling: Sampling,
  runs: number,
  keep = 0,
): Promise<{ result: DecodeResult; frames: Uint8Array[] }> {
  const kept: Uint8Array[] = [];
  let frames = 0;
  const samples = await repeat(
    async () => {
      const source = await resolveSource(path, { allowPrivateNetworks: false });
      // As the pipeline does: the probe handed over unresolved (keyframes start ffmpeg at once).
      const probing = probe(source, { keyframes: sampling.strategy === 'fps' });
      probing.catch(() => undefined);
      let n = 0;
      for await (const f of decodeFrames(source, probing, { ...size, sampling })) {
        if (kept.length < keep) kept.push(f.data);
        n++;
      }
      frames = n;
    },
    { warmup: 0, minRuns: runs, minMs: 0, maxRuns: runs },
  );
  const med = median(samples);
  return {
    result: {
      sampling: describeSampling(sampling),
      frames,
      runs,
      medianMs: med,
      framesPerSec: perSecond(frames, med),
    },
    frames: kept,
  };
}

export interface EmbedResult {
  batch: number;
  /** encoder lanes, each running one batch of `batch` frames at once */
  lanes: number;
  runs: number;
  /** one batch, median over runs */
  medianMs: number;
  framesPerSec: number;
  /** achieved GFLOP/s; null when the model's cost per frame is unknown */
  gflops: number | null;
}

/**
 * Runs batches of `frames` straight through the Embedder (no batcher wait), per batch size: one
 * batch on each encoder lane at once, so the figure is the whole encoder's (frames/s over all
 * lanes; `medianMs` is the time for one batch per lane).
 */
export async function embedStage(
  embedder: Embedder,
  frames: readonly Uint8Array[],
  batches: readonly number[],
  flopsPerFrame: number | null,
  r: RepeatOptions,
  /** runs before each batch size (a progress line, a MatMul probe next to it) */
  beforeEach?: (batch: number) => Promise<void> | void,
): Promise<EmbedResult[]> {
  const out: EmbedResult[] = [];
  for (const b of batches) {
    await beforeEach?.(b);
    const batch = Array.from({ length: b }, (_, i) => frames[i % frames.length] as Uint8Array);
    const lanes = embedder.lanes;
    const samples = await repeat(
      () => Promise.all(Array.from({ length: lanes }, () => embedder.embedFramesNow(batch))),
      r,
    );
    const med = median(samples);
    out.push({
      batch: b,
      lanes,
      runs: samples.length,
      medianMs: med,
      framesPerSec: perSecond(b * lanes, med),
      gflops: flopsPerFrame === null ? null : (b * lanes * flopsPerFrame) / med / 1e6,
    });
  }
  return out;
}

export interface MatchResult {
  frames: number;
  queries: number;
  captions: number;
  runs: number;
  medianMs: number;
  framesPerSec: number;
}

export async function matchStage(
  track: FrameTrack,
  queries: readonly QueryInput[],
  captions: readonly CaptionInput[],
  cal: Calibration,
  opts: MatchOptions,
  r: RepeatOptions,
): Promise<MatchResult> {
  const samples = await repeat(() => matchVideo(track, queries, captions, cal, opts), r);
  const med = median(samples);
  return {
    frames: track.count,
    queries: queries.length,
    captions: captions.length,
    runs: samples.length,
    medianMs: med,
    framesPerSec: perSecond(track.count, med),
  };
}
