/**
 * Pure builders for the ffmpeg command lines: the input options that confine ffmpeg to what
 * the source needs, and the decode filter graph (sampling, then scale + fit, then rgb24, then
 * the timestamp tap). No process is started here; unit tests check these strings.
 */
import type { MediaLimits, ResizeMode, ResolvedSampling } from './options.js';
import type { ProbeInfo } from './types.js';
import type { ResolvedSource } from './source.js';
import { type DecodeMode, skipFrameOption } from './strategy.js';
import { cudaFitFilters, cudaInputOptions } from './hwdecode.js';

/**
 * Demuxers ffmpeg may pick. Playlist and reference formats (hls, dash, concat, image2 sequences,
 * mov external references are off by default) are left out: they would open further files or
 * URLs that the source policy never saw. Audio-only formats stay in so that an audio file is
 * reported as having no video stream rather than as unreadable. http(s) sources add `hls`
 * (HTTP_DEMUXERS): every request it makes goes through the policy proxy.
 */
export const ALLOWED_DEMUXERS = [
  'mov', // mov,mp4,m4a,3gp,3g2,mj2
  'matroska', // matroska,webm
  'avi',
  'flv',
  'mpegts',
  'mpeg',
  'mpegvideo',
  'ogg',
  'asf',
  'ivf',
  'obu',
  'h264',
  'hevc',
  'm4v',
  'mxf',
  'nut',
  'dv',
  'gif',
  'yuv4mpegpipe',
  'wav',
  'mp3',
  'aac',
  'flac',
] as const;

/** Extra demuxers for http(s) sources only: HLS playlists, whose every fetch the proxy checks. */
export const HTTP_DEMUXERS = ['hls'] as const;

/**
 * Protocols per source kind. http: `httpproxy` is how ffmpeg tunnels https through the proxy
 * (CONNECT), `crypto` reads AES-128 HLS segments. rtsp: the RTSP demuxer's own transports.
 */
export const PROTOCOLS: Record<ResolvedSource['kind'], string> = {
  file: 'file',
  http: 'http,https,tcp,tls,crypto,httpproxy',
  rtsp: 'tcp,udp,rtp,tls',
};

const INPUT_PATTERN: Record<ResolvedSource['kind'], RegExp> = {
  file: /^file:\//,
  http: /^https?:\/\//,
  rtsp: /^rtsps?:\/\//,
};

/** How long ffprobe and ffmpeg analyse a real-time (rtsp) source before reading frames, in µs. */
export const LIVE_ANALYZE_US = 500_000;

/** Options placed before `-i` for both ffprobe and ffmpeg. */
export function sourceInputOptions(
  src: ResolvedSource,
  limits: Pick<MediaLimits, 'networkTimeoutMs'>,
): string[] {
  if (!INPUT_PATTERN[src.kind].test(src.input)) {
    throw new TypeError(`source input ${JSON.stringify(src.input)} does not match its kind '${src.kind}'`);
  }
  const demuxers: readonly string[] =
    src.kind === 'http'
      ? [...ALLOWED_DEMUXERS, ...HTTP_DEMUXERS]
      : src.kind === 'rtsp'
        ? ['rtsp']
        : ALLOWED_DEMUXERS;
  const opts = ['-protocol_whitelist', PROTOCOLS[src.kind], '-format_whitelist', demuxers.join(',')];
  if (src.kind === 'http') {
    opts.push('-rw_timeout', String(limits.networkTimeoutMs * 1000));
    if (src.proxy !== undefined) {
      if (!/^http:\/\/127\.0\.0\.1:\d+\/$/.test(src.proxy))
        throw new TypeError(`not a loopback proxy: ${src.proxy}`);
      opts.push('-http_proxy', src.proxy);
    }
  }
  if (src.kind === 'rtsp') {
    const transport = src.rtspTransport ?? 'tcp';
    opts.push('-rtsp_transport', transport, '-timeout', String(limits.networkTimeoutMs * 1000));
    // Over UDP, take packets from the server's address only.
    if (transport === 'udp') opts.push('-rtsp_flags', 'filter_src');
    // A camera plays in real time: ffprobe and ffmpeg each wait out their analysis window
    // (5 s by default) before the first frame. Half a second holds several frames and the
    // parameter sets, which is all an H.264/HEVC stream needs (docs/live.md).
    opts.push('-analyzeduration', String(LIVE_ANALYZE_US));
  }
  return opts;
}

