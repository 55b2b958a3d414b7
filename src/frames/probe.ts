/**
 * Probing a source with ffprobe (JSON output, validated with zod) and checking it against the
 * media limits before any decoding.
 *
 * ffprobe is spawned directly rather than through fluent-ffmpeg's `ffprobe()`: that helper gives
 * no handle on the child, so it could be neither timed out nor aborted, and it buffers output
 * without bound.
 */
import { spawn } from 'node:child_process';
import { z } from 'zod';
import { ClipstreamError } from '../errors.js';
import { binaries } from './binaries.js';
import { sourceInputOptions } from './graph.js';
import { type MediaLimits, parseLimits } from './options.js';
import type { ResolvedSource } from './source.js';
import type { ProbeInfo } from './types.js';
import { type KeyframeSpacing, parseKeyframeSpacing } from './strategy.js';
import { KILL_GRACE_MS, StderrTail, classifyFfmpegFailure } from './process-util.js';

const MAX_PROBE_OUTPUT = 4 * 1024 * 1024;

const numeric = z.union([z.number(), z.string()]).optional();

const streamSchema = z.looseObject({
  index: z.number().int().nonnegative(),
  codec_type: z.string().optional(),
  codec_name: z.string().optional(),
  width: z.number().int().optional(),
  height: z.number().int().optional(),
  avg_frame_rate: z.string().optional(),
  r_frame_rate: z.string().optional(),
  sample_aspect_ratio: z.string().optional(),
  duration: numeric,
  disposition: z.looseObject({ attached_pic: z.number().optional() }).optional(),
  tags: z.record(z.string(), z.string()).optional(),
  side_data_list: z
    .array(z.looseObject({ side_data_type: z.string().optional(), rotation: numeric }))
    .optional(),
});

const probeOutputSchema = z.looseObject({
  streams: z.array(streamSchema).default([]),
  format: z
    .looseObject({
      format_name: z.string().optional(),
      start_time: numeric,
      duration: numeric,
      size: numeric,
    })
    .optional(),
});

export type FfprobeOutput = z.output<typeof probeOutputSchema>;

function finite(v: number | string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const n = typeof v === 'number' ? v : Number(v);
  return Number.isFinite(n) ? n : undefined;
}

/** `30000/1001` → 29.97; `0/0`, `N/A` → undefined. Also accepts `4:3` ratios. */
export function parseRatio(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const m = /^(-?\d+(?:\.\d+)?)(?:[/:](\d+(?:\.\d+)?))?$/.exec(text.trim());
  if (!m) return undefined;
  const n = Number(m[1]);
  const d = m[2] === undefined ? 1 : Number(m[2]);
  return d > 0 && n > 0 ? n / d : undefined;
}

/** Turns ffprobe's JSON into ProbeInfo. Throws CLIPSTREAM_PROBE_FAILED / CLIPSTREAM_NO_VIDEO_STREAM. */
export function probeInfoFromJson(json: unknown, src?: Pick<ResolvedSource, 'sizeBytes'>): ProbeInfo {
  const parsed = probeOutputSchema.safeParse(json);
  if (!parsed.success) {
    throw new ClipstreamError(
      'CLIPSTREAM_PROBE_FAILED',
      `unexpected ffprobe output: ${parsed.error.message}`,
    );
  }
  const { streams, format } = parsed.data;
  const video = streams.find((s) => s.codec_type === 'video' && s.disposition?.attached_pic !== 1);
  if (!video) {
    const kinds = streams.map((s) => s.codec_type ?? 'unknown');
    throw new ClipstreamError(
      'CLIPSTREAM_NO_VIDEO_STREAM',
      `source has no video stream (streams: ${kinds.length > 0 ? kinds.join(', ') : 'none'})`,
    );
  }
  let width = video.width ?? 0;
  let height = video.height ?? 0;
  if (width <= 0 || height <= 0) {
    throw new ClipstreamError('CLIPSTREAM_PROBE_FAILED', 'video stream has no frame size');
  }
  const rotationRaw =
    finite(video.side_data_list?.find((d) => d.side_data_type === 'Display Matrix')?.rotation) ??
    finite(video.tags?.rotate);
  let sar = parseRatio(video.sample_aspect_ratio) ?? 1;
  if (rotationRaw !== undefined && Math.abs(Math.round(rotationRaw / 90)) % 2 === 1) {
    // ffmpeg autorotates: a quarter turn swaps the axes and inverts the pixel aspect.
    [width, height] = [height, width];
    sar = 1 / sar;
  }
  const info: ProbeInfo = {
    durationSec: finite(format?.duration) ?? finite(video.duration) ?? 0,
    width,
    height,
    fps: parseRatio(video.avg_frame_rate) ?? parseRatio(video.r_frame_rate) ?? 0,
    startTimeSec: finite(format?.start_time) ?? 0,
    codec: video.codec_name ?? 'unknown',
    formatName: format?.format_name ?? 'unknown',
    streamIndex: video.index,
    sampleAspectRatio: sar,
  };
  if (rotationRaw !== undefined && rotationRaw !== 0) info.rotation = rotationRaw;
  const size = finite(format?.size) ?? src?.sizeBytes;
  if (size !== undefined) info.sizeBytes = size;
  return info;
}

