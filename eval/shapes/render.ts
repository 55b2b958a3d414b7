/**
 * Rendering a shapes-world VideoSpec to H.264 MP4: frames are drawn one at a time in JS and
 * streamed into ffmpeg's stdin; the stream pulls a frame only when ffmpeg has taken the previous
 * ones (a few frames in flight at most), so memory stays flat whatever the video's length.
 */
import { unlink } from 'node:fs/promises';
import { Readable } from 'node:stream';
import ffmpeg from 'fluent-ffmpeg';
import { ClipstreamError } from '../../src/errors.js';
import { checkFfmpeg } from '../../src/frames/index.js';
import { drawFrame } from './draw.js';
import { type VideoSpec, sceneFrames, specViolations } from './world.js';

export interface RenderOptions {
  signal?: AbortSignal;
  /** x264 quality (lower is better). @defaultValue 18 */
  crf?: number;
  /**
   * x264 speed preset. ultrafast keeps a 30 s 640x360 clip to a few seconds on two cores
   * (noise backgrounds are incompressible and dominate encoding time). @defaultValue 'ultrafast'
   */
  preset?: string;
  /** Refuse specs that break the world's rules. @defaultValue true */
  strict?: boolean;
}

export interface RenderResult {
  frames: number;
  durationSec: number;
}

/** Every frame of the video, freshly allocated (ffmpeg may still hold the previous ones). */
export function* videoFrames(spec: VideoSpec): Generator<Buffer> {
  let k = 0;
  for (const scene of spec.scenes) {
    const n = sceneFrames(scene, spec.fps);
    for (let i = 0; i < n; i++, k++) {
      const buf = Buffer.allocUnsafe(spec.width * spec.height * 3);
      drawFrame(spec, scene, i, k, buf);
      yield buf;
    }
  }
}

/** Renders `spec` to `outPath` (MP4, H.264, yuv420p, +faststart). Removes the file on failure. */
export async function renderVideo(
  spec: VideoSpec,
  outPath: string,
  opts: RenderOptions = {},
): Promise<RenderResult> {
  if (opts.strict ?? true) {
    const bad = specViolations(spec);
    if (bad.length > 0)
      throw new ClipstreamError('CLIPSTREAM_BAD_ARGUMENT', `spec breaks the shapes world: ${bad.join('; ')}`);
  }
  opts.signal?.throwIfAborted();
  const bin = await checkFfmpeg();
  ffmpeg.setFfmpegPath(bin.ffmpeg);
  let frames = 0;
  const source = Readable.from(
    (function* counted() {
      for (const f of videoFrames(spec)) {
        frames++;
        yield f;
      }
    })(),
    { objectMode: true, highWaterMark: 2 },
  );
  const command = ffmpeg()
    .input(source)
    .inputOptions([
      '-nostdin',
      '-hide_banner',
      '-loglevel',
      'error',
      '-f',
      'rawvideo',
      '-pix_fmt',
      'rgb24',
      '-s',
      `${spec.width}x${spec.height}`,
      '-r',
      String(spec.fps),
    ])
    .outputOptions([
      '-an',
      '-c:v',
      'libx264',
      '-preset',
      opts.preset ?? 'ultrafast',
      '-crf',
      String(opts.crf ?? 18),
      '-pix_fmt',
      'yuv420p',
      '-movflags',
      '+faststart',
      '-f',
      'mp4',
    ])
    .output(outPath);

  try {
    await new Promise<void>((resolve, reject) => {
      const onAbort = (): void => {
        command.kill('SIGKILL');
      };
      opts.signal?.addEventListener('abort', onAbort, { once: true });
      command
        .on('end', () => {
          opts.signal?.removeEventListener('abort', onAbort);
          resolve();
        })
        .on('error', (err: Error, _stdout: string | null, stderr: string | null) => {
          opts.signal?.removeEventListener('abort', onAbort);
          if (opts.signal?.aborted)
            return reject(new ClipstreamError('CLIPSTREAM_ABORTED', 'render aborted'));
          const line = (stderr ?? '').trim().split('\n').at(-1) ?? '';
          reject(
            new ClipstreamError(
              'CLIPSTREAM_INTERNAL',
              `ffmpeg could not encode ${outPath}: ${line || err.message}`,
            ),
          );
        })
        .run();
    });
  } catch (err) {
    source.destroy();
    await unlink(outPath).catch(() => undefined);
    throw err;
  }
  return { frames, durationSec: frames / spec.fps };
}
