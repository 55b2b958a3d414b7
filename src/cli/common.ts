import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import type { ParseArgsConfig } from 'node:util';
import { ClipstreamError, formatError } from '../errors.js';
import { MAX_SAMPLING_FPS, samplingSchema } from '../frames/index.js';
import type { RtspTransport, Sampling } from '../frames/index.js';
import type { Logger } from '../log.js';

/** The bundled model pack, shipped with the package. */
export const BUNDLED_MODEL = fileURLToPath(new URL('../../../models/shapes-v1', import.meta.url));

/** node's parseArgs, with its errors turned into one coded line. */
export function parse<T extends ParseArgsConfig['options']>(argv: string[], options: T, positionals = true) {
  try {
    return parseArgs({ args: argv, options, allowPositionals: positionals, strict: true });
  } catch (err) {
    const msg = err instanceof Error ? err.message.split('\n')[0] : String(err);
    throw new ClipstreamError('CLIPSTREAM_BAD_ARGUMENT', msg ?? 'bad arguments');
  }
}

/** Reads a file of one text per line; blank lines are skipped, text is kept exactly otherwise. */
export async function readLines(path: string, what: string): Promise<string[]> {
  let raw: string;
  try {
    raw = await readFile(path, 'utf8');
  } catch (err) {
    throw new ClipstreamError('CLIPSTREAM_BAD_ARGUMENT', `cannot read ${what} ${path}`, { cause: err });
  }
  if (raw.includes('\u0000'))
    throw new ClipstreamError('CLIPSTREAM_BAD_TEXT', `${what} ${path} is not a text file`);
  return raw.split(/\r?\n/).filter((l) => l.trim().length > 0);
}

export function positiveNumber(value: string | undefined, flag: string): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0)
    throw new ClipstreamError('CLIPSTREAM_BAD_ARGUMENT', `${flag} must be a positive number, got '${value}'`);
  return n;
}

/** `--rtsp-transport tcp|udp`; undefined when not given. */
export function rtspTransportFlag(value: string | undefined): RtspTransport | undefined {
  if (value === undefined) return undefined;
  if (value !== 'tcp' && value !== 'udp')
    throw new ClipstreamError(
      'CLIPSTREAM_BAD_ARGUMENT',
      `--rtsp-transport must be tcp or udp, got '${value}'`,
    );
  return value;
}

const STRATEGIES: readonly string[] = samplingSchema.options.map((o) => o.shape.strategy.value);

/**
 * The sampling that `--fps N` and `--sampling S` ask for, checked against the frames stage's one
 * sampling schema; undefined when neither flag is given. `--fps` alone means `--sampling fps`.
 * Defaults are left for the schema to fill in, so a published event stays as sparse as typed.
 */
export function samplingFlags(
  fpsFlag: string | undefined,
  strategy: string | undefined,
): Sampling | undefined {
  const fps = positiveNumber(fpsFlag, '--fps');
  if (strategy !== undefined && !STRATEGIES.includes(strategy)) {
    throw new ClipstreamError(
      'CLIPSTREAM_BAD_ARGUMENT',
      `--sampling must be ${STRATEGIES.slice(0, -1).join(', ')} or ${STRATEGIES.at(-1)}, got '${strategy}'`,
    );
  }
  if (fps !== undefined && strategy !== undefined && strategy !== 'fps') {
    throw new ClipstreamError('CLIPSTREAM_BAD_ARGUMENT', '--fps only goes with --sampling fps');
  }
  if (fps === undefined && strategy === undefined) return undefined;
  const sampling = (
    strategy === undefined || strategy === 'fps'
      ? { strategy: 'fps', ...(fps !== undefined ? { fps } : {}) }
      : { strategy }
  ) as Sampling;
  const r = samplingSchema.safeParse(sampling);
  if (!r.success) {
    const tooBig = r.error.issues.some((i) => i.code === 'too_big');
    throw new ClipstreamError(
      'CLIPSTREAM_BAD_ARGUMENT',
      tooBig ? `--fps must be at most ${MAX_SAMPLING_FPS}` : `bad sampling: ${r.error.issues[0]?.message}`,
    );
  }
  return sampling;
}

/**
 * Runs a long-running command's shutdown steps in order, each in its own try/catch (a failed step
 * is logged and the next one still runs); rethrows `failed`, the error that ended the command.
 */
export async function shutDown(
  log: Logger,
  steps: readonly (readonly [string, () => Promise<unknown> | undefined])[],
  failed: unknown,
): Promise<0> {
  for (const [what, fn] of steps) {
    try {
      await fn();
    } catch (err) {
      log.warn(`shutdown: ${what} failed`, { error: formatError(err) });
    }
  }
  if (failed !== undefined) throw failed;
  return 0;
}
