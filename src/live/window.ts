/**
 * Windows over a live frame track (design.md 3.6): a rolling buffer of frame embeddings, the
 * matcher of src/match run over it, moments tracked across window edges, one window document
 * per window.
 *
 * - Buffer: the frames of the current window plus `contextSec` before it (smoothing, gap
 *   merging and captions see across the edge); older frames are dropped, and a hard cap on the
 *   count keeps memory flat whatever the timestamps do.
 * - Moments: after every frame the queries are matched over the buffer; a moment that overlaps
 *   (or lies within the merge gap of) a tracked moment of the same query extends it and keeps
 *   its `momentId`; any other new moment opens, and is reported to `onOpen` at once (alerts are
 *   sent when a moment opens, not at the window's end). A window document lists every tracked
 *   moment that overlaps the window, `open: true` when it reaches the window's end; a moment
 *   that was open in the previous document and has ended is listed once more, `open: false`.
 * - Window k covers [k * windowSec, (k + 1) * windowSec) of stream time; it is closed by the
 *   first frame at or after its end, or by the end of the stream (`final: true`).
 * - Queries: `setQueries` changes the list (standing queries come and go) from the next window
 *   on; queries that stay keep their tracked moments, momentIds and cooldown; a removed query's
 *   moments are dropped; a new query finds moments that reach into its first window, no older.
 */
import { createHash } from 'node:crypto';
import type { Calibration, CaptionInput, FrameTrack, MatchOptions, QueryInput } from '../match/index.js';
import { matchVideo } from '../match/index.js';
import { RESULT_SCHEMA, canonicalJson } from '../pipeline/index.js';
import type { ResultDocument } from '../pipeline/index.js';
import type { EndReason } from './source.js';
import { parseWindowOptions } from './options.js';
import { remapQueries } from './queries.js';
import type { ResolvedWindowOptions, WindowOptions } from './options.js';

export interface LiveMoment {
  momentId: string;
  startSec: number;
  endSec: number;
  score: number;
  peakSec: number;
  open: boolean;
}

export interface WindowDocument extends Omit<ResultDocument, 'queries'> {
  streamId: string;
  live: true;
  stream: { startTime: string };
  window: { index: number; startSec: number; endSec: number; startTime: string };
  final: boolean;
  end?: { reason: EndReason };
  queries: {
    id: string;
    text: string;
    score: number;
    matched: boolean;
    moments: LiveMoment[];
  }[];
}

/** A moment that has just opened (for alerts). */
export interface OpenedMoment {
  queryId: string;
  text: string;
  momentId: string;
  startSec: number;
  score: number;
}

export interface WindowTrackerSettings {
  readonly streamId: string;
  readonly uri: string;
  readonly dim: number;
  readonly queries: readonly QueryInput[];
  readonly captions: readonly CaptionInput[];
  readonly calibration: Calibration;
  readonly match: MatchOptions;
  readonly model: { name: string; sha256: string; embedDim: number; [extra: string]: unknown };
  /** Sampling as requested (echoed in documents, part of the resultId). */
  readonly sampling: { strategy: 'fps' | 'keyframes' | 'scene'; fps?: number; [extra: string]: unknown };
  readonly window?: WindowOptions;
  /** Called when a moment opens. */
  readonly onOpen?: (m: OpenedMoment) => void;
}

interface Tracked {
  readonly momentId: string;
  /** Index of its query in the current list. */
  query: number;
  startSec: number;
  endSec: number;
  score: number;
  peakSec: number;
  /** It was reported open in the last document. */
  reportedOpen: boolean;
}

/** Most frames the buffer ever holds, whatever the sampling rate or timestamps. */
export const MAX_BUFFER_FRAMES = 4096;

export class WindowTracker {
  readonly opts: ResolvedWindowOptions;
  private times: number[] = [];
  private embeds: Float32Array[] = [];
  private tracked: Tracked[] = [];
  /** The queries of the current window (`setQueries` changes them from the next window on). */
  private queries: readonly QueryInput[];
  private pendingQueries: readonly QueryInput[] | undefined;
  /** Per query: end of its last alerted (or suppressed) moment, for the alert cooldown. */
  private lastAlertEnd: number[];
  /** Per query: moments ending at or before this stream second are not its (added mid-stream). */
  private since: number[];
  private index = -1;
  private windowFrames = 0;
  private lastEnd = 0;
  private startWallMs: number | undefined;
  /** Source facts for the documents (set from each connection's probe). */
  source = { width: 0, height: 0, fps: 0 };
  private finished = false;

  constructor(private readonly s: WindowTrackerSettings) {
    this.opts = parseWindowOptions(s.window);
    this.queries = s.queries;
    this.lastAlertEnd = s.queries.map(() => -Infinity);
    this.since = s.queries.map(() => -Infinity);
  }