/** Exact letterbox chain a model was trained on; do not reformat. */
export function letterboxFilters(w: number, h: number): string[] {
  return [
    `scale=${w}:${h}:force_original_aspect_ratio=decrease:flags=bicubic`,
    `pad=${w}:${h}:(ow-iw)/2:(oh-ih)/2:black`,
  ];
}

/** Scale + fit to the model size. */
export function fitFilters(mode: ResizeMode, w: number, h: number): string[] {
  switch (mode) {
    case 'crop':
      // Short side to the target, then the centred window (crop centres by default).
      return [`scale=${w}:${h}:force_original_aspect_ratio=increase:flags=bicubic`, `crop=${w}:${h}`];
    case 'letterbox':
      return letterboxFilters(w, h);
    case 'stretch':
      return [`scale=${w}:${h}:flags=bicubic`];
  }
}

/**
 * Makes pixels square by shrinking one axis by the sample aspect ratio (never enlarging), so
 * the fit works on the displayed shape. Only used when the probe saw non-square pixels, so the
 * common path keeps its exact chain.
 */
export const SQUARE_PIXELS_FILTERS: readonly string[] = [
  "scale=w='if(lt(sar,1),max(1,round(iw*sar)),iw)':h='if(gt(sar,1),max(1,round(ih/sar)),ih)':flags=bicubic",
  'setsar=1',
];

/** Bucket units added before rounding down in fps sampling (see samplingFilters). */
export const BUCKET_EPSILON = 1e-6;

/**
 * The `select` filter for a sampling strategy. ffmpeg runs with -copyts, so `t` is the raw pts
 * in seconds; `startSec` (the container's start time) turns it into time from the start of the
 * video, so fps buckets are counted as a player counts seconds.
 */
export function samplingFilters(s: ResolvedSampling, startSec = 0): string[] {
  switch (s.strategy) {
    case 'fps': {
      // First frame of every 1/fps-second bucket of source time: keeps real frames and their
      // real timestamps, never drifts, correct for variable frame rate.
      // BUCKET_EPSILON keeps a frame that sits exactly on a bucket boundary (k/fps) in bucket k
      // although pts * time_base lands a hair below it in floating point.
      const f = num(s.fps);
      const bucket = (v: string): string =>
        `floor(${startSec === 0 ? v : `(${v}-${num(startSec)})`}*${f}+${num(BUCKET_EPSILON)})`;
      return [`select='isnan(prev_selected_t)+gt(${bucket('t')},${bucket('prev_selected_t')})'`];
    }
    case 'keyframes':
      // The decoder skips non-key frames (-skip_frame nokey); this catches decoders that ignore it.
      return [`select='eq(key,1)'`];
    case 'scene':
      return [
        `select='isnan(prev_selected_t)+gt(scene,${num(s.threshold)})*gte(t-prev_selected_t,${num(s.minSpacingSec)})'`,
      ];
  }
}

/** A number as ffmpeg's expression parser reads it (no exponent notation). */
function num(x: number): string {
  if (!Number.isFinite(x)) throw new RangeError(`not a finite number: ${x}`);
  const s = x.toFixed(9).replace(/0+$/, '').replace(/\.$/, '');
  return s === '-0' ? '0' : s;
}

export interface DecodePlan {
  inputOptions: string[];
  filters: string[];
  outputOptions: string[];
  /** Name ffmpeg gives the timestamp tap in its log lines, e.g. `Parsed_showinfo_6`. */
  tapName: string;
  frameBytes: number;
}

