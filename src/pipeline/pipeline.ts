import { setMaxListeners } from 'node:events';
import { performance } from 'node:perf_hooks';
import type { Embedder } from '../embed/index.js';
import { ClipstreamError } from '../errors.js';
import { decodeFrames, openSource, probe } from '../frames/index.js';
import type {
  DecodeOptions,
  MediaLimits,
  OpenedSource,
  PolicyProxy,
  ResolvedSampling,
  ResolvedSource,
  SourcePolicy,
} from '../frames/index.js';
import { checkTexts } from '../limits.js';
import type { Logger } from '../log.js';
import { matchVideo } from '../match/index.js';
import type { Calibration, FrameTrack, MatchOptions } from '../match/index.js';
import { computeResultId, RESULT_SCHEMA } from './result.js';
import type { ResultDocument } from './result.js';

export interface QuerySpec {
  readonly id: string;
  readonly text: string;
}

export interface VideoRequest {
  readonly videoId: string;
  readonly uri: string;
  /** in order: the event's (or command line's) queries, then standing queries */
  readonly queries: readonly QuerySpec[];
  readonly captions: readonly string[];
  /** resolved (defaults filled in): it is part of the settings behind `resultId` */
  readonly sampling: ResolvedSampling;
}

export interface PipelineContext {
  readonly embedder: Embedder;
  readonly policy: SourcePolicy;
  /** The policy proxy http(s) sources go through; without one, one is made per video. */
  readonly proxy?: PolicyProxy;
  readonly limits?: Partial<MediaLimits>;
  readonly match: MatchOptions;
  readonly calibration: Calibration;
  readonly log: Logger;
  /** Most frames of one video submitted to the embedder and not yet back. Default 32. */
  readonly framesInFlight?: number;
  /**
   * Most bytes of those frames (frames are the model's input size, so this matters for packs
   * with large inputs): the frame count is lowered to fit, never below one. Default 64 MiB.
   */
  readonly frameBytesInFlight?: number;
  /** How much to decode (frames/strategy.ts); default `auto`, the cheapest that yields the samples. */
  readonly decode?: DecodeOptions['decode'];
  /** GPU decode (frames/hwdecode.ts); default `auto`: NVDEC when the machine has CUDA. */
  readonly hwaccel?: DecodeOptions['hwaccel'];
  /** ffmpeg decoder threads per video; default from the CPU budget (src/budget.ts). */
  readonly decodeThreads?: number;
  /** Called as frames are embedded (done, expected total or undefined). */
  readonly onProgress?: (done: number, total: number | undefined) => void;
  /** Stage wrapper for telemetry (spans, histograms); identity when absent. */
  readonly trace?: <T>(stage: string, fn: () => Promise<T>) => Promise<T>;
}

export interface VideoOutcome {
  readonly result: ResultDocument;
  /** the frame embeddings and their times, for the optional embeddings topic */
  readonly track: FrameTrack;
}

/**
 * One video through every stage: source -> probe -> decode+sample (ffmpeg) -> embed (shared
 * batcher) -> match -> result document. Decoding runs ahead of embedding by up to
 * `framesInFlight` frames, so ffmpeg and ONNX Runtime work at the same time.
 */
export async function processVideo(
  req: VideoRequest,
  ctx: PipelineContext,
  parentSignal?: AbortSignal,
): Promise<VideoOutcome> {
  // One signal per video, listened to by every frame in flight: raise its listener limit
  // (regression: node warned of a leak once more than ten frames were queued), and keep the
  // caller's signal to a single listener.
  const local = new AbortController();
  setMaxListeners(Math.max(10, (ctx.framesInFlight ?? 32) + 16), local.signal);
  const onAbort = () => local.abort(parentSignal?.reason);
  if (parentSignal?.aborted) local.abort(parentSignal.reason);
  else parentSignal?.addEventListener('abort', onAbort, { once: true });
  // The source, opened inside (under its trace span); for http(s) a policy-proxy session whose
  // record of a refused connection is the video's error (ffmpeg only saw a 403).
  let opened: OpenedSource | undefined;
  const open = async (uri: string): Promise<ResolvedSource> => {
    opened = await openSource(uri, ctx.policy, {
      videoId: req.videoId,
      log: ctx.log,
      ...(ctx.proxy ? { proxy: ctx.proxy } : {}),
      ...(ctx.limits ? { limits: ctx.limits } : {}),
      onPolicyError: (err) => local.abort(err),
    });
    return opened.source;
  };
  try {
    const outcome = await processVideoSignal(req, ctx, local.signal, open);
    const refused = opened?.policyError();
    if (refused) throw refused;
    return outcome;
  } catch (err) {
    throw opened?.policyError() ?? err;
  } finally {
    parentSignal?.removeEventListener('abort', onAbort);
    await opened?.close();
  }
}