  /**
   * Replaces the query list from the next window on (at once before the first frame). A later
   * call before that window replaces the pending list.
   */
  setQueries(queries: readonly QueryInput[]): void {
    this.pendingQueries = queries;
    if (this.index < 0) this.applyQueries(-Infinity);
  }

  /** The queries of the current window. */
  get currentQueries(): readonly QueryInput[] {
    return this.queries;
  }

  private applyQueries(fromSec: number): void {
    const next = this.pendingQueries;
    if (!next) return;
    this.pendingQueries = undefined;
    const map = remapQueries(this.queries, next);
    const moved = new Map<number, number>();
    map.forEach((old, i) => {
      if (old >= 0) moved.set(old, i);
    });
    this.tracked = this.tracked.filter((t) => moved.has(t.query));
    for (const t of this.tracked) t.query = moved.get(t.query)!;
    this.lastAlertEnd = map.map((old) => (old >= 0 ? this.lastAlertEnd[old]! : -Infinity));
    this.since = map.map((old) => (old >= 0 ? this.since[old]! : fromSec));
    this.queries = next;
  }

  /** Wall clock of second 0 (set before the first frame, or by the first `add`). */
  setStart(wallMs: number): void {
    this.startWallMs ??= wallMs;
  }

  get startTime(): string {
    return new Date(this.startWallMs ?? Date.now()).toISOString();
  }

  /** Adds one frame; returns the window document it closed, if any. */
  add(timeSec: number, embed: Float32Array): WindowDocument | undefined {
    if (this.finished) throw new Error('window tracker already finished');
    this.setStart(Date.now());
    const W = this.opts.windowSec;
    const k = Math.floor(timeSec / W + 1e-9);
    let closed: WindowDocument | undefined;
    if (this.index >= 0 && k > this.index) {
      closed = this.document(false);
      this.windowFrames = 0;
    }
    if (k > this.index) {
      this.index = k;
      this.prune(k * W - this.opts.contextSec);
      this.applyQueries(k * W);
    }
    this.times.push(timeSec);
    this.embeds.push(embed);
    if (this.times.length > MAX_BUFFER_FRAMES) {
      this.times.shift();
      this.embeds.shift();
    }
    this.windowFrames += 1;
    this.lastEnd = timeSec;
    this.updateMoments();
    return closed;
  }

  /** The last document of the stream (`final: true`). */
  finish(reason: EndReason): WindowDocument {
    if (this.index < 0) this.index = 0;
    const doc = this.document(true, reason);
    this.finished = true;
    this.times = [];
    this.embeds = [];
    this.tracked = [];
    return doc;
  }

  /** Frames in the buffer (for metrics and tests). */
  get bufferedFrames(): number {
    return this.times.length;
  }

  private prune(fromSec: number): void {
    let drop = 0;
    while (drop < this.times.length && (this.times[drop] as number) < fromSec) drop++;
    if (drop > 0) {
      this.times.splice(0, drop);
      this.embeds.splice(0, drop);
    }
    const W = this.opts.windowSec;
    const ws = this.index * W;
    // A moment stays tracked while it can still be extended (it reaches into the buffer) or
    // must still be reported (it overlaps the current window or was reported open).
    this.tracked = this.tracked.filter((t) => t.endSec >= fromSec || t.endSec > ws || t.reportedOpen);
  }

  private track(from = 0): FrameTrack {
    const T = this.times.length - from;
    const D = this.s.dim;
    const flat = new Float32Array(T * D);
    for (let i = 0; i < T; i++) flat.set(this.embeds[from + i] as Float32Array, i * D);
    const times = Float64Array.from(this.times.slice(from));
    return { dim: D, count: T, embeds: flat, times, endSec: times[T - 1] ?? 0 };
  }

  private updateMoments(): void {
    if (this.queries.length === 0) return;
    const out = matchVideo(this.track(), this.queries, [], this.s.calibration, this.s.match);
    const gap = this.s.match.mergeGapSec;
    out.queries.forEach((q, qi) => {
      // Oldest first, so that a long moment claims its tracked twin before a later fragment.
      for (const m of [...q.moments].sort((a, b) => a.startSec - b.startSec)) {
        if (m.endSec <= (this.since[qi] as number)) continue;
        const t = this.tracked.find(
          (x) => x.query === qi && m.startSec <= x.endSec + gap && m.endSec >= x.startSec - gap,
        );
        if (t) {
          t.startSec = Math.min(t.startSec, m.startSec);
          t.endSec = Math.max(t.endSec, m.endSec);
          // Every tracked moment alerted or was suppressed: the cooldown runs from its end.
          this.lastAlertEnd[qi] = Math.max(this.lastAlertEnd[qi] as number, t.endSec);
          if (m.score >= t.score) t.peakSec = m.peakSec;
          t.score = Math.max(t.score, m.score);
          continue;
        }
        const known = this.tracked.some((x) => x.query === qi && x.endSec >= m.endSec);
        if (known) continue;
        this.open(qi, m);
      }
    });
  }

