/**
 * A straightforward reference pipeline, the way a first version is usually written: ffmpeg
 * decodes every frame at full resolution to rgb24, JavaScript keeps the frames the sampling
 * wants, resizes and centre-crops them (bilinear) and normalises each pixel into a float32 NCHW
 * tensor, and the model runs one frame at a time; no stage overlaps another. Same video, same
 * model weights, same runtime settings as the real pipeline.
 */
import { spawn } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { ClipstreamError } from '../errors.js';
import { perSecond } from './measure.js';

export interface ReferenceResult {
  description: string;
  /** frames ffmpeg decoded and converted (all of them) */
  decodedFrames: number;
  /** frames sampled and embedded */
  frames: number;
  wallMs: number;
  framesPerSec: number;
  /** rounds measured, when alternated with another figure (this is the median round) */
  runs?: number;
  /** frames/s of every round */
  framesPerSecRuns?: number[];
  /** where the time went: decode + pipe, JavaScript resize and normalise, model */
  breakdown: { decodeMs: number; preprocessMs: number; embedMs: number };
}

export interface Normalisation {
  readonly mean: readonly number[];
  readonly std: readonly number[];
}

/**
 * Resizes an rgb24 frame so that it covers `outW x outH` and takes the centred window, bilinear,
 * pixel by pixel. With `norm`, writes float32 NCHW `(v/255 - mean)/std`; without, uint8 NHWC.
 */
export function resizeCrop(
  src: Uint8Array,
  w0: number,
  h0: number,
  outW: number,
  outH: number,
  out: Float32Array | Uint8Array,
  norm?: Normalisation,
): void {
  const scale = Math.max(outW / w0, outH / h0);
  const ox = (w0 * scale - outW) / 2;
  const oy = (h0 * scale - outH) / 2;
  const plane = outW * outH;
  for (let y = 0; y < outH; y++) {
    const sy = Math.min(Math.max((y + oy + 0.5) / scale - 0.5, 0), h0 - 1);
    const y0 = Math.floor(sy);
    const y1 = Math.min(y0 + 1, h0 - 1);
    const fy = sy - y0;
    for (let x = 0; x < outW; x++) {
      const sx = Math.min(Math.max((x + ox + 0.5) / scale - 0.5, 0), w0 - 1);
      const x0 = Math.floor(sx);
      const x1 = Math.min(x0 + 1, w0 - 1);
      const fx = sx - x0;
      for (let c = 0; c < 3; c++) {
        const a = src[(y0 * w0 + x0) * 3 + c] as number;
        const b = src[(y0 * w0 + x1) * 3 + c] as number;
        const d = src[(y1 * w0 + x0) * 3 + c] as number;
        const e = src[(y1 * w0 + x1) * 3 + c] as number;
        const v = (a * (1 - fx) + b * fx) * (1 - fy) + (d * (1 - fx) + e * fx) * fy;
        if (norm)
          out[c * plane + y * outW + x] = (v / 255 - (norm.mean[c] as number)) / (norm.std[c] as number);
        else out[(y * outW + x) * 3 + c] = Math.round(v);
      }
    }
  }
}

export interface ReferenceSetup {
  readonly ffmpeg: string;
  readonly path: string;
  readonly width: number;
  readonly height: number;
  /** the source frame rate (constant), to time frames by their index */
  readonly fps: number;
  /** sampled frames per second, first frame of each 1/fps bucket as the real pipeline */
  readonly sampleFps: number;
  /** model input size */
  readonly outWidth: number;
  readonly outHeight: number;
  /** float32 NCHW input normalised in JavaScript; absent: uint8 NHWC (a pack's own graph) */
  readonly norm?: Normalisation;
  /** runs the model on one preprocessed frame */
  readonly embedOne: (pixels: Float32Array | Uint8Array) => Promise<unknown>;
}

export async function referencePipeline(s: ReferenceSetup, signal?: AbortSignal): Promise<ReferenceResult> {
  const frameBytes = s.width * s.height * 3;
  const child = spawn(
    s.ffmpeg,
    [
      '-nostdin',
      '-hide_banner',
      '-loglevel',
      'error',
      '-i',
      s.path,
      '-an',
      '-f',
      'rawvideo',
      '-pix_fmt',
      'rgb24',
      'pipe:1',
    ],
    { stdio: ['ignore', 'pipe', 'pipe'], ...(signal ? { signal } : {}) },
  );
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => {
    if (stderr.length < 4096) stderr += d.toString('utf8');
  });
  const exited = new Promise<number | null>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => resolve(code));
  });
  exited.catch(() => undefined);

  const frame = Buffer.allocUnsafe(frameBytes);
  const pixels = s.norm
    ? new Float32Array(3 * s.outWidth * s.outHeight)
    : new Uint8Array(3 * s.outWidth * s.outHeight);
  let filled = 0;
  let decoded = 0;
  let sampled = 0;
  let lastBucket = -1;
  let decodeMs = 0;
  let preprocessMs = 0;
  let embedMs = 0;
  const t0 = performance.now();
  let mark = t0;
  for await (const chunk of child.stdout as AsyncIterable<Buffer>) {
    let off = 0;
    while (off < chunk.length) {
      const n = Math.min(frameBytes - filled, chunk.length - off);
      chunk.copy(frame, filled, off, off + n);
      filled += n;
      off += n;
      if (filled < frameBytes) break;
      filled = 0;
      const bucket = Math.floor(((decoded + 1e-9) / s.fps) * s.sampleFps);
      decoded++;
      if (bucket <= lastBucket) continue;
      lastBucket = bucket;
      const t1 = performance.now();
      decodeMs += t1 - mark;
      resizeCrop(frame, s.width, s.height, s.outWidth, s.outHeight, pixels, s.norm);
      const t2 = performance.now();
      preprocessMs += t2 - t1;
      await s.embedOne(pixels);
      mark = performance.now();
      embedMs += mark - t2;
      sampled++;
    }
  }
  const code = await exited;
  decodeMs += performance.now() - mark;
  if (code !== 0) {
    const line = stderr.trim().split('\n').pop() ?? `exit code ${code}`;
    throw new ClipstreamError('CLIPSTREAM_DECODE_FAILED', `reference pipeline: ffmpeg failed: ${line}`);
  }
  const wallMs = performance.now() - t0;
  return {
    description:
      'ffmpeg decodes every frame at full size to rgb24; JavaScript samples, resizes + crops (bilinear) and ' +
      (s.norm
        ? 'normalises each pixel into float32 NCHW'
        : 'packs uint8 NHWC (the pack normalises in its graph)') +
      '; batch size 1; no overlap',
    decodedFrames: decoded,
    frames: sampled,
    wallMs,
    framesPerSec: perSecond(sampled, wallMs),
    breakdown: { decodeMs, preprocessMs, embedMs },
  };
}
