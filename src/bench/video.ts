/**
 * The benchmark's test video, rendered in the run with ffmpeg's lavfi `testsrc2` source (moving
 * patterns, colour bars, a running counter) and encoded as H.264 the way a typical upload is:
 * libx264 `veryfast` (CABAC, B-frames), yuv420p, a keyframe every `gopSec` seconds.
 */
import { spawn } from 'node:child_process';
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { ClipstreamError } from '../errors.js';

export interface VideoSpec {
  readonly durationSec: number;
  readonly width: number;
  readonly height: number;
  readonly fps: number;
  /** Seconds between keyframes. */
  readonly gopSec: number;
}

export interface RenderedVideo extends VideoSpec {
  readonly path: string;
  readonly bytes: number;
  readonly codec: string;
  readonly renderMs: number;
}

export function renderArgs(spec: VideoSpec, out: string): string[] {
  const gop = String(Math.round(spec.gopSec * spec.fps));
  return [
    '-nostdin',
    '-hide_banner',
    '-loglevel',
    'error',
    '-f',
    'lavfi',
    '-i',
    `testsrc2=size=${spec.width}x${spec.height}:rate=${spec.fps}:duration=${spec.durationSec}`,
    '-c:v',
    'libx264',
    '-preset',
    'veryfast',
    '-crf',
    '23',
    '-pix_fmt',
    'yuv420p',
    '-g',
    gop,
    '-keyint_min',
    gop,
    '-sc_threshold',
    '0',
    '-movflags',
    '+faststart',
    '-y',
    out,
  ];
}

export async function renderTestVideo(
  ffmpegPath: string,
  dir: string,
  spec: VideoSpec,
  name = 'test.mp4',
): Promise<RenderedVideo> {
  const path = join(dir, name);
  const t0 = performance.now();
  await new Promise<void>((resolve, reject) => {
    const child = spawn(ffmpegPath, renderArgs(spec, path), { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    child.stderr.on('data', (d: Buffer) => {
      if (err.length < 4096) err += d.toString('utf8');
    });
    child.on('error', (e) =>
      reject(
        new ClipstreamError('CLIPSTREAM_FFMPEG_MISSING', `cannot run ffmpeg: ${e.message}`, { cause: e }),
      ),
    );
    child.on('close', (code) => {
      if (code === 0) return resolve();
      const line = err.trim().split('\n').pop() ?? `exit code ${code}`;
      reject(
        new ClipstreamError(
          'CLIPSTREAM_INTERNAL',
          `ffmpeg could not render the test video (needs libx264 and lavfi): ${line}`,
        ),
      );
    });
  });
  const { size } = await stat(path);
  return {
    ...spec,
    path,
    bytes: size,
    codec: 'h264 (libx264 veryfast, crf 23)',
    renderMs: performance.now() - t0,
  };
}
