/**
 * Test media: make small clips with ffmpeg's lavfi sources in a temporary folder, read their
 * ground truth back with ffprobe, and look for leftover ffmpeg processes. Tests only; nothing
 * here ever sees untrusted input.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A fresh folder under the system temp dir; remove it with `removeTempDir`. */
export function makeTempDir(prefix = 'clipstream-test-'): Promise<string> {
  return mkdtemp(join(tmpdir(), prefix));
}

export function removeTempDir(dir: string): Promise<void> {
  return rm(dir, { recursive: true, force: true });
}

function run(binary: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(binary, args, { maxBuffer: 64 * 1024 * 1024, timeout: 120_000 }, (err, stdout, stderr) => {
      if (err)
        reject(
          new Error(`${binary} ${args.join(' ')} failed: ${stderr.trim().split('\n').slice(-3).join(' | ')}`),
        );
      else resolve(stdout);
    });
  });
}

const ffmpegBin = (): string => process.env.FFMPEG_PATH ?? 'ffmpeg';
const ffprobeBin = (): string => process.env.FFPROBE_PATH ?? 'ffprobe';

/** Runs ffmpeg quietly, overwriting outputs. */
export function ffmpeg(args: string[]): Promise<string> {
  return run(ffmpegBin(), ['-nostdin', '-hide_banner', '-loglevel', 'error', '-y', ...args]);
}

export interface ClipOptions {
  durationSec?: number;
  fps?: number;
  width?: number;
  height?: number;
  /** Fixed keyframe interval in frames (no extra keyframes at scene cuts). */
  gop?: number;
  /** Shift every timestamp by this many seconds (`-output_ts_offset`). */
  startOffsetSec?: number;
  /** Add a sine audio track. */
  audio?: boolean;
  /** Extra output options, e.g. ['-movflags', '+faststart']. */
  extra?: string[];
}

/** An H.264 test pattern clip (testsrc2), constant frame rate. */
export async function makeClip(path: string, o: ClipOptions = {}): Promise<string> {
  const { durationSec = 2, fps = 30, width = 160, height = 120 } = o;
  const args = ['-f', 'lavfi', '-i', `testsrc2=size=${width}x${height}:rate=${fps}:duration=${durationSec}`];
  if (o.audio) args.push('-f', 'lavfi', '-i', `sine=duration=${durationSec}`);
  args.push('-c:v', 'libx264', '-preset', 'ultrafast', '-pix_fmt', 'yuv420p');
  if (o.gop !== undefined) args.push('-g', String(o.gop), '-keyint_min', String(o.gop), '-sc_threshold', '0');
  if (o.audio) args.push('-c:a', 'aac');
  if (o.startOffsetSec !== undefined) args.push('-output_ts_offset', String(o.startOffsetSec));
  args.push(...(o.extra ?? []), path);
  await ffmpeg(args);
  return path;
}

/**
 * A variable-frame-rate clip: `segments` of [seconds, fps] played back to back, each frame
 * keeping its own timestamp (setpts), written with passthrough timing.
 */
export async function makeVfrClip(
  path: string,
  segments: Array<[number, number]>,
  extra: string[] = [],
): Promise<string> {
  const rate = Math.max(...segments.map(([, f]) => f));
  // Frame N of the source gets the time of the N-th frame of the segment plan.
  let n0 = 0;
  let start = 0;
  const parts: string[] = [];
  for (const [sec, fps] of segments) {
    const n = Math.round(sec * fps);
    parts.push(`if(lt(N,${n0 + n}),${start}+(N-${n0})/${fps},`);
    n0 += n;
    start += sec;
  }
  const expr = parts.join('') + `${start}` + ')'.repeat(parts.length);
  await ffmpeg([
    '-f',
    'lavfi',
    '-i',
    `testsrc2=size=160x120:rate=${rate},trim=end_frame=${n0},setpts='(${expr})/TB'`,
    '-c:v',
    'libx264',
    '-preset',
    'ultrafast',
    '-pix_fmt',
    'yuv420p',
    '-fps_mode',
    'passthrough',
    '-video_track_timescale',
    '90000',
    ...extra,
    path,
  ]);
  return path;
}

