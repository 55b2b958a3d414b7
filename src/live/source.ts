/**
 * A live source read continuously: ffmpeg through the frames stage's own probe and decoder
 * (same filter graph, same sampling), one connection after another.
 *
 * - Timeline: second 0 is the wall-clock time of the first frame of the first connection
 *   (`startWallMs`). Within a connection frames keep their own pts spacing; a new connection
 *   starts at the wall-clock time its first frame arrived. Times only ever go forward, so
 *   reconnects, pts resets and HLS discontinuities never move the stream back in time.
 * - Stall: while waiting on ffmpeg, no frame for `stallSec` kills the connection; before the
 *   first frame of a connection (ffprobe and ffmpeg each analyse a few seconds of a real-time
 *   source) the allowance is `stallSec + SETUP_ALLOWANCE_SEC`. Time the consumer holds a frame
 *   does not count.
 * - Reconnect: a connection that ends (rtsp: any end; others: an error) is reopened after an
 *   exponential backoff with jitter, without a new ffprobe when the connection before it gave
 *   frames (its probe is passed on; a connection that gives no frame for another reason than
 *   an unreachable source forgets it); `reconnects` failed attempts in a row (attempts that gave
 *   no frame) end the stream `source-lost`. Any other source that ends cleanly (HLS
 *   #EXT-X-ENDLIST, a file) ends `source-ended`; aborting the signal ends it `stopped`.
 * - Policy: rtsp(s) is resolved once per connection and ffmpeg gets the checked address literal
 *   (resolveRtsp); http(s) opens a policy-proxy session per connection (openSource). A refused
 *   address or a bad URI is not retried: it is thrown.
 */
import { ClipstreamError, toClipstreamError } from '../errors.js';
import type { ErrorCode } from '../errors.js';
import { checkUri, decodeFrames, openSource, probe, resolveRtsp } from '../frames/index.js';
import type {
  MediaLimits,
  OpenedSource,
  PolicyProxy,
  ProbeInfo,
  ResizeMode,
  RtspTransport,
  Sampling,
  SourcePolicy,
} from '../frames/index.js';
import type { Logger } from '../log.js';
import { parseLiveSourceOptions } from './options.js';
import type { LiveSourceOptions, ResolvedLiveSourceOptions } from './options.js';

export type EndReason = 'source-ended' | 'stopped' | 'source-lost';

export interface LiveFrame {
  /** Seconds since `startWallMs`, on the stream timeline (monotonic across reconnects). */
  readonly timeSec: number;
  /** Wall clock (ms since the epoch) when the frame left ffmpeg. */
  readonly wallMs: number;
  /** 1 for the first connection, 2 after the first reconnect, ... */
  readonly connection: number;
  readonly data: Uint8Array;
}

export interface LiveSourceSettings {
  readonly uri: string;
  readonly policy: SourcePolicy;
  readonly width: number;
  readonly height: number;
  readonly resize: ResizeMode;
  readonly sampling: Sampling;
  readonly log: Logger;
  /** Names the stream in log lines and proxy sessions. */
  readonly streamId: string;
  readonly proxy?: PolicyProxy;
  readonly options?: LiveSourceOptions;
  /** rtsp:// only: how RTP travels. @defaultValue 'tcp' */
  readonly rtspTransport?: RtspTransport;
  /** Called when a connection drops or fails, with the delay before the next attempt. */
  readonly onDrop?: (err: ClipstreamError, failuresInRow: number, delayMs: number) => void;
  /** Called after each probe (the source's size and frame rate for the window documents). */
  readonly onConnect?: (info: ProbeInfo, connection: number) => void;
  /** Random number in [0, 1) for the jitter. @defaultValue Math.random */
  readonly random?: () => number;
}

/** Errors that retrying cannot fix: the stream ends at once with them. */
const FATAL: ReadonlySet<ErrorCode> = new Set<ErrorCode>([
  'CLIPSTREAM_BAD_URI',
  'CLIPSTREAM_URI_REFUSED',
  'CLIPSTREAM_BAD_CONFIG',
  'CLIPSTREAM_FFMPEG_MISSING',
]);

/** Failures to reach the source at all: the last probe stays good. */
const REACH_ERRORS: ReadonlySet<ErrorCode> = new Set<ErrorCode>([
  'CLIPSTREAM_SOURCE_UNAVAILABLE',
  'CLIPSTREAM_SOURCE_NOT_FOUND',
]);

