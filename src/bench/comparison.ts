/**
 * The real pipeline against the reference pipeline, measured in alternating rounds
 * (real, reference, real, reference, ...) so that both see the same machine: on a shared
 * machine the load changes over minutes, and two figures taken minutes apart compare the load,
 * not the pipelines. Each side reports its median round.
 */
import * as ort from 'onnxruntime-node';
import type { Embedder, Provider } from '../embed/index.js';
import type { BenchPacks } from './models/pack.js';
import { FLOAT_INPUT, VIT_B_32 } from './models/vit-b-32.js';
import { referencePipeline } from './reference.js';
import type { ReferenceResult, ReferenceSetup } from './reference.js';
import { sessionOptionsLike } from './stages.js';

/** A figure measured in several rounds: the median round, with every round's frames/s. */
export type Rounds<T> = T & { runs: number; framesPerSecRuns: number[] };

/** The round with the median frames/s (the lower middle one for an even count). */
export function medianRound<T extends { framesPerSec: number }>(rounds: readonly T[]): Rounds<T> {
  if (rounds.length === 0) throw new RangeError('no rounds');
  const sorted = [...rounds].sort((a, b) => a.framesPerSec - b.framesPerSec);
  const mid = sorted[(sorted.length - 1) >> 1] as T;
  return { ...mid, runs: rounds.length, framesPerSecRuns: rounds.map((r) => r.framesPerSec) };
}

export interface ReferenceRunner {
  run(signal?: AbortSignal): Promise<ReferenceResult>;
  close(): Promise<void>;
}

type Base = Omit<ReferenceSetup, 'embedOne' | 'norm'>;

/**
 * The reference pipeline's model: for the generated model, the same weights with a float32
 * NCHW input (normalised in JavaScript); for a `--model` pack, the pack's own graph at batch 1
 * (it normalises inside the graph, as packs must).
 */
export async function openReference(
  base: Base,
  packs: BenchPacks | undefined,
  embedder: Embedder,
  provider: Provider,
  threads: number,
): Promise<ReferenceRunner> {
  if (!packs) {
    return {
      run: (signal) =>
        referencePipeline({ ...base, embedOne: (px) => embedder.embedFramesNow([px as Uint8Array]) }, signal),
      close: async () => undefined,
    };
  }
  const S = VIT_B_32.imageSize;
  const session = await ort.InferenceSession.create(
    packs.referenceModel,
    sessionOptionsLike(provider, threads),
  );
  const input = (px: Float32Array) => ({ [FLOAT_INPUT]: new ort.Tensor('float32', px, [1, 3, S, S]) });
  // One untimed run, as the pipeline's sessions are warm by then.
  await session.run(input(new Float32Array(3 * S * S)));
  let released: Promise<void> | undefined;
  return {
    run: (signal) =>
      referencePipeline(
        {
          ...base,
          norm: { mean: VIT_B_32.mean, std: VIT_B_32.std },
          embedOne: (px) => session.run(input(px as Float32Array)),
        },
        signal,
      ),
    close: () => (released ??= session.release()),
  };
}

/** Runs `a` and `b` alternately, `rounds` times each, starting with `a`. */
export async function alternate<A, B>(
  rounds: number,
  a: (round: number) => Promise<A>,
  b: (round: number) => Promise<B>,
): Promise<{ a: A[]; b: B[] }> {
  const out = { a: [] as A[], b: [] as B[] };
  for (let i = 0; i < rounds; i++) {
    out.a.push(await a(i));
    out.b.push(await b(i));
  }
  return out;
}