export interface PlanSettings {
  width: number;
  height: number;
  resize: ResizeMode;
  sampling: ResolvedSampling;
  /** How much to decode (strategy.ts). Default: keyframes only for keyframe sampling, else all. */
  decode?: DecodeMode;
  /** `seek` mode: seconds from the start of the video of the one frame this run decodes. */
  seekSec?: number;
  /** ffmpeg decoder threads; 0 or absent: ffmpeg's own choice. */
  threads?: number;
  /** `cuda`: NVDEC decode with scale_cuda (hwdecode.ts); absent: the CPU. */
  hw?: 'cuda';
}

/** ffmpeg options and filter chain for one decode. */
export function buildDecodePlan(
  src: ResolvedSource,
  /** `streamIndex` undefined: the first video stream that is not a cover picture (`0:V:0`) */
  info: Pick<ProbeInfo, 'sampleAspectRatio' | 'startTimeSec'> & { streamIndex: number | undefined },
  settings: PlanSettings,
  limits: Pick<MediaLimits, 'networkTimeoutMs' | 'maxDurationSec'>,
): DecodePlan {
  const { width: w, height: h } = settings;
  const mode = settings.decode ?? (settings.sampling.strategy === 'keyframes' ? 'keyframes' : 'all');
  const skip = skipFrameOption(mode);
  if (mode === 'seek' && settings.seekSec === undefined) throw new TypeError('seek mode needs seekSec');
  const seek = mode === 'seek' ? (settings.seekSec as number) : undefined;
  const inputOptions = [
    '-nostdin',
    '-hide_banner',
    '-nostats',
    // `level` tags each line ([info], [error]) so errors can be told from frame reports.
    '-loglevel',
    'level+info',
    // Raw source pts everywhere. Without it ffmpeg subtracts the start time of the streams it
    // uses (not the container's), which moves frames of a video that starts after its audio.
    '-copyts',
    ...sourceInputOptions(src, limits),
    ...(skip ? ['-skip_frame', skip] : []),
    ...(settings.threads ? ['-threads', String(settings.threads)] : []),
    ...(settings.hw === 'cuda' ? cudaInputOptions() : []),
    // Accurate seek (ffmpeg's default when decoding): from the keyframe before, frames before
    // the target are decoded and dropped. The target counts from the container's start time.
    ...(seek !== undefined ? ['-ss', num(seek)] : []),
    '-t',
    num(limits.maxDurationSec),
  ];
  const filters = [
    ...(seek !== undefined
      ? // exactly one frame reaches the tap: the first at or after the target
        [`select='isnan(prev_selected_t)*gte(t,${num(info.startTimeSec + seek - BUCKET_EPSILON)})'`]
      : samplingFilters(settings.sampling, info.startTimeSec)),
    ...(settings.hw === 'cuda'
      ? cudaFitFilters(settings.resize, w, h)
      : [
          ...(info.sampleAspectRatio !== 1 ? SQUARE_PIXELS_FILTERS : []),
          ...fitFilters(settings.resize, w, h),
        ]),
    'format=rgb24',
    // Timestamp tap: showinfo logs each output frame's pts; in AV_TIME_BASE (microseconds)
    // so that the integer pts is exact without knowing the stream's time base.
    'settb=AVTB',
    'showinfo',
  ];
  const outputOptions = [
    '-map',
    // `V`: video that is not an attached picture, the probe's own rule (probe.ts).
    info.streamIndex === undefined ? '0:V:0' : `0:${info.streamIndex}`,
    '-an',
    '-sn',
    '-dn',
    '-fps_mode',
    'passthrough',
    ...(seek !== undefined ? ['-frames:v', '1'] : []),
    '-pix_fmt',
    'rgb24',
    '-f',
    'rawvideo',
  ];
  return {
    inputOptions,
    filters,
    outputOptions,
    tapName: `Parsed_showinfo_${filters.length - 1}`,
    frameBytes: w * h * 3,
  };
}
