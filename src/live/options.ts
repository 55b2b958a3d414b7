/**
 * Options of live streams (design.md 3.6): the process settings (env `CLIPSTREAM_*`, merged into
 * src/config.ts) and the per-stream run options, each a zod schema with its defaults.
 */
import { z } from 'zod';
import { ClipstreamError } from '../errors.js';

// Plain numbers, as in the other stages' options: src/config.ts reads them from strings.
const int = (min: number, max: number) => z.number().int().min(min).max(max);
const num = (min: number, max: number) => z.number().min(min).max(max);

/** Process settings of the live stage; src/config.ts spreads this shape into its schema. */
export const liveConfigShape = {
  /** Compacted topic of stream specs (key streamId); a tombstone stops a stream. */
  streamsTopic: z.string().min(1).max(249).default('clipstream.streams'),
  /** Topic for `clipstream.alert.v1`; alerts are off unless set. */
  alertsTopic: z.string().min(1).max(249).optional(),
  /** Most streams one worker runs; the rest are reported unassigned in its metrics. Default 16. */
  maxStreams: int(0, 10_000).default(16),
  /** Session timeout of the `<group>.streams` consumer group, in ms: how soon a dead worker's streams move. Default 30000. */
  streamsSessionTimeoutMs: int(6000, 300_000).default(30_000),
  /** A moment of a query that opens within this many seconds of the last alert does not alert again. Default 30. */
  alertCooldownSec: num(0, 86_400).default(30),
  /** A source that gives no frame for this many seconds is dead and is reconnected. Default 10. */
  streamStallSec: num(0.5, 3600).default(10),
  /** Failed connection attempts in a row after which a stream ends (`source-lost`). Default 5. */
  streamReconnects: int(0, 1000).default(5),
  /** Window length of a stream without its own `windowSec`, in seconds. Default 10. */
  windowSec: num(1, 3600).default(10),
  /**
   * Let streams ask for RTP over UDP (`rtspTransport: "udp"`). Off by default: over UDP the RTSP
   * server names the address packets go to, which the network policy cannot check. Default false.
   */
  allowRtspUdp: z.boolean().default(false),
} as const;

/** Environment variable of each live setting. */
export const LIVE_ENV_NAMES: Record<keyof typeof liveConfigShape, string> = {
  streamsTopic: 'CLIPSTREAM_STREAMS_TOPIC',
  alertsTopic: 'CLIPSTREAM_ALERTS_TOPIC',
  maxStreams: 'CLIPSTREAM_MAX_STREAMS',
  streamsSessionTimeoutMs: 'CLIPSTREAM_STREAMS_SESSION_TIMEOUT_MS',
  alertCooldownSec: 'CLIPSTREAM_ALERT_COOLDOWN_SEC',
  streamStallSec: 'CLIPSTREAM_STREAM_STALL_SEC',
  streamReconnects: 'CLIPSTREAM_STREAM_RECONNECTS',
  windowSec: 'CLIPSTREAM_WINDOW_SEC',
  allowRtspUdp: 'CLIPSTREAM_RTSP_UDP',
};

/** How one live source is read and reconnected. */
export const liveSourceOptionsSchema = z
  .object({
    /** No frame for this long (seconds) while waiting on ffmpeg: the connection is dead. @defaultValue 10 */
    stallSec: z.number().min(0.1).max(3600).default(10),
    /** Failed attempts in a row before the stream ends `source-lost`. @defaultValue 5 */
    reconnects: z.number().int().min(0).max(1000).default(5),
    /** First reconnect delay in ms; doubles per failure in a row, with jitter. @defaultValue 500 */
    backoffMs: z.number().int().min(0).max(600_000).default(500),
    /** Longest reconnect delay in ms. @defaultValue 30000 */
    backoffMaxMs: z.number().int().min(0).max(3_600_000).default(30_000),
  })
  .strict();

export type LiveSourceOptions = z.input<typeof liveSourceOptionsSchema>;
export type ResolvedLiveSourceOptions = z.output<typeof liveSourceOptionsSchema>;

/** How frames are grouped into windows and moments into alerts. */
export const windowOptionsSchema = z
  .object({
    /** Window length, in seconds of the stream timeline. @defaultValue 10 */
    windowSec: z.number().min(1).max(3600).default(10),
    /**
     * Seconds of frames before a window kept for matching it (smoothing, gaps and captions see
     * across the edge). The rolling buffer holds windowSec + contextSec. @defaultValue 5
     */
    contextSec: z.number().min(0).max(600).default(5),
    /** Seconds after an alert for a query in which a reopening moment does not alert. @defaultValue 30 */
    alertCooldownSec: z.number().min(0).max(86_400).default(30),
  })
  .strict();

export type WindowOptions = z.input<typeof windowOptionsSchema>;
export type ResolvedWindowOptions = z.output<typeof windowOptionsSchema>;

function parseWith<S extends z.ZodType>(schema: S, what: string, value: unknown): z.output<S> {
  const r = schema.safeParse(value ?? {});
  if (!r.success) {
    const detail = r.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');
    throw new ClipstreamError('CLIPSTREAM_BAD_CONFIG', `invalid ${what}: ${detail}`, { cause: r.error });
  }
  return Object.freeze(r.data) as z.output<S>;
}

export const parseLiveSourceOptions = (o: LiveSourceOptions | undefined): ResolvedLiveSourceOptions =>
  parseWith(liveSourceOptionsSchema, 'live source options', o);
export const parseWindowOptions = (o: WindowOptions | undefined): ResolvedWindowOptions =>
  parseWith(windowOptionsSchema, 'window options', o);
