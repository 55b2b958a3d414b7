import { checkFfmpeg } from '../frames/index.js';
import { Embedder, embedderOptions, loadModelPack } from '../embed/index.js';
import type { EmbedderExtras, EmbedOptionsInput } from '../embed/index.js';
import type { Logger } from '../log.js';
import { BUNDLED_MODEL } from './common.js';

/** The embed stage's options (a whole `Config` will do), plus what only the caller knows. */
export type RuntimeSettings = EmbedOptionsInput & EmbedderExtras;

/**
 * Checks ffmpeg and opens the model on the chosen device: the stages a pipeline cannot run
 * without. Either fails with one clear coded error, so nothing runs half-built.
 */
export async function openRuntime(s: RuntimeSettings, log: Logger): Promise<Embedder> {
  await checkFfmpeg();
  const pack = await loadModelPack(s.model ?? BUNDLED_MODEL);
  const { maxQueued, onImageBatch, ...embed } = s;
  return Embedder.open(
    pack,
    embedderOptions(
      {
        device: embed.device,
        threads: embed.threads,
        encoderLanes: embed.encoderLanes,
        batchSize: embed.batchSize,
        batchWaitMs: embed.batchWaitMs,
        textCacheBytes: embed.textCacheBytes,
      },
      { ...(maxQueued !== undefined ? { maxQueued } : {}), ...(onImageBatch ? { onImageBatch } : {}) },
    ),
    log,
  );
}