/** A live connection is not a file: no duration, frame or wall-clock limit per connection. */
const LIVE_LIMITS: Partial<MediaLimits> = {
  maxDurationSec: 1e9,
  maxFrames: Number.MAX_SAFE_INTEGER,
  timeoutMs: 2_000_000_000,
  networkMaxBytes: 2 ** 50,
  networkMaxMs: 2_000_000_000,
};

/** Extra seconds a connection has for its first frame (probe and ffmpeg's own stream analysis). */
export const SETUP_ALLOWANCE_SEC = 10;

/** A jump this large (s) between two frames of one connection is a pts reset: re-anchor. */
const MAX_PTS_STEP_SEC = 60;

/** Delay before attempt `failures + 1`: exponential from `backoffMs`, capped, jittered to [50%, 100%]. */
export function backoffDelay(
  failures: number,
  o: Pick<ResolvedLiveSourceOptions, 'backoffMs' | 'backoffMaxMs'>,
  random: () => number = Math.random,
): number {
  const exp = Math.min(o.backoffMaxMs, o.backoffMs * 2 ** Math.max(0, failures - 1));
  return Math.round(exp * (0.5 + 0.5 * random()));
}

/** Maps a connection's own frame times onto the stream timeline (pure; see the file comment). */
export class Timeline {
  startWallMs: number | undefined;
  private lastSec = -Infinity;
  private anchor: { own: number; stream: number } | undefined;
  private prevOwn = 0;

  /** A new connection: its next frame is anchored at the wall clock. */
  reconnect(): void {
    this.anchor = undefined;
  }

  /** Stream time of a frame with the connection's own time `ownSec`, arriving at `wallMs`. */
  place(ownSec: number, wallMs: number): number {
    if (this.startWallMs === undefined) this.startWallMs = wallMs;
    const step = ownSec - this.prevOwn;
    this.prevOwn = ownSec;
    if (this.anchor === undefined || step < 0 || step > MAX_PTS_STEP_SEC) {
      const wallSec = (wallMs - this.startWallMs) / 1000;
      this.anchor = { own: ownSec, stream: Math.max(wallSec, this.lastSec + 1e-3) };
    }
    let t = this.anchor.stream + (ownSec - this.anchor.own);
    if (t <= this.lastSec) t = this.lastSec + 1e-3;
    this.lastSec = t;
    return Math.round(t * 1e6) / 1e6;
  }
}

export class LiveSource {
  readonly timeline = new Timeline();
  private readonly opts: ResolvedLiveSourceOptions;
  /** Connections that gave at least one frame, minus the first: the reconnects so far. */
  reconnects = 0;
  /** Why the last connection failed, if it did. */
  lastError: ClipstreamError | undefined;
  /**
   * The probe of the last connection that gave frames. A reconnect to the same source reuses
   * it (ffprobe would analyse the stream once more before ffmpeg does the same); a connection
   * that gives no frame forgets it, so the next attempt probes afresh.
   */
  private known: ProbeInfo | undefined;

  constructor(private readonly s: LiveSourceSettings) {
    this.opts = parseLiveSourceOptions(s.options);
    checkUri(s.uri, s.policy);
  }

  /** Frames until the stream ends; returns why it ended. */
  async *frames(signal: AbortSignal): AsyncGenerator<LiveFrame, EndReason, undefined> {
    let failures = 0;
    let connection = 0;
    let served = 0;
    for (;;) {
      if (signal.aborted) return 'stopped';
      connection += 1;
      this.timeline.reconnect();
      let got = 0;
      let err: ClipstreamError | undefined;
      let ended = false;
      const conn = new Connection(this.s, this.opts.stallSec * 1000, signal, this.known);
      try {
        for await (const f of conn.frames()) {
          if (got === 0) {
            failures = 0;
            if (served > 0) this.reconnects += 1;
            served += 1;
          }
          got += 1;
          const wallMs = Date.now();
          yield { timeSec: this.timeline.place(f.timeSec, wallMs), wallMs, connection, data: f.data };
          conn.resumeStallClock();
        }
        ended = true;
      } catch (e) {
        err = conn.failure() ?? toClipstreamError(e);
      } finally {
        await conn.close();
      }
      if (signal.aborted) return 'stopped';
      if (err !== undefined && FATAL.has(err.code)) throw err;
      if (ended && err === undefined && !/^rtsps?:/i.test(this.s.uri)) return 'source-ended';
      err ??= new ClipstreamError('CLIPSTREAM_SOURCE_UNAVAILABLE', 'the source closed the connection');
      this.lastError = err;
      if (got === 0) {
        failures += 1;
        // A source that could not be reached says nothing about its stream; anything else
        // (a probe or decode failure) might mean the stream changed: probe it afresh.
        if (!REACH_ERRORS.has(err.code)) this.known = undefined;
      } else {
        this.known = conn.info;
      }
      if (failures >= Math.max(1, this.opts.reconnects)) return 'source-lost';
      const delay =
        got > 0
          ? backoffDelay(0, this.opts, this.s.random)
          : backoffDelay(failures, this.opts, this.s.random);
      this.s.onDrop?.(err, failures, delay);
      this.s.log.warn('live source dropped; reconnecting', {
        streamId: this.s.streamId,
        code: err.code,
        error: err.message,
        failuresInRow: failures,
        delayMs: delay,
      });
      if (!(await sleep(delay, signal))) return 'stopped';
    }
  }
}