/** Throws CLIPSTREAM_SOURCE_TOO_LARGE when the probe shows the source breaks a limit. */
export function checkLimits(info: ProbeInfo, limits: MediaLimits): void {
  const over = (what: string, value: number, limit: number, unit: string): never => {
    throw new ClipstreamError(
      'CLIPSTREAM_SOURCE_TOO_LARGE',
      `source ${what} ${value}${unit} exceeds the limit of ${limit}${unit}`,
    );
  };
  if (info.durationSec > limits.maxDurationSec)
    over('duration', info.durationSec, limits.maxDurationSec, ' s');
  if (info.width > limits.maxWidth) over('width', info.width, limits.maxWidth, ' px');
  if (info.height > limits.maxHeight) over('height', info.height, limits.maxHeight, ' px');
  if (info.sizeBytes !== undefined && info.sizeBytes > limits.maxFileBytes) {
    over('size', info.sizeBytes, limits.maxFileBytes, ' bytes');
  }
}

export interface ProbeOptions {
  signal?: AbortSignal;
  limits?: Partial<MediaLimits>;
  /**
   * Also read a local file's keyframe spacing (probeKeyframes) for the decode choice, in a
   * second ffprobe beside the first rather than after it. Local files only: over a network it
   * would read the stream ahead (a live playlist for the probe's whole window); the decoder
   * reads a remote source's later, once the probe has shown a finite duration.
   */
  keyframes?: boolean;
}

/**
 * Reads a source's container and first video stream. Fails with CLIPSTREAM_PROBE_FAILED (not
 * media), CLIPSTREAM_NO_VIDEO_STREAM, CLIPSTREAM_SOURCE_TOO_LARGE (a limit), CLIPSTREAM_ABORTED,
 * CLIPSTREAM_SOURCE_NOT_FOUND / CLIPSTREAM_SOURCE_UNAVAILABLE (network).
 */
export async function probe(src: ResolvedSource, opts: ProbeOptions = {}): Promise<ProbeInfo> {
  const limits = parseLimits(opts.limits);
  if (src.sizeBytes !== undefined && src.sizeBytes > limits.maxFileBytes) {
    throw new ClipstreamError(
      'CLIPSTREAM_SOURCE_TOO_LARGE',
      `source size ${src.sizeBytes} bytes exceeds the limit of ${limits.maxFileBytes} bytes`,
    );
  }
  if (opts.signal?.aborted) throw new ClipstreamError('CLIPSTREAM_ABORTED', 'probe aborted');
  const bin = await binaries();
  const args = [
    '-hide_banner',
    '-loglevel',
    'error',
    ...sourceInputOptions(src, limits),
    '-of',
    'json',
    '-show_format',
    '-show_streams',
    '-i',
    src.input,
  ];
  // The keyframe read is an optimisation: its failure leaves the keyframe modes out.
  const spacing =
    opts.keyframes === true && src.kind === 'file'
      ? probeKeyframes(src, { streamIndex: undefined }, opts).catch(() => undefined)
      : undefined;
  let stdout: string;
  try {
    stdout = await runProbe(bin.ffprobe, args, limits.probeTimeoutMs, opts.signal);
  } finally {
    // Never leave the second ffprobe behind (it ends within the probe's own limits).
    await spacing;
  }
  let json: unknown;
  try {
    json = JSON.parse(stdout);
  } catch (err) {
    throw new ClipstreamError('CLIPSTREAM_PROBE_FAILED', 'ffprobe printed invalid JSON', { cause: err });
  }
  const info = probeInfoFromJson(json, src);
  const keyframes = await spacing;
  if (keyframes) info.keyframes = keyframes;
  checkLimits(info, limits);
  return info;
}

