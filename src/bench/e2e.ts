/**
 * End to end on one worker: whole videos through `processVideo` (source, probe, decode + sample,
 * shared batcher, match, result document), one video alone and several at once sharing the
 * Embedder's batcher, as the worker runs them.
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import type { Embedder } from '../embed/index.js';
import type { ResolvedSampling } from '../frames/index.js';
import { silentLogger } from '../log.js';
import type { FrameTrack, MatchOptions } from '../match/index.js';
import { loadConfig } from '../config.js';
import { contextFromConfig, processVideo } from '../pipeline/index.js';
import type { PipelineContext } from '../pipeline/index.js';
import { perSecond, timed } from './measure.js';

export interface EndToEndResult {
  /** which image encoder: `fp32`, or `int8` for the quantised variant */
  model: 'fp32' | 'int8';
  videos: number;
  /** frames of all videos together */
  frames: number;
  wallMs: number;
  framesPerSec: number;
  /** mean frames per image-encoder run (the batcher's doing) */
  meanBatch: number;
  /** share of the wall time the image encoder was running */
  encoderBusyPct: number;
  /** frames per second of encoder time: the embed rate inside the pipeline, next to decoding */
  encoderFramesPerSec: number;
  /**
   * Longest the Node.js event loop was blocked, ms. The encoder runs in its lanes' processes, so
   * what is left is the main process's own work: a spawn of ffprobe or ffmpeg (a fork, which
   * costs more the larger the process), JSON, garbage collection. While it lasts, nothing reads
   * ffmpeg's output and decoding waits.
   */
  eventLoopMaxStallMs: number;
  /** rounds measured, when alternated with another figure (this is the median round) */
  runs?: number;
  /** frames/s of every round */
  framesPerSecRuns?: number[];
  /** each video's own `timings` from its result document */
  timings: { decodeMs: number; embedMs: number; matchMs: number; totalMs: number }[];
}

export interface EndToEndSetup {
  readonly embedder: Embedder;
  readonly path: string;
  readonly sampling: ResolvedSampling;
  readonly queries: readonly string[];
  readonly captions: readonly string[];
  readonly match: MatchOptions;
  readonly framesInFlight: number;
  /** decode mode and ffmpeg threads (defaults: the pipeline's own) */
  readonly decode?: PipelineContext['decode'];
  readonly decodeThreads?: number;
}

/** Runs `videos` copies of the video at once; returns the figures and the first video's track. */
export async function endToEnd(
  s: EndToEndSetup,
  videos: number,
  signal?: AbortSignal,
  model: 'fp32' | 'int8' = 'fp32',
): Promise<{ result: EndToEndResult; track: FrameTrack }> {
  // Text embeddings are computed once per query and cached; warm the cache so that the timed
  // runs measure the frame path, as a long-running worker sees it.
  await s.embedder.embedTexts([...s.queries, ...s.captions]);
  // The defaults of a worker with no environment: no media root, no private networks.
  const config = loadConfig({ maxFramesInFlight: s.framesInFlight }, {});
  const ctx = contextFromConfig('cli', config, s.embedder, silentLogger, {
    match: s.match,
    ...(s.decode !== undefined ? { decode: s.decode } : {}),
    ...(s.decodeThreads !== undefined ? { decodeThreads: s.decodeThreads } : {}),
  });
  const before = { ...s.embedder.stats };
  const loop = monitorEventLoopDelay({ resolution: 5 });
  loop.enable();
  const { value: outcomes, ms } = await timed(() =>
    Promise.all(
      Array.from({ length: videos }, (_, i) =>
        processVideo(
          {
            videoId: `bench-${i + 1}`,
            uri: s.path,
            queries: s.queries.map((text, q) => ({ id: `q${q + 1}`, text })),
            captions: s.captions,
            sampling: s.sampling,
          },
          ctx,
          signal,
        ),
      ),
    ),
  );
  loop.disable();
  const frames = outcomes.reduce((a, o) => a + o.track.count, 0);
  const batches = s.embedder.stats.imageBatches - before.imageBatches;
  // Busy time per lane: the lanes' run time summed, over the lanes.
  const encoderMs = (s.embedder.stats.imageMs - before.imageMs) / s.embedder.lanes;
  return {
    result: {
      model,
      videos,
      frames,
      wallMs: ms,
      framesPerSec: perSecond(frames, ms),
      meanBatch: batches > 0 ? (s.embedder.stats.imageFrames - before.imageFrames) / batches : 0,
      encoderBusyPct: (100 * encoderMs) / ms,
      encoderFramesPerSec: perSecond(frames, encoderMs),
      eventLoopMaxStallMs: loop.max / 1e6,
      timings: outcomes.map((o) => o.result.timings),
    },
    track: (outcomes[0] as (typeof outcomes)[number]).track,
  };
}