/**
 * Whether a URI names a live source: rtsp(s), or an http(s) HLS playlist (`….m3u8`). Live
 * sources run as streams (windows), never as videos.
 */
export function isLiveUri(uri: string): boolean {
  if (typeof uri !== 'string') return false;
  if (/^rtsps?:/i.test(uri)) return true;
  if (!isHttp(uri)) return false;
  try {
    return new URL(uri).pathname.toLowerCase().endsWith('.m3u8');
  } catch {
    return false;
  }
}

function isHttp(uri: string): boolean {
  return /^https?:/i.test(uri);
}

function sleep(ms: number, signal: AbortSignal): Promise<boolean> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve(false);
    const done = (ok: boolean) => {
      clearTimeout(timer);
      signal.removeEventListener('abort', onAbort);
      resolve(ok);
    };
    const onAbort = () => done(false);
    const timer = setTimeout(() => done(true), ms);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

/** One connection: open (policy), probe, decode; a stall clock and its own abort. */
class Connection {
  private readonly ac = new AbortController();
  private stallTimer: NodeJS.Timeout | undefined;
  private stalled: ClipstreamError | undefined;
  private frames_ = 0;
  private opened: OpenedSource | undefined;
  private readonly onParentAbort = () => this.ac.abort();
  /** This connection's probe (or the one passed on). */
  info: ProbeInfo | undefined;

  constructor(
    private readonly s: LiveSourceSettings,
    private readonly stallMs: number,
    private readonly parent: AbortSignal,
    private readonly known?: ProbeInfo,
  ) {
    parent.addEventListener('abort', this.onParentAbort, { once: true });
  }

  async *frames(): AsyncGenerator<{ timeSec: number; data: Uint8Array }, void, undefined> {
    this.resumeStallClock();
    const s = this.s;
    let source;
    if (checkUri(s.uri, s.policy) === 'rtsp') {
      source = await resolveRtsp(s.uri, s.policy, s.rtspTransport);
    } else {
      this.opened = await openSource(s.uri, s.policy, {
        videoId: s.streamId,
        log: s.log,
        ...(s.proxy ? { proxy: s.proxy } : {}),
        limits: LIVE_LIMITS,
        onPolicyError: () => this.ac.abort(),
      });
      source = this.opened.source;
    }
    const info = this.known ?? (await probe(source, { signal: this.ac.signal, limits: LIVE_LIMITS }));
    this.info = info;
    s.onConnect?.(info, 0);
    for await (const frame of decodeFrames(
      source,
      { ...info, durationSec: 0 },
      {
        width: s.width,
        height: s.height,
        resize: s.resize,
        sampling: s.sampling,
        signal: this.ac.signal,
        limits: LIVE_LIMITS,
      },
    )) {
      this.pauseStallClock();
      this.frames_ += 1;
      yield { timeSec: frame.timeSec, data: frame.data };
    }
  }

  /** The connection's own reason to fail (a stall, a policy refusal), over what ffmpeg said. */
  failure(): ClipstreamError | undefined {
    return this.opened?.policyError() ?? this.stalled;
  }

  resumeStallClock(): void {
    clearTimeout(this.stallTimer);
    const ms = this.frames_ === 0 ? this.stallMs + SETUP_ALLOWANCE_SEC * 1000 : this.stallMs;
    this.stallTimer = setTimeout(() => {
      this.stalled = new ClipstreamError(
        'CLIPSTREAM_SOURCE_UNAVAILABLE',
        `no frame for ${this.stallMs / 1000} s: the source stalled`,
      );
      this.ac.abort();
    }, ms);
  }

  private pauseStallClock(): void {
    clearTimeout(this.stallTimer);
    this.stallTimer = undefined;
  }

  async close(): Promise<void> {
    this.pauseStallClock();
    this.parent.removeEventListener('abort', this.onParentAbort);
    await this.opened?.close();
  }
}
