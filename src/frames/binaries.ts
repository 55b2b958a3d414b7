/**
 * Finding ffmpeg and ffprobe: `FFMPEG_PATH` / `FFPROBE_PATH` when set (an explicit path that does
 * not work is an error, never silently replaced), else the first match on `PATH` (ffprobe also
 * next to the ffmpeg found). fluent-ffmpeg is pointed at the same binary.
 */
import { execFile } from 'node:child_process';
import { constants } from 'node:fs';
import { access } from 'node:fs/promises';
import { delimiter, dirname, isAbsolute, join } from 'node:path';
import ffmpeg from 'fluent-ffmpeg';
import { ClipstreamError } from '../errors.js';

export interface FfmpegBinaries {
  /** Absolute path of ffmpeg. */
  ffmpeg: string;
  /** Absolute path of ffprobe. */
  ffprobe: string;
  /** ffmpeg's version string, e.g. `5.1.6-0+deb12u1`. */
  version: string;
}

/** Oldest ffmpeg the decoder's options (`-fps_mode`) work with. */
const MIN_VERSION: readonly [number, number] = [5, 1];

async function isExecutable(path: string): Promise<boolean> {
  try {
    await access(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

async function onPath(name: string, env: NodeJS.ProcessEnv): Promise<string | undefined> {
  for (const dir of (env.PATH ?? '').split(delimiter)) {
    if (dir === '' || !isAbsolute(dir)) continue;
    const candidate = join(dir, name);
    if (await isExecutable(candidate)) return candidate;
  }
  return undefined;
}

function missing(message: string, cause?: unknown): ClipstreamError {
  return new ClipstreamError(
    'CLIPSTREAM_FFMPEG_MISSING',
    message,
    cause === undefined ? undefined : { cause },
  );
}

async function locate(name: 'ffmpeg' | 'ffprobe', envVar: string, env: NodeJS.ProcessEnv, near?: string) {
  const explicit = env[envVar];
  if (explicit !== undefined && explicit !== '') {
    if (!isAbsolute(explicit) || !(await isExecutable(explicit))) {
      throw missing(`${envVar}=${explicit} is not an executable file given by its absolute path`);
    }
    return explicit;
  }
  if (near !== undefined && (await isExecutable(join(dirname(near), name)))) return join(dirname(near), name);
  const found = await onPath(name, env);
  if (found === undefined)
    throw missing(`${name} not found on PATH (install ffmpeg 5.1 or later, or set ${envVar})`);
  return found;
}

function versionOf(binary: string): Promise<string> {
  return new Promise((resolveVersion, reject) => {
    execFile(binary, ['-hide_banner', '-version'], { timeout: 10_000, maxBuffer: 1 << 20 }, (err, stdout) => {
      if (err) return reject(missing(`${binary} -version failed: ${err.message.split('\n')[0] ?? ''}`, err));
      const m = /^\S+ version (\S+)/.exec(stdout);
      if (!m?.[1]) return reject(missing(`${binary} -version printed no version line`));
      resolveVersion(m[1]);
    });
  });
}

/** `[major, minor]` of a release version string; undefined for git builds (`N-1234-g...`). */
export function parseVersion(version: string): [number, number] | undefined {
  const m = /^n?(\d+)\.(\d+)/.exec(version);
  return m ? [Number(m[1]), Number(m[2])] : undefined;
}

let cached: { key: string; result: Promise<FfmpegBinaries> } | undefined;

/**
 * Finds ffmpeg and ffprobe and checks that they run. Fails with CLIPSTREAM_FFMPEG_MISSING and
 * one clear line. Successful results are cached per `FFMPEG_PATH` / `FFPROBE_PATH` / `PATH`.
 */
export function checkFfmpeg(options: { env?: NodeJS.ProcessEnv } = {}): Promise<FfmpegBinaries> {
  const env = options.env ?? process.env;
  const key = JSON.stringify([env.FFMPEG_PATH, env.FFPROBE_PATH, env.PATH]);
  if (cached?.key === key) return cached.result;
  const result = (async () => {
    const ffmpegPath = await locate('ffmpeg', 'FFMPEG_PATH', env);
    const ffprobePath = await locate('ffprobe', 'FFPROBE_PATH', env, ffmpegPath);
    const [version] = await Promise.all([versionOf(ffmpegPath), versionOf(ffprobePath)]);
    const v = parseVersion(version);
    if (v && (v[0] < MIN_VERSION[0] || (v[0] === MIN_VERSION[0] && v[1] < MIN_VERSION[1]))) {
      throw missing(`ffmpeg ${version} is too old; clipstream needs ${MIN_VERSION.join('.')} or later`);
    }
    return { ffmpeg: ffmpegPath, ffprobe: ffprobePath, version };
  })();
  cached = { key, result };
  result.catch(() => {
    if (cached?.result === result) cached = undefined;
  });
  return result;
}

/** The binaries for this process's environment, with fluent-ffmpeg pointed at them. */
export async function binaries(): Promise<FfmpegBinaries> {
  const b = await checkFfmpeg();
  // fluent-ffmpeg keeps one global path; we always set the same value for this environment.
  ffmpeg.setFfmpegPath(b.ffmpeg);
  ffmpeg.setFfprobePath(b.ffprobe);
  return b;
}