  private open(qi: number, m: { startSec: number; endSec: number; score: number; peakSec: number }): void {
    const q = this.queries[qi]!;
    const momentId = createHash('sha256')
      .update(
        canonicalJson({ streamId: this.s.streamId, start: this.startTime, query: q.id, at: m.startSec }),
      )
      .digest('hex')
      .slice(0, 16);
    this.tracked.push({ momentId, query: qi, ...m, reportedOpen: false });
    const quiet = m.startSec - (this.lastAlertEnd[qi] as number) < this.opts.alertCooldownSec;
    // The cooldown runs from the end of the last moment of this query that alerted, or that
    // was suppressed by it (a flickering object does not alert again and again).
    this.lastAlertEnd[qi] = m.endSec;
    if (!quiet)
      this.s.onOpen?.({ queryId: q.id, text: q.text, momentId, startSec: m.startSec, score: m.score });
  }

  private document(final: boolean, reason?: EndReason): WindowDocument {
    const W = this.opts.windowSec;
    const ws = this.index * W;
    const we = final
      ? Math.min(ws + W, Math.max(ws, this.windowFrames > 0 ? this.endOfLastFrame() : ws))
      : ws + W;
    const startMs = this.startWallMs ?? Date.now();
    let first = this.times.findIndex((t) => t >= ws);
    if (first < 0) first = this.times.length;
    const frames = this.times.length - first;
    // Window-only match for each query's window score; the buffer-wide one for captions.
    const own =
      frames > 0
        ? matchVideo(this.track(first), this.queries, [], this.s.calibration, this.s.match)
        : undefined;
    const all =
      this.s.captions.length > 0 && this.times.length > 0
        ? matchVideo(this.track(), [], this.s.captions, this.s.calibration, this.s.match)
        : undefined;
    const queries = this.queries.map((q, qi) => {
      const moments: LiveMoment[] = [];
      for (const t of this.tracked) {
        if (t.query !== qi) continue;
        if (!(t.endSec > ws && t.startSec < we) && !t.reportedOpen) continue;
        const open = !final && t.endSec >= we - 1e-6;
        moments.push({
          momentId: t.momentId,
          startSec: round(t.startSec),
          endSec: round(t.endSec),
          score: round(t.score),
          peakSec: round(t.peakSec),
          open,
        });
        t.reportedOpen = open;
      }
      moments.sort((a, b) => b.score - a.score || a.startSec - b.startSec);
      return {
        id: q.id,
        text: q.text,
        score: own?.queries[qi]?.score ?? 0,
        matched: moments.length > 0,
        moments,
      };
    });
    const captions = (all?.captions ?? [])
      .map((c) => ({ ...c, startSec: Math.max(c.startSec, ws), endSec: Math.min(c.endSec, we) }))
      .filter((c) => c.endSec > c.startSec)
      .map((c) => ({ ...c, startSec: round(c.startSec), endSec: round(c.endSec) }));
    const windowStartTime = new Date(startMs + ws * 1000).toISOString();
    const doc: WindowDocument = {
      schema: RESULT_SCHEMA,
      resultId: createHash('sha256')
        .update(
          canonicalJson({
            schema: RESULT_SCHEMA,
            streamId: this.s.streamId,
            windowStartTime,
            settings: {
              uri: this.s.uri,
              model: this.s.model.sha256,
              sampling: this.s.sampling,
              queries: this.queries.map((q) => ({ id: q.id, text: q.text })),
              captions: this.s.captions.map((c) => c.text),
              match: this.s.match,
              calibration: this.s.calibration,
              windowSec: W,
            },
          }),
        )
        .digest('hex'),
      videoId: this.s.streamId,
      streamId: this.s.streamId,
      live: true,
      stream: { startTime: new Date(startMs).toISOString() },
      window: { index: this.index, startSec: round(ws), endSec: round(we), startTime: windowStartTime },
      final,
      ...(reason ? { end: { reason } } : {}),
      source: { uri: this.s.uri, durationSec: round(we), ...this.source },
      model: this.s.model,
      sampling: { ...this.s.sampling, frames },
      queries,
      captions,
      timings: { decodeMs: 0, embedMs: 0, matchMs: 0, totalMs: 0 },
    };
    return doc;
  }

  private endOfLastFrame(): number {
    const n = this.times.length;
    if (n === 0) return this.lastEnd;
    const spacing = n > 1 ? (this.times[n - 1] as number) - (this.times[n - 2] as number) : 0;
    return this.lastEnd + spacing;
  }
}

function round(x: number): number {
  return Math.round(x * 1e4) / 1e4;
}
