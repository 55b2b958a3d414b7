/**
 * One live stream end to end: the live source (source.ts) -> the shared embedder (frames of
 * every stream and video share its batches) -> the window tracker (window.ts) -> documents and
 * alerts to the caller's sinks. Used by `clipstream run <live-uri>` and by the worker's stream
 * manager alike.
 */
import type { Embedder } from '../embed/index.js';
import { ClipstreamError } from '../errors.js';
import type { PolicyProxy, RtspTransport, Sampling, SourcePolicy } from '../frames/index.js';
import type { Logger } from '../log.js';
import type { Calibration, MatchOptions, QueryInput } from '../match/index.js';
import { ALERT_SCHEMA } from './messages.js';
import type { Alert } from './messages.js';
import type { LiveSourceOptions } from './options.js';
import { sameQueries } from './queries.js';
import type { QueryRef } from './queries.js';
import { LiveSource } from './source.js';
import type { EndReason } from './source.js';
import { WindowTracker } from './window.js';
import type { WindowDocument } from './window.js';
import type { WindowOptions } from './options.js';

export interface StreamRequest {
  readonly streamId: string;
  readonly uri: string;
  /** The queries of the first window (and of every window unless `StreamContext.queries`). */
  readonly queries: readonly QueryRef[];
  readonly captions: readonly string[];
  readonly sampling: Sampling;
  readonly window?: WindowOptions;
  /** rtsp:// sources: how RTP travels. @defaultValue 'tcp' */
  readonly rtspTransport?: RtspTransport;
}

export interface StreamContext {
  readonly embedder: Embedder;
  readonly policy: SourcePolicy;
  readonly proxy?: PolicyProxy;
  readonly match: MatchOptions;
  readonly calibration: Calibration;
  readonly log: Logger;
  readonly source?: LiveSourceOptions;
  /** Most frames of this stream at the embedder at once. @defaultValue 8 */
  readonly framesInFlight?: number;
  /** Every window document, the final one last; awaited (backpressure on the stream). */
  readonly onDocument: (doc: WindowDocument) => Promise<void> | void;
  /** Every alert, when its moment opens. */
  readonly onAlert?: (alert: Alert) => Promise<void> | void;
  /**
   * The stream's queries now (the worker: its own, then the standing queries), read before
   * every frame; a change applies from the next window on. Default: `StreamRequest.queries`.
   */
  readonly queries?: () => readonly QueryRef[];
  /** Per-stream figures after every frame (metrics). */
  readonly onStats?: (s: StreamStats) => void;
  /** A connection dropped or could not be opened; the source tries again after `delayMs`. */
  readonly onDrop?: (d: { streamId: string; code: string; failuresInRow: number; delayMs: number }) => void;
}

export interface StreamStats {
  readonly streamId: string;
  readonly frames: number;
  readonly reconnects: number;
  /** Seconds the last embedded frame is behind live (its arrival). */
  readonly lagSec: number;
  /** Milliseconds from the frame that closed a window to its document, for the last document. */
  readonly windowLatencyMs: number | undefined;
}

export interface StreamOutcome {
  readonly reason: EndReason;
  /** Why the source was lost (source-lost only). */
  readonly error?: ClipstreamError;
  readonly documents: number;
}

