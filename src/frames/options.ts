/**
 * Options of the frames stage: zod schemas, defaults and the inferred types. Everything a caller
 * passes is parsed here once per call; a bad value fails with CLIPSTREAM_BAD_CONFIG naming the
 * field.
 */
import { z } from 'zod';
import { ClipstreamError } from '../errors.js';

/** Resource limits for one source. Checked from the probe before decoding, and while decoding. */
export const mediaLimitsSchema = z
  .object({
    /** Longest accepted source, in seconds. Also passed to ffmpeg as `-t`. @defaultValue 10800 (3 h) */
    maxDurationSec: z.number().positive().default(10_800),
    /** Widest accepted frame, in pixels (after autorotation). @defaultValue 7680 */
    maxWidth: z.number().int().positive().default(7680),
    /** Tallest accepted frame, in pixels (after autorotation). @defaultValue 4320 */
    maxHeight: z.number().int().positive().default(4320),
    /** Largest accepted source, in bytes, when the size is known. @defaultValue 8 GiB */
    maxFileBytes: z
      .number()
      .int()
      .positive()
      .default(8 * 1024 ** 3),
    /** Most frames one decode may yield. @defaultValue 50000 */
    maxFrames: z.number().int().positive().default(50_000),
    /**
     * Decode time limit, in milliseconds. The clock runs only while the generator waits for
     * ffmpeg, not while the consumer holds a frame, so a slow consumer never trips it.
     * @defaultValue 600000 (10 min)
     */
    timeoutMs: z.number().int().positive().default(600_000),
    /** Probe time limit (ffprobe wall clock), in milliseconds. @defaultValue 30000 */
    probeTimeoutMs: z.number().int().positive().default(30_000),
    /** HTTP(S) sources: longest stall of one network read or write, in milliseconds. @defaultValue 15000 */
    networkTimeoutMs: z.number().int().positive().default(15_000),
    /**
     * HTTP(S) sources: most bytes one video may move through the policy proxy (all requests:
     * redirects, playlists, segments, keys, both directions). @defaultValue 8 GiB
     */
    networkMaxBytes: z
      .number()
      .int()
      .positive()
      .default(8 * 1024 ** 3),
    /** HTTP(S) sources: wall-clock life of one video's proxy session, in ms. @defaultValue 10800000 (3 h) */
    networkMaxMs: z.number().int().positive().default(10_800_000),
  })
  .strict();

export type MediaLimits = z.output<typeof mediaLimitsSchema>;

/** Highest sampling rate anyone may ask for (event, CLI, stream spec), in frames per second. */
export const MAX_SAMPLING_FPS = 120;

/**
 * How frames are chosen: the one sampling schema, used by the frames stage, the video event
 * (`sampling`), the CLI (`--fps`, `--sampling`) and the stream spec. Unknown fields are dropped
 * (events may carry extras); defaults are filled in. Default: `{ strategy: 'fps', fps: 1 }`.
 */
export const samplingSchema = z.discriminatedUnion('strategy', [
  z.object({
    strategy: z.literal('fps'),
    /** Frames per second of source time: the first frame of every 1/fps-second bucket. @defaultValue 1 */
    fps: z.number().positive().max(MAX_SAMPLING_FPS).default(1),
  }),
  z.object({ strategy: z.literal('keyframes') }),
  z.object({
    strategy: z.literal('scene'),
    /** ffmpeg scene-change score (0..1) a frame must exceed. @defaultValue 0.3 */
    threshold: z.number().gt(0).lt(1).default(0.3),
    /** Least time between two selected frames, in seconds. @defaultValue 0.5 */
    minSpacingSec: z.number().min(0).max(3600).default(0.5),
  }),
]);

/** Sampling as callers write it (scene fields optional). */
export type Sampling = z.input<typeof samplingSchema>;
/** Sampling with defaults applied. */
export type ResolvedSampling = z.output<typeof samplingSchema>;

export const DEFAULT_SAMPLING: ResolvedSampling = Object.freeze({ strategy: 'fps', fps: 1 });