async function processVideoSignal(
  req: VideoRequest,
  ctx: PipelineContext,
  signal: AbortSignal,
  open: (uri: string) => Promise<ResolvedSource>,
): Promise<VideoOutcome> {
  const trace = ctx.trace ?? (<T>(_s: string, fn: () => Promise<T>) => fn());
  const t0 = performance.now();
  checkTexts(req.queries, req.captions);
  const { embedder } = ctx;
  const D = embedder.dim;

  // Text embeddings do not depend on the video: start them at once.
  const texts = [...req.queries.map((q) => q.text), ...req.captions];
  const textPromise = trace('embed.text', () => embedder.embedTexts(texts));
  textPromise.catch(() => undefined);

  const source = await trace('source', () => open(req.uri));
  // Handed to the decoder unresolved: where ffmpeg's command needs nothing from the probe
  // (keyframe sampling), ffmpeg starts while ffprobe reads the header.
  // fps sampling: a local file's keyframe spacing is read beside the header (probe.ts).
  const keyframes = req.sampling.strategy === 'fps' && (ctx.decode ?? 'auto') === 'auto';
  const probing = trace('probe', () => probe(source, { signal, limits: ctx.limits, keyframes }));
  probing.catch(() => undefined);

  const { height, width, resize } = embedder.input;
  const limit = framesInFlightFor(ctx, height * width * 3);
  const times: number[] = [];
  const pending: Promise<Float32Array>[] = [];
  const embeds: Float32Array[] = [];
  let expected: number | undefined;
  let decodeMs = 0;
  let firstSubmit = 0;
  const drainOne = async (): Promise<void> => {
    const p = pending.shift();
    if (p) {
      embeds.push(await p);
      ctx.onProgress?.(embeds.length, expected);
    }
  };

  await trace('frames', async () => {
    const tDecode = performance.now();
    for await (const frame of decodeFrames(source, probing, {
      width,
      height,
      resize,
      sampling: req.sampling,
      signal,
      limits: ctx.limits,
      ...(ctx.decodeThreads !== undefined ? { threads: ctx.decodeThreads } : {}),
      ...(ctx.decode !== undefined ? { decode: ctx.decode } : {}),
      ...(ctx.hwaccel !== undefined ? { hwaccel: ctx.hwaccel } : {}),
      onNotice: (line) => ctx.log.info(line),
    })) {
      if (firstSubmit === 0) {
        firstSubmit = performance.now();
        // Frames come only once the probe has answered.
        const { durationSec } = await probing;
        if (req.sampling.strategy === 'fps')
          expected = Math.max(1, Math.ceil(durationSec * req.sampling.fps));
      }
      times.push(frame.timeSec);
      const p = embedder.embedFrame(frame.data, signal);
      p.catch(() => undefined);
      pending.push(p);
      if (pending.length >= limit) await drainOne();
    }
    decodeMs = performance.now() - tDecode;
  });
  await trace('embed.frames', async () => {
    while (pending.length > 0) await drainOne();
  });
  const embedMs = firstSubmit === 0 ? 0 : performance.now() - firstSubmit;
  const info = await probing;
  if (embeds.length === 0)
    throw new ClipstreamError('CLIPSTREAM_NO_FRAMES', `no frames were sampled from ${req.uri}`);

  const T = embeds.length;
  const flat = new Float32Array(T * D);
  embeds.forEach((e, i) => flat.set(e, i * D));
  const track: FrameTrack = {
    dim: D,
    count: T,
    embeds: flat,
    times: Float64Array.from(times),
    endSec: Math.max(info.durationSec, times[T - 1] ?? 0),
  };

  const textVecs = await textPromise;
  const tMatch = performance.now();
  const matched = await trace('match', async () =>
    matchVideo(
      track,
      req.queries.map((q, i) => ({ id: q.id, text: q.text, vectors: textVecs[i]! })),
      req.captions.map((c, i) => ({ text: c, vectors: textVecs[req.queries.length + i]! })),
      ctx.calibration,
      ctx.match,
    ),
  );
  const matchMs = performance.now() - tMatch;

  const pack = embedder.pack;
  const sampling =
    req.sampling.strategy === 'fps'
      ? { strategy: 'fps' as const, fps: req.sampling.fps, frames: T }
      : req.sampling.strategy === 'scene'
        ? {
            strategy: 'scene' as const,
            frames: T,
            threshold: req.sampling.threshold,
            minSpacingSec: req.sampling.minSpacingSec,
          }
        : { strategy: 'keyframes' as const, frames: T };
  const result: ResultDocument = {
    schema: RESULT_SCHEMA,
    resultId: computeResultId({
      videoId: req.videoId,
      uri: req.uri,
      modelSha256: pack.sha256,
      sampling: req.sampling,
      queries: req.queries,
      captions: req.captions,
      settings: { match: ctx.match, calibration: ctx.calibration },
    }),
    videoId: req.videoId,
    source: {
      uri: req.uri,
      durationSec: round3(info.durationSec),
      width: info.width,
      height: info.height,
      fps: round3(info.fps),
      startTimeSec: info.startTimeSec,
      codec: info.codec,
    },
    model: { name: pack.manifest.name, sha256: pack.sha256, embedDim: D, provider: embedder.provider },
    sampling,
    // A text cut to the model's context says so (an extra field, allowed by the contract).
    queries: matched.queries.map((q, i) => (textVecs[i]?.truncated ? { ...q, truncated: true } : q)),
    captions: matched.captions,
    timings: {
      decodeMs: Math.round(decodeMs),
      embedMs: Math.round(embedMs),
      matchMs: Math.round(matchMs),
      totalMs: Math.round(performance.now() - t0),
    },
  };
  return { result, track };
}

/** Default bound on the bytes of one video's frames in flight (64 MiB). */
export const DEFAULT_FRAME_BYTES_IN_FLIGHT = 64 * 1024 * 1024;

/** Frames of one video in flight: the count bound, lowered so their bytes fit the byte bound. */
export function framesInFlightFor(
  ctx: Pick<PipelineContext, 'framesInFlight' | 'frameBytesInFlight'>,
  frameBytes: number,
): number {
  const byCount = ctx.framesInFlight ?? 32;
  const byBytes = Math.floor(
    (ctx.frameBytesInFlight ?? DEFAULT_FRAME_BYTES_IN_FLIGHT) / Math.max(1, frameBytes),
  );
  return Math.max(1, Math.min(byCount, byBytes));
}

function round3(x: number): number {
  return Math.round(x * 1000) / 1000;
}
