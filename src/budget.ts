/**
 * The CPU budget shared by ffmpeg and ONNX Runtime on one worker (docs/performance.md, "Sharing
 * the cores"): pure, from the core count and the execution provider, so that both stages stop
 * fighting over the same cores. Measured by `clipstream bench` (the budget rows); every field
 * can be overridden by its own setting.
 */
import { availableParallelism } from 'node:os';

export interface CpuBudget {
  /** ffmpeg decoder threads per video (`-threads`); 0 = ffmpeg's own choice */
  readonly decoderThreads: number;
  /**
   * Image-encoder lanes: sessions of the image encoder, each in its own thread and running one
   * batch at a time, so that several batches run at once (src/embed/sessions.ts).
   */
  readonly encoderLanes: number;
  /** ONNX Runtime intra-op threads of each lane; 0 = the runtime's default (one per core) */
  readonly intraOpThreads: number;
  /**
   * Whether ONNX Runtime's idle pool threads spin (`session.intra_op.allow_spinning`). Spinning
   * saves microseconds per operator when nothing else runs; next to ffmpeg it burns the cores
   * the decoder needs between batches.
   */
  readonly allowSpinning: boolean;
  /** videos decoded at once by one worker */
  readonly videosInFlight: number;
}

/**
 * - CPU provider: the encoder keeps every core (it is the slowest stage) but never spins, and
 *   each ffmpeg decodes with one thread per two cores (at least one): the decoder's share is
 *   small once it decodes only what is sampled, and frame threads beyond that only add
 *   latency and contention. The cores are split between two encoder lanes (one thread each on
 *   two cores): one session's threads meet at a barrier after every operator, so a decoder
 *   taking a core stalls them all, while two lanes each keep computing on whatever core they
 *   get (measured: docs/performance.md, "Encoder lanes"). Two videos in flight keep the
 *   encoder fed while one video's ffmpeg starts or ends.
 * - CUDA: the GPU embeds, so the cores are the decoders': one lane with one intra-op thread
 *   (the provider's host work), no spinning, and four videos in flight sharing the cores.
 */
export function cpuBudget(cores: number, provider: 'cpu' | 'cuda'): CpuBudget {
  const n = Math.max(1, Math.floor(cores));
  if (provider === 'cuda') {
    return {
      decoderThreads: Math.max(1, Math.floor(n / 4)),
      encoderLanes: 1,
      intraOpThreads: 1,
      allowSpinning: false,
      videosInFlight: 4,
    };
  }
  const lanes = n >= 2 ? 2 : 1;
  return {
    decoderThreads: Math.max(1, Math.floor(n / 2)),
    encoderLanes: lanes,
    intraOpThreads: threadsPerLane(n, lanes),
    allowSpinning: false,
    videosInFlight: 2,
  };
}

/**
 * Intra-op threads of each of `lanes` encoder lanes on `cores` cores: the cores split between
 * them (at least one each); one lane keeps the runtime's own default (0, one per core).
 */
export function threadsPerLane(cores: number, lanes: number): number {
  return lanes > 1 ? Math.max(1, Math.floor(cores / lanes)) : 0;
}

/** The budget of this machine's CPUs. */
export function machineBudget(provider: 'cpu' | 'cuda'): CpuBudget {
  return cpuBudget(availableParallelism(), provider);
}
