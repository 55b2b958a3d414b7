import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import type { ParseArgsConfig } from 'node:util';
import { ClipstreamError } from '../errors.js';

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
