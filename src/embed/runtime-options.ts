/**
 * Execution settings of the encoders. Kept apart from ort-sessions.ts so the main thread can
 * name them without loading ONNX Runtime, which only the inference worker needs.
 */
export type Device = 'auto' | 'cpu' | 'cuda';
export type Provider = 'cuda' | 'cpu';

export interface RuntimeOptions {
  /** `auto` tries CUDA then CPU; `cuda` fails when CUDA is unavailable. Default `auto`. */
  readonly device: Device;
  /** ONNX Runtime intra-op threads; 0 lets the runtime choose (one per core). Default 0. */
  readonly intraOpThreads: number;
  /** CUDA device ordinal. Default 0. */
  readonly cudaDeviceId: number;
  /**
   * Let idle intra-op pool threads spin (`session.intra_op.allow_spinning`). Default false:
   * next to ffmpeg on the same cores spinning costs more than it saves (src/budget.ts).
   */
  readonly allowSpinning?: boolean;
}

export const DEFAULT_RUNTIME: RuntimeOptions = Object.freeze({
  device: 'auto',
  intraOpThreads: 0,
  cudaDeviceId: 0,
});