export const RESIZE_MODES = ['crop', 'letterbox', 'stretch'] as const;
export type ResizeMode = (typeof RESIZE_MODES)[number];

const decodeSettingsSchema = z
  .object({
    /** Output frame width, in pixels (the model's input width). */
    width: z.number().int().min(1).max(4096),
    /** Output frame height, in pixels (the model's input height). */
    height: z.number().int().min(1).max(4096),
    /**
     * `crop`: scale so the short side fits, then centre-crop (CLIP's preprocessing);
     * `letterbox`: fit inside and pad with black; `stretch`: scale to exactly width x height.
     */
    resize: z.enum(RESIZE_MODES),
    sampling: samplingSchema.default(DEFAULT_SAMPLING),
  })
  .strict();

export type DecodeSettings = z.output<typeof decodeSettingsSchema>;

/** How much of the video ffmpeg decodes (strategy.ts explains each mode). */
export type DecodeMode = 'all' | 'noref' | 'bidir' | 'keyframes' | 'seek';

export interface DecodeChoice {
  mode: DecodeMode;
  /** one line: why this mode */
  reason: string;
  /** ffmpeg was started before the probe answered, with the command the probe then confirmed (decode.ts) */
  startedBeforeProbe?: boolean;
}

/** GPU decode: `auto` when CUDA is present, `cuda` wherever the source allows, `cpu` never. */
export type HwaccelSetting = 'auto' | 'cuda' | 'cpu';

export interface DecodeOptions {
  /** Output frame width, in pixels. */
  width: number;
  /** Output frame height, in pixels. */
  height: number;
  resize: ResizeMode;
  /** Default: `{ strategy: 'fps', fps: 1 }`. */
  sampling?: Sampling;
  /** Aborting kills ffmpeg; the generator then throws CLIPSTREAM_ABORTED. */
  signal?: AbortSignal;
  limits?: Partial<MediaLimits>;
  /**
   * How much to decode: `auto` (default) picks the cheapest mode that yields the samples
   * (strategy.ts `chooseDecode`); a mode forces it (benchmarks, evaluation).
   */
  decode?: 'auto' | DecodeMode;
  /** ffmpeg decoder threads (`-threads`); default from the CPU budget (src/budget.ts); 0 = ffmpeg's choice. */
  threads?: number;
  /**
   * GPU decode: `auto` (default) uses NVDEC when ffmpeg and the machine have CUDA, `cuda` wherever
   * the source allows, `cpu` never (hwdecode.ts).
   */
  hwaccel?: HwaccelSetting;
  /** One-line notices (the GPU-decode fallback), e.g. a logger's `info`. */
  onNotice?: (line: string) => void;
  /** Told which decode mode was chosen and why, before the first frame. */
  onDecodeChoice?: (choice: DecodeChoice) => void;
}

function badConfig(what: string, err: z.ZodError): ClipstreamError {
  const detail = err.issues
    .map((i) => `${i.path.length > 0 ? i.path.join('.') : '(root)'}: ${i.message}`)
    .join('; ');
  return new ClipstreamError('CLIPSTREAM_BAD_CONFIG', `invalid ${what}: ${detail}`, { cause: err });
}

export function parseLimits(limits: Partial<MediaLimits> | undefined): Readonly<MediaLimits> {
  const r = mediaLimitsSchema.safeParse(limits ?? {});
  if (!r.success) throw badConfig('media limits', r.error);
  return Object.freeze(r.data);
}

export function parseDecodeSettings(opts: DecodeOptions): Readonly<DecodeSettings> {
  const {
    signal: _signal,
    limits: _limits,
    decode: _decode,
    onDecodeChoice: _on,
    threads: _t,
    hwaccel: _h,
    onNotice: _n,
    ...rest
  } = opts;
  const r = decodeSettingsSchema.safeParse(rest);
  if (!r.success) throw badConfig('decode options', r.error);
  return Object.freeze(r.data);
}

export function parseSampling(sampling: Sampling): ResolvedSampling {
  const r = samplingSchema.safeParse(sampling);
  if (!r.success) throw badConfig('sampling', r.error);
  return r.data;
}
