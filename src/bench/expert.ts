/**
 * The script an expert would write instead of clipstream (design.md 6): ffmpeg samples, scales
 * and centre-crops in its own filter graph (`fps=N,scale,crop`, or `-skip_frame nokey` for
 * keyframes) into rgb24 on a pipe; then ONNX Runtime, created with its plain default session
 * options, embeds the frames in batches of 32; one stage after the other. Same video, same model
 * file (the pack's own `image.onnx`, which takes uint8 NHWC and normalises inside), so the only
 * differences left are clipstream's own.
 */
import { spawn } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import * as ort from 'onnxruntime-node';
import { ClipstreamError } from '../errors.js';
import { perSecond } from './measure.js';

export const EXPERT_BATCH = 32;

export interface ExpertSetup {
  readonly ffmpeg: string;
  /** the pack's image encoder file */
  readonly imageModel: string;
  readonly inputName: string;
  readonly width: number;
  readonly height: number;
}

export type ExpertSampling = { strategy: 'fps'; fps: number } | { strategy: 'keyframes' };

export interface ExpertResult {
  /** `node`: onnxruntime-node in this process */
  runtime: 'node';
  videos: number;
  frames: number;
  wallMs: number;
  framesPerSec: number;
  decodeMs: number;
  embedMs: number;
}

/** The ffmpeg command line of the script (the part an expert gets right). */
export function expertFfmpegArgs(path: string, s: ExpertSampling, w: number, h: number): string[] {
  const fit = `scale=${w}:${h}:force_original_aspect_ratio=increase,crop=${w}:${h}`;
  return [
    '-nostdin',
    '-hide_banner',
    '-loglevel',
    'error',
    ...(s.strategy === 'keyframes' ? ['-skip_frame', 'nokey'] : []),
    '-i',
    path,
    '-an',
    '-vf',
    s.strategy === 'fps' ? `fps=${s.fps},${fit}` : fit,
    ...(s.strategy === 'keyframes' ? ['-fps_mode', 'passthrough'] : []),
    '-f',
    'rawvideo',
    '-pix_fmt',
    'rgb24',
    'pipe:1',
  ];
}

async function decodeAll(ffmpeg: string, args: string[], signal?: AbortSignal): Promise<Buffer> {
  const child = spawn(ffmpeg, args, { stdio: ['ignore', 'pipe', 'pipe'], ...(signal ? { signal } : {}) });
  const chunks: Buffer[] = [];
  let err = '';
  child.stdout.on('data', (d: Buffer) => chunks.push(d));
  child.stderr.on('data', (d: Buffer) => {
    if (err.length < 4096) err += d.toString('utf8');
  });
  const code = await new Promise<number | null>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', resolve);
  });
  if (code !== 0) {
    const line = err.trim().split('\n').pop() ?? `exit code ${code}`;
    throw new ClipstreamError('CLIPSTREAM_DECODE_FAILED', `expert script: ffmpeg failed: ${line}`);
  }
  return Buffer.concat(chunks);
}

export interface ExpertRunner {
  /** Runs the script on each path in turn (one video after another, as the script would). */
  run(paths: readonly string[], sampling: ExpertSampling, signal?: AbortSignal): Promise<ExpertResult>;
  close(): Promise<void>;
}

export async function openExpert(s: ExpertSetup): Promise<ExpertRunner> {
  // Plain default session options, as the script's author would write it.
  const session = await ort.InferenceSession.create(s.imageModel);
  const frameBytes = s.width * s.height * 3;
  const tensor = (buf: Buffer, n: number) =>
    new ort.Tensor('uint8', new Uint8Array(buf.buffer, buf.byteOffset, n * frameBytes), [
      n,
      s.height,
      s.width,
      3,
    ]);
  // One untimed batch so that the first timed run does not pay for kernel selection.
  await session.run({ [s.inputName]: tensor(Buffer.alloc(frameBytes * 2), 2) });
  let released: Promise<void> | undefined;
  return {
    async run(paths, sampling, signal) {
      let frames = 0;
      let decodeMs = 0;
      let embedMs = 0;
      const t0 = performance.now();
      for (const path of paths) {
        const t1 = performance.now();
        const raw = await decodeAll(s.ffmpeg, expertFfmpegArgs(path, sampling, s.width, s.height), signal);
        const t2 = performance.now();
        decodeMs += t2 - t1;
        const n = Math.floor(raw.length / frameBytes);
        for (let i = 0; i < n; i += EXPERT_BATCH) {
          const b = Math.min(EXPERT_BATCH, n - i);
          await session.run({ [s.inputName]: tensor(raw.subarray(i * frameBytes), b) });
        }
        embedMs += performance.now() - t2;
        frames += n;
      }
      const wallMs = performance.now() - t0;
      return {
        runtime: 'node',
        videos: paths.length,
        frames,
        wallMs,
        framesPerSec: perSecond(frames, wallMs),
        decodeMs,
        embedMs,
      };
    },
    close: () => (released ??= session.release()),
  };
}
