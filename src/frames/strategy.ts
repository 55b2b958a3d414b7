/**
 * Decode only what is sampled: the choice of the cheapest decode that still yields the
 * requested samples (pure, unit-tested), and the parsing of a cheap keyframe probe (the
 * demuxer's packet flags, no decoding).
 *
 * Every mode keeps real decoded frames with their true pts (showinfo after -copyts): skipping
 * frames changes which frame of a 1/fps bucket is kept (the first one decoded), never the time
 * reported for it.
 */
import type { DecodeChoice, DecodeMode, ResolvedSampling } from './options.js';

export type { DecodeChoice, DecodeMode } from './options.js';

/**
 * - `all`: decode every frame (the `select` filter drops what the sampling does not keep);
 * - `noref`: skip frames no other frame references (`-skip_frame noref`; always the same pixels);
 * - `bidir`: skip every B-frame (`-skip_frame bidir`); H.264 encoders reference B-frames only
 *   from other B-frames, so the frames kept decode to the same pixels (checked on libx264);
 * - `keyframes`: decode keyframes only (`-skip_frame nokey`);
 * - `seek`: one accurate seek (`-ss`) and one decoded frame per sample.
 */
export const DECODE_MODES: readonly DecodeMode[] = ['all', 'noref', 'bidir', 'keyframes', 'seek'];

/** Keyframe spacing from the packet flags of (the start of) the stream. */
export interface KeyframeSpacing {
  /** keyframes seen */
  count: number;
  /** longest gap between two keyframes seen, seconds */
  maxGapSec: number;
  /** mean gap, seconds */
  meanGapSec: number;
}

/** Skip frames only when a sample is at least this many source frames apart. */
export const SKIP_MIN_FRAMES_PER_SAMPLE = 4;
/** Seek per sample only when samples are this many mean keyframe gaps apart... */
export const SEEK_MIN_GAPS_PER_SAMPLE = 4;
/** ...and there are at most this many samples (one ffmpeg start each). */
export const SEEK_MAX_SAMPLES = 2000;

export interface ChoiceInput {
  readonly sampling: ResolvedSampling;
  /** source frame rate; 0 when unknown */
  readonly fps: number;
  readonly codec: string;
  readonly durationSec: number;
  /** from the keyframe probe; undefined when it was not run or failed */
  readonly keyframes?: KeyframeSpacing | undefined;
}

/** Whether choosing for this input can use the keyframe probe (so whether to run it). */
export function wantsKeyframeProbe(i: Omit<ChoiceInput, 'keyframes'>): boolean {
  return i.sampling.strategy === 'fps' && i.fps > 0 && i.fps / i.sampling.fps >= SKIP_MIN_FRAMES_PER_SAMPLE;
}

/** The cheapest decode that yields the samples `sampling` asks for. */
export function chooseDecode(i: ChoiceInput): DecodeChoice {
  const s = i.sampling;
  if (s.strategy === 'keyframes') return { mode: 'keyframes', reason: 'keyframe sampling' };
  if (s.strategy === 'scene') return { mode: 'all', reason: 'scene scores compare consecutive frames' };
  if (!(i.fps > 0)) return { mode: 'all', reason: 'source frame rate unknown' };
  const interval = 1 / s.fps;
  const perSample = i.fps * interval;
  if (perSample < SKIP_MIN_FRAMES_PER_SAMPLE) {
    return { mode: 'all', reason: `a sample every ${fmt(perSample)} source frames` };
  }
  const k = i.keyframes;
  if (k && k.count >= 2) {
    // Every 1/fps bucket holds a keyframe: keyframes alone serve the sampling.
    if (k.maxGapSec <= interval + 1e-6) {
      return {
        mode: 'keyframes',
        reason: `keyframes at most ${fmt(k.maxGapSec)} s apart serve ${fmt(s.fps)} fps`,
      };
    }
    const samples = i.durationSec * s.fps;
    if (interval >= SEEK_MIN_GAPS_PER_SAMPLE * k.meanGapSec && samples <= SEEK_MAX_SAMPLES) {
      return {
        mode: 'seek',
        reason: `samples ${fmt(interval)} s apart, keyframes ${fmt(k.meanGapSec)} s apart on average`,
      };
    }
  }
  // Sequential decode, skipping what no kept frame needs.
  return i.codec === 'h264'
    ? { mode: 'bidir', reason: `a sample every ${fmt(perSample)} frames: B-frames skipped` }
    : { mode: 'noref', reason: `a sample every ${fmt(perSample)} frames: non-reference frames skipped` };
}

/** `-skip_frame` value of a mode, if any. */
export function skipFrameOption(mode: DecodeMode): string | undefined {
  switch (mode) {
    case 'noref':
      return 'noref';
    case 'bidir':
      return 'bidir';
    case 'keyframes':
      return 'nokey';
    default:
      return undefined;
  }
}

/**
 * Parses `ffprobe -show_entries packet=pts_time,flags -of csv=p=0` output (`1.500000,K__` per
 * packet, in decode order). Undefined when fewer than two keyframes were seen.
 */
export function parseKeyframeSpacing(csv: string): KeyframeSpacing | undefined {
  const times: number[] = [];
  for (const line of csv.split('\n')) {
    const [t, flags] = line.trim().split(',');
    if (flags === undefined || !flags.startsWith('K')) continue;
    const v = Number(t);
    if (Number.isFinite(v)) times.push(v);
  }
  if (times.length < 2) return undefined;
  times.sort((a, b) => a - b);
  let max = 0;
  for (let j = 1; j < times.length; j++) max = Math.max(max, (times[j] as number) - (times[j - 1] as number));
  const mean = ((times[times.length - 1] as number) - (times[0] as number)) / (times.length - 1);
  return { count: times.length, maxGapSec: max, meanGapSec: mean };
}

/** Seek targets, seconds from the start: the start of every 1/fps bucket before the end. */
export function seekTargets(fps: number, durationSec: number): number[] {
  const n = Math.max(1, Math.ceil(durationSec * fps - 1e-9));
  return Array.from({ length: n }, (_, k) => k / fps);
}

function fmt(x: number): string {
  return Number(x.toPrecision(3)).toString();
}
