/**
 * End to end on one worker: whole videos through `processVideo` (source, probe, decode + sample,
 * shared batcher, match, result document), one video alone and several at once sharing the
 * Embedder's batcher, as the worker runs them.
 */
import type { Embedder } from '../embed/index.js';
import type { Sampling } from '../frames/index.js';
import { silentLogger } from '../log.js';
import type { FrameTrack, MatchOptions } from '../match/index.js';
import { calibrationFor, processVideo } from '../pipeline/index.js';
import { perSecond, timed } from './measure.js';

export interface EndToEndResult {
  /** which image encoder: `fp32`, or `int8` for the quantised variant */
  model: 'fp32' | 'int8';
  videos: number;
  /** frames of all videos together */
  frames: number;
  wallMs: number;
  framesPerSec: number;
  /** each video's own `timings` from its result document */
  timings: { decodeMs: number; embedMs: number; matchMs: number; totalMs: number }[];
}

export interface EndToEndSetup {
  readonly embedder: Embedder;
  readonly path: string;
  readonly sampling: Sampling;
  readonly queries: readonly string[];
  readonly captions: readonly string[];
  readonly match: MatchOptions;
  readonly framesInFlight: number;
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
  const ctx = {
    embedder: s.embedder,
    policy: { allowPrivateNetworks: false },
    match: s.match,
    calibration: calibrationFor(s.embedder.pack.manifest),
    log: silentLogger,
    framesInFlight: s.framesInFlight,
  };
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
  const frames = outcomes.reduce((a, o) => a + o.track.count, 0);
  return {
    result: {
      model,
      videos,
      frames,
      wallMs: ms,
      framesPerSec: perSecond(frames, ms),
      timings: outcomes.map((o) => o.result.timings),
    },
    track: (outcomes[0] as (typeof outcomes)[number]).track,
  };
}
