import { checkFfmpeg } from '../frames/index.js';
import { DEFAULT_BATCH, Embedder, loadModelPack } from '../embed/index.js';
import type { Device } from '../embed/index.js';
import type { Logger } from '../log.js';
import { BUNDLED_MODEL } from './common.js';

export interface RuntimeSettings {
  model?: string | undefined;
  device: Device;
  threads: number;
  batchSize?: number;
  batchWaitMs?: number;
  maxQueued?: number;
  onImageBatch?: (size: number, ms: number) => void;
}

/**
 * Checks ffmpeg and opens the model on the chosen device: the stages a pipeline cannot run
 * without. Either fails with one clear coded error, so nothing runs half-built.
 */
export async function openRuntime(s: RuntimeSettings, log: Logger): Promise<Embedder> {
  await checkFfmpeg();
  const pack = await loadModelPack(s.model ?? BUNDLED_MODEL);
  const maxBatch = s.batchSize ?? DEFAULT_BATCH.maxBatch;
  return Embedder.open(
    pack,
    {
      runtime: { device: s.device, intraOpThreads: s.threads, cudaDeviceId: 0 },
      batch: {
        maxBatch,
        maxWaitMs: s.batchWaitMs ?? DEFAULT_BATCH.maxWaitMs,
        maxQueued: Math.max(maxBatch, s.maxQueued ?? maxBatch * 4),
      },
      ...(s.onImageBatch ? { onImageBatch: s.onImageBatch } : {}),
    },
    log,
  );
}
