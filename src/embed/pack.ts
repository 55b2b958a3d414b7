import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { ClipstreamError } from '../errors.js';
import { ManifestSchema } from './manifest.js';
import type { Manifest } from './manifest.js';

export interface ModelPack {
  /** absolute folder of the pack */
  readonly dir: string;
  readonly manifest: Manifest;
  /** sha256 of model.json: identifies the pack (it names the sha256 of every other file) */
  readonly sha256: string;
  /** absolute paths of the files the runtime opens */
  readonly paths: { readonly image: string; readonly text: string; readonly tokenizer: string };
}

const MAX_MANIFEST_BYTES = 1 << 20;

async function sha256File(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/**
 * Reads and validates a model pack folder: the manifest against its schema, that every file it
 * names exists and matches its sha256. Graph inputs and outputs are checked later, when the
 * sessions are opened (`openEncoders`).
 */
export async function loadModelPack(dirArg: string): Promise<ModelPack> {
  const dir = resolve(dirArg);
  const manifestPath = join(dir, 'model.json');
  let raw: Buffer;
  try {
    const st = await stat(manifestPath);
    if (!st.isFile()) throw new Error('not a file');
    if (st.size > MAX_MANIFEST_BYTES) {
      throw new ClipstreamError('CLIPSTREAM_MODEL_INVALID', `${manifestPath} is larger than 1 MiB`);
    }
    raw = await readFile(manifestPath);
  } catch (err) {
    if (err instanceof ClipstreamError) throw err;
    throw new ClipstreamError('CLIPSTREAM_MODEL_INVALID', `no model pack at ${dir}: model.json is missing`, {
      cause: err,
    });
  }
  let json: unknown;
  try {
    json = JSON.parse(raw.toString('utf8'));
  } catch (err) {
    throw new ClipstreamError('CLIPSTREAM_MODEL_INVALID', `${manifestPath} is not valid JSON`, {
      cause: err,
    });
  }
  const parsed = ManifestSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue ? issue.path.join('.') || '(root)' : '(root)';
    throw new ClipstreamError(
      'CLIPSTREAM_MODEL_INVALID',
      `${manifestPath}: ${where}: ${issue?.message ?? 'invalid manifest'}`,
    );
  }
  const manifest = parsed.data;
  const needed = [manifest.image.file, manifest.text.file, manifest.tokenizer.file];
  for (const name of needed) {
    if (!(name in manifest.files)) {
      throw new ClipstreamError(
        'CLIPSTREAM_MODEL_INVALID',
        `${manifestPath}: files has no sha256 for ${name}`,
      );
    }
  }
  for (const [name, expected] of Object.entries(manifest.files)) {
    const path = join(dir, name);
    let actual: string;
    try {
      actual = await sha256File(path);
    } catch (err) {
      throw new ClipstreamError('CLIPSTREAM_MODEL_FILE_MISSING', `model pack file ${path} is missing`, {
        cause: err,
      });
    }
    if (actual !== expected) {
      throw new ClipstreamError(
        'CLIPSTREAM_MODEL_CHECKSUM',
        `model pack file ${path} is corrupted: sha256 ${actual.slice(0, 12)}… does not match model.json (${expected.slice(0, 12)}…)`,
      );
    }
  }
  return Object.freeze({
    dir,
    manifest,
    sha256: createHash('sha256').update(raw).digest('hex'),
    paths: Object.freeze({
      image: join(dir, manifest.image.file),
      text: join(dir, manifest.text.file),
      tokenizer: join(dir, manifest.tokenizer.file),
    }),
  });
}