/** Runs a stream until its source ends, it is lost, or `signal` aborts (`stopped`). */
export async function runStream(
  req: StreamRequest,
  ctx: StreamContext,
  signal: AbortSignal,
): Promise<StreamOutcome> {
  const { embedder } = ctx;
  let queries = ctx.queries?.() ?? req.queries;
  const texts = [...queries.map((q) => q.text), ...req.captions];
  const vecs = texts.length > 0 ? await embedder.embedTexts(texts) : [];
  const pack = embedder.pack;
  const pendingAlerts: Promise<void>[] = [];
  const tracker = new WindowTracker({
    streamId: req.streamId,
    uri: req.uri,
    dim: embedder.dim,
    queries: queries.map((q, i) => ({ id: q.id, text: q.text, vectors: vecs[i]! })),
    captions: req.captions.map((text, i) => ({ text, vectors: vecs[queries.length + i]! })),
    calibration: ctx.calibration,
    match: ctx.match,
    model: {
      name: pack.manifest.name,
      sha256: pack.sha256,
      embedDim: embedder.dim,
      provider: embedder.provider,
    },
    sampling: { ...req.sampling } as WindowDocumentSampling,
    ...(req.window ? { window: req.window } : {}),
    onOpen: (m) => {
      if (!ctx.onAlert) return;
      const alert: Alert = {
        schema: ALERT_SCHEMA,
        streamId: req.streamId,
        queryId: m.queryId,
        text: m.text,
        momentId: m.momentId,
        startSec: m.startSec,
        startTime: new Date(Date.parse(tracker.startTime) + m.startSec * 1000).toISOString(),
        score: m.score,
      };
      const p = Promise.resolve(ctx.onAlert(alert));
      p.catch((err: unknown) =>
        ctx.log.warn('alert not sent', { streamId: req.streamId, error: String(err) }),
      );
      pendingAlerts.push(p.catch(() => undefined));
      if (pendingAlerts.length > 64) pendingAlerts.splice(0, pendingAlerts.length - 64);
    },
  });
  const source = new LiveSource({
    uri: req.uri,
    policy: ctx.policy,
    ...embedder.input,
    sampling: req.sampling,
    log: ctx.log,
    streamId: req.streamId,
    ...(ctx.proxy ? { proxy: ctx.proxy } : {}),
    ...(ctx.source ? { options: ctx.source } : {}),
    ...(req.rtspTransport ? { rtspTransport: req.rtspTransport } : {}),
    onDrop: (err, failuresInRow, delayMs) =>
      ctx.onDrop?.({ streamId: req.streamId, code: err.code, failuresInRow, delayMs }),
    onConnect: (info) => {
      tracker.source = { width: info.width, height: info.height, fps: Math.round(info.fps * 1000) / 1000 };
    },
  });
  // A changed query list is embedded (texts are cached) and handed to the tracker, which
  // applies it from the next window on. A text that cannot be embedded leaves the list as it
  // was (logged); the next change tries again.
  const refreshQueries = async (): Promise<void> => {
    const next = ctx.queries?.();
    if (!next || sameQueries(next, queries)) return;
    queries = next;
    try {
      const v = next.length > 0 ? await embedder.embedTexts(next.map((q) => q.text)) : [];
      tracker.setQueries(next.map((q, i): QueryInput => ({ id: q.id, text: q.text, vectors: v[i]! })));
      ctx.log.info('stream queries changed: from the next window on', {
        streamId: req.streamId,
        queries: next.length,
      });
    } catch (err) {
      ctx.log.warn('stream queries not changed: a text could not be embedded', {
        streamId: req.streamId,
        error: String(err),
      });
    }
  };
  let documents = 0;
  let frames = 0;
  let windowLatencyMs: number | undefined;
  // Window latency: from the arrival of the frame that closed the window (the first one past
  // its end) to the document; the stream clock and the wall clock drift apart with buffering.
  const emit = async (doc: WindowDocument, closingWallMs: number): Promise<void> => {
    windowLatencyMs = Math.max(0, Date.now() - closingWallMs);
    doc.timings = {
      ...doc.timings,
      totalMs: Math.round(windowLatencyMs),
      windowLatencyMs: Math.round(windowLatencyMs),
    };
    documents += 1;
    await ctx.onDocument(doc);
  };

  // Frames are embedded in order with up to `limit` at the embedder; each result is fed to the
  // tracker as soon as it (and every frame before it) is back.
  const limit = Math.max(1, ctx.framesInFlight ?? 8);
  const local = new AbortController();
  const onAbort = () => local.abort();
  signal.addEventListener('abort', onAbort, { once: true });
  let chain: Promise<void> = Promise.resolve();
  let inFlight = 0;
  let failed: unknown;
  const it = source.frames(local.signal);
  let reason: EndReason;
  try {
    for (;;) {
      const n = await it.next();
      if (n.done) {
        reason = n.value;
        break;
      }
      const f = n.value;
      if (frames === 0) {
        // Second 0 of the stream is its first frame's arrival (source.ts).
        tracker.setStart(source.timeline.startWallMs ?? f.wallMs);
      }
      const p = embedder.embedFrame(f.data, local.signal);
      p.catch(() => undefined);
      inFlight += 1;
      chain = chain.then(async () => {
        try {
          const e = await p;
          await refreshQueries();
          frames += 1;
          const closed = tracker.add(f.timeSec, e);
          if (closed) await emit(closed, f.wallMs);
          ctx.onStats?.({
            streamId: req.streamId,
            frames,
            reconnects: source.reconnects,
            lagSec: Math.max(0, (Date.now() - f.wallMs) / 1000),
            windowLatencyMs,
          });
        } catch (err) {
          failed ??= err;
          local.abort();
        } finally {
          inFlight -= 1;
        }
      });
      if (inFlight >= limit) await chain;
      if (failed !== undefined) break;
    }
  } finally {
    signal.removeEventListener('abort', onAbort);
    await it.return?.('stopped').catch(() => undefined);
  }
  await chain;
  if (failed !== undefined && !signal.aborted) throw failed;
  reason ??= 'stopped';
  await Promise.all(pendingAlerts);
  await emit(tracker.finish(reason), Date.now());
  return reason === 'source-lost'
    ? {
        reason,
        documents,
        error: new ClipstreamError(
          'CLIPSTREAM_STREAM_LOST',
          `stream ${req.streamId} lost: ${source.lastError?.message ?? 'no connection'}`,
          source.lastError ? { cause: source.lastError } : undefined,
        ),
      }
    : { reason, documents };
}

type WindowDocumentSampling = { strategy: 'fps' | 'keyframes' | 'scene'; fps?: number };
