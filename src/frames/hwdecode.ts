/**
 * GPU decode (NVDEC through ffmpeg's `cuda` hwaccel): frames stay on the GPU through
 * `scale_cuda`, so only model-sized frames cross to the host (`hwdownload`), where the crop or
 * pad and the rgb24 conversion run on a few thousand pixels. Chosen automatically when ffmpeg
 * lists the `cuda` hwaccel and an NVIDIA device node exists; otherwise the CPU decodes, said
 * in one log line per process. The decisions and argument lists are pure (unit-tested); only
 * `detectCuda` looks at the machine.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import type { HwaccelSetting, ResizeMode } from './options.js';

export type { HwaccelSetting } from './options.js';

export interface CudaProbe {
  /** hwaccels ffmpeg lists (`ffmpeg -hwaccels`) */
  readonly hwaccels: readonly string[];
  /** an NVIDIA device node is present (/dev/nvidia0 or /dev/nvidiactl) */
  readonly device: boolean;
}

export interface HwChoice {
  readonly use: 'cuda' | 'cpu';
  readonly reason: string;
}

/** Codecs NVDEC decodes (the common ones; an unlisted codec decodes on the CPU). */
export const NVDEC_CODECS: readonly string[] = [
  'h264',
  'hevc',
  'vp8',
  'vp9',
  'av1',
  'mpeg1video',
  'mpeg2video',
  'mpeg4',
  'vc1',
  'mjpeg',
];

/** Parses `ffmpeg -hide_banner -hwaccels`. */
export function parseHwaccels(stdout: string): string[] {
  const lines = stdout.split('\n').map((l) => l.trim());
  const at = lines.findIndex((l) => /^Hardware acceleration methods:?$/i.test(l));
  return (at >= 0 ? lines.slice(at + 1) : []).filter((l) => /^[a-z0-9_]+$/.test(l));
}

/**
 * GPU or CPU decode for one source. `cpu` never uses the GPU; `cuda` uses it wherever it can
 * (the pixel shape must still allow it); `auto` uses it when ffmpeg and the machine have CUDA.
 */
export function chooseHwDecode(
  setting: HwaccelSetting,
  probe: CudaProbe,
  source: { codec: string; sampleAspectRatio: number; sceneSampling: boolean },
): HwChoice {
  if (setting === 'cpu') return { use: 'cpu', reason: 'hardware decode is off' };
  if (!probe.hwaccels.includes('cuda')) return { use: 'cpu', reason: 'ffmpeg has no cuda hwaccel' };
  if (!probe.device) return { use: 'cpu', reason: 'no NVIDIA device' };
  if (!NVDEC_CODECS.includes(source.codec))
    return { use: 'cpu', reason: `NVDEC does not decode ${source.codec}` };
  // Scene scores and the square-pixel fix are CPU filters: decoding on the GPU would only add
  // a full-size download.
  if (source.sceneSampling) return { use: 'cpu', reason: 'scene sampling compares full frames on the CPU' };
  if (source.sampleAspectRatio !== 1) return { use: 'cpu', reason: 'non-square pixels' };
  return { use: 'cuda', reason: 'NVDEC with scale_cuda' };
}

/** Input options of a GPU decode (before `-i`). */
export function cudaInputOptions(): string[] {
  return ['-hwaccel', 'cuda', '-hwaccel_output_format', 'cuda'];
}

/**
 * Scale + fit on the GPU, then only the model-sized frame crosses to the host. Same geometry as
 * graph.ts `fitFilters` (short side to the target then the centred window; fit inside and pad;
 * stretch); bicubic as on the CPU.
 */
export function cudaFitFilters(mode: ResizeMode, w: number, h: number): string[] {
  const down = ['hwdownload', 'format=nv12'];
  switch (mode) {
    case 'crop':
      return [
        `scale_cuda=${w}:${h}:force_original_aspect_ratio=increase:interp_algo=bicubic`,
        ...down,
        `crop=${w}:${h}`,
      ];
    case 'letterbox':
      return [
        `scale_cuda=${w}:${h}:force_original_aspect_ratio=decrease:interp_algo=bicubic`,
        ...down,
        `pad=${w}:${h}:(ow-iw)/2:(oh-ih)/2:black`,
      ];
    case 'stretch':
      return [`scale_cuda=${w}:${h}:interp_algo=bicubic`, ...down];
  }
}

let detected: Promise<CudaProbe> | undefined;

/** What this machine offers (cached for the process). */
export function detectCuda(ffmpegPath: string): Promise<CudaProbe> {
  detected ??= new Promise((resolve) => {
    const device = existsSync('/dev/nvidia0') || existsSync('/dev/nvidiactl');
    execFile(
      ffmpegPath,
      ['-hide_banner', '-hwaccels'],
      { timeout: 10_000, maxBuffer: 1 << 16 },
      (err, stdout) => resolve({ hwaccels: err ? [] : parseHwaccels(stdout), device }),
    );
  });
  return detected;
}

let said = false;

/** The one log line of a CPU fallback: the first time per process, never again. */
export function fallbackLine(choice: HwChoice, setting: HwaccelSetting): string | undefined {
  if (choice.use === 'cuda' || setting === 'cpu' || said) return undefined;
  said = true;
  return `GPU decode unavailable (${choice.reason}); decoding on the CPU`;
}