/** Seconds of the stream start whose packet flags the keyframe probe reads. */
export const KEYFRAME_PROBE_SEC = 60;

/**
 * Keyframe spacing of the decoded stream from the demuxer's packet flags over its first
 * KEYFRAME_PROBE_SEC seconds: no decoding, a few milliseconds for a local file. Undefined when
 * fewer than two keyframes were seen. Fails as `probe` does.
 */
export async function probeKeyframes(
  src: ResolvedSource,
  /** `streamIndex` undefined: the first video stream that is not a cover picture (`V:0`), the probe's choice */
  info: { streamIndex: number | undefined },
  opts: ProbeOptions = {},
): Promise<KeyframeSpacing | undefined> {
  const limits = parseLimits(opts.limits);
  const bin = await binaries();
  const args = [
    '-hide_banner',
    '-loglevel',
    'error',
    ...sourceInputOptions(src, limits),
    '-select_streams',
    info.streamIndex === undefined ? 'V:0' : String(info.streamIndex),
    '-read_intervals',
    `%+${KEYFRAME_PROBE_SEC}`,
    '-show_entries',
    'packet=pts_time,flags',
    '-of',
    'csv=p=0',
    '-i',
    src.input,
  ];
  return parseKeyframeSpacing(await runProbe(bin.ffprobe, args, limits.probeTimeoutMs, opts.signal));
}

function runProbe(binary: string, args: string[], timeoutMs: number, signal?: AbortSignal): Promise<string> {
  return new Promise((resolveOut, reject) => {
    const child = spawn(binary, args, { stdio: ['ignore', 'pipe', 'pipe'], windowsHide: true });
    const chunks: Buffer[] = [];
    let size = 0;
    const tail = new StderrTail();
    let reason: 'timeout' | 'aborted' | 'output' | undefined;
    let killTimer: NodeJS.Timeout | undefined;
    const kill = (why: typeof reason): void => {
      if (reason !== undefined || child.exitCode !== null || child.signalCode !== null) return;
      reason = why;
      child.kill('SIGTERM');
      killTimer = setTimeout(() => child.kill('SIGKILL'), KILL_GRACE_MS);
    };
    const timer = setTimeout(() => kill('timeout'), timeoutMs);
    const onAbort = (): void => kill('aborted');
    signal?.addEventListener('abort', onAbort, { once: true });

    child.stdout.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_PROBE_OUTPUT) kill('output');
      else chunks.push(c);
    });
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (s: string) => tail.push(s));
    child.on('error', (err) => {
      cleanup();
      reject(
        new ClipstreamError('CLIPSTREAM_FFMPEG_MISSING', `cannot run ffprobe: ${err.message}`, {
          cause: err,
        }),
      );
    });
    child.on('close', (code) => {
      cleanup();
      if (reason === 'aborted') return reject(new ClipstreamError('CLIPSTREAM_ABORTED', 'probe aborted'));
      if (reason === 'timeout') {
        return reject(
          new ClipstreamError(
            'CLIPSTREAM_PROBE_FAILED',
            `ffprobe took longer than ${timeoutMs} ms and was killed`,
            {
              retryable: true,
            },
          ),
        );
      }
      if (reason === 'output') {
        return reject(new ClipstreamError('CLIPSTREAM_PROBE_FAILED', 'ffprobe printed too much output'));
      }
      if (code !== 0) {
        const line = tail.lastErrorLine() ?? `ffprobe exited with code ${String(code)}`;
        return reject(
          classifyFfmpegFailure('CLIPSTREAM_PROBE_FAILED', `cannot read source as media: ${line}`, line),
        );
      }
      resolveOut(Buffer.concat(chunks).toString('utf8'));
    });
    function cleanup(): void {
      clearTimeout(timer);
      clearTimeout(killTimer);
      signal?.removeEventListener('abort', onAbort);
    }
  });
}
