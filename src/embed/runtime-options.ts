/**
 * Execution settings of the encoders. Kept apart from ort-sessions.ts so the main process can
 * name them without loading ONNX Runtime, which only the lanes' inference processes need.
 */
export type Device = 'auto' | 'cpu' | 'cuda';
export type Provider = 'cuda' | 'cpu';

export interface RuntimeOptions {
  /** `auto` tries CUDA then CPU; `cuda` fails when CUDA is unavailable. Default `auto`. */
  readonly device: Device;
  /**
   * ONNX Runtime intra-op threads of each session; 0 = the CPU budget's share (the cores split
   * between the lanes; with one lane the runtime's own default, one per core). Default 0.
   */
  readonly intraOpThreads: number;
  /**
   * Image-encoder lanes on the CPU: sessions of the image encoder, each in its own inference
   * process, running one batch each at a time. 0 or absent = the CPU budget's (src/budget.ts:
   * two on two or more cores). On CUDA there is always one. Default 0.
   */
  readonly lanes?: number;
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