/** An audio-only file (AAC in MP4). */
export async function makeAudioOnly(path: string, durationSec = 1): Promise<string> {
  await ffmpeg(['-f', 'lavfi', '-i', `sine=duration=${durationSec}`, '-c:a', 'aac', path]);
  return path;
}

/** A file that is not media at all. */
export async function makeNotMedia(path: string): Promise<string> {
  await writeFile(path, 'this is not a video\n'.repeat(200));
  return path;
}

export interface TruthFrame {
  /** Seconds from the container's start time. */
  timeSec: number;
  /** Raw pts in seconds, computed as ffmpeg's filters compute it (pts * time base, in doubles). */
  rawSec: number;
  key: boolean;
}

export interface FramesTruth {
  /** The container's start time in seconds. */
  startSec: number;
  frames: TruthFrame[];
}

/** Every decoded video frame's time and key flag, via ffprobe (integer pts and the time base). */
export async function probeFrames(path: string): Promise<FramesTruth> {
  const out = await run(ffprobeBin(), [
    '-v',
    'error',
    '-select_streams',
    'V:0',
    '-show_entries',
    'frame=best_effort_timestamp,key_frame:stream=time_base:format=start_time',
    '-of',
    'json',
    path,
  ]);
  const doc = JSON.parse(out) as {
    frames: Array<{ best_effort_timestamp: number; key_frame: number }>;
    streams: Array<{ time_base: string }>;
    format: { start_time?: string };
  };
  const [num, den] = (doc.streams[0]?.time_base ?? '1/1').split('/').map(Number) as [number, number];
  const tb = num / den;
  const startSec = Number(doc.format.start_time ?? 0);
  return {
    startSec,
    frames: doc.frames.map((f) => {
      const rawSec = f.best_effort_timestamp * tb;
      return { rawSec, timeSec: rawSec - startSec, key: f.key_frame === 1 };
    }),
  };
}

/**
 * Which frame times `fps` sampling must pick: the first frame of each 1/fps-second bucket,
 * with the bucket computed the way the filter graph computes it.
 */
export function expectedFpsSelection(truth: FramesTruth, fps: number, epsilon = 1e-6): number[] {
  const out: number[] = [];
  let last: number | undefined;
  for (const f of truth.frames) {
    const x = truth.startSec === 0 ? f.rawSec : f.rawSec - truth.startSec;
    const bucket = Math.floor(x * fps + epsilon);
    if (last === undefined || bucket > last) {
      out.push(f.timeSec);
      last = bucket;
    }
  }
  return out;
}

/**
 * Pids of live ffmpeg (or ffprobe) processes whose command line mentions `needle` (Linux /proc). A zombie has
 * an empty command line, so check pids found earlier with `processExists` to catch those.
 */
export async function ffmpegPids(needle: string, binary: 'ffmpeg' | 'ffprobe' = 'ffmpeg'): Promise<number[]> {
  const pids: number[] = [];
  for (const name of await readdir('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const cmdline = await readFile(`/proc/${name}/cmdline`, 'utf8');
      const argv0 = cmdline.split('\0')[0] ?? '';
      if (argv0.endsWith(binary) && cmdline.includes(needle)) pids.push(Number(name));
    } catch {
      // gone while we looked
    }
  }
  return pids;
}

/** True while the process exists (zombies included: they still hold a pid until reaped). */
export async function processExists(pid: number): Promise<boolean> {
  try {
    await readFile(`/proc/${pid}/stat`, 'utf8');
    return true;
  } catch {
    return false;
  }
}

/** Bytes ffmpeg has written so far (/proc/PID/io wchar), or undefined when it is gone. */
export async function bytesWritten(pid: number): Promise<number | undefined> {
  try {
    const io = await readFile(`/proc/${pid}/io`, 'utf8');
    const m = /wchar:\s*(\d+)/.exec(io);
    return m ? Number(m[1]) : undefined;
  } catch {
    return undefined;
  }
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
