/**
 * Writes the benchmark model as model packs (docs/model-pack.md) in a scratch folder, so the
 * real loader, Embedder and pipeline run it exactly as they run any pack. The graphs are the
 * ones `tools/model` exports from open_clip ViT-B-32 (committed weightless in
 * bench/models/vit-b-32: every weight lives in ONNX external data); only the weights are
 * generated here, from the seed (./weights.ts):
 *   <dir>/fp32/  image.onnx (+ .data), text.onnx (+ .data), tokenizer.json, model.json,
 *                reference.onnx (the image graph without its preprocessing: float32 NCHW in,
 *                same weights, for the straightforward reference pipeline)
 *   <dir>/int8/  image.int8.onnx (+ .data: the float32 weights quantised per channel), the same
 *                text encoder and tokenizer, model.json (optional)
 * model.json names the sha256 of every file, the generated ones included.
 */
import { createHash } from 'node:crypto';
import { copyFile, link, mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { elements, graphWeights, readWeightsManifest, writeExternalData } from './weights.js';

/** The committed weightless export (graphs, tokenizer, model.json template, weights.json). */
export const BENCH_MODEL_DIR = fileURLToPath(new URL('../../../../bench/models/vit-b-32', import.meta.url));

export interface BenchPacks {
  readonly fp32Dir: string;
  readonly int8Dir?: string;
  readonly referenceModel: string;
  /** image graph + its external data, bytes */
  readonly imageBytes: number;
  readonly int8ImageBytes?: number;
  /** float32 parameters of the image graph (its external tensors) */
  readonly params: number;
  readonly seed: number;
}

interface Template {
  image: { file: string; variants?: { int8?: { file: string } } } & Record<string, unknown>;
  text: { file: string } & Record<string, unknown>;
  tokenizer: { file: string };
  files: Record<string, string>;
  provenance?: Record<string, unknown>;
  name: string;
  [k: string]: unknown;
}

async function sha256Of(path: string): Promise<string> {
  return createHash('sha256')
    .update(await readFile(path))
    .digest('hex');
}

async function linkOrCopy(from: string, to: string): Promise<void> {
  try {
    await link(from, to);
  } catch {
    await copyFile(from, to);
  }
}

export async function writeBenchPacks(
  dir: string,
  opts: { seed: number; int8: boolean; source?: string },
): Promise<BenchPacks> {
  const src = opts.source ?? BENCH_MODEL_DIR;
  const weights = await readWeightsManifest(join(src, 'weights.json'));
  const template = JSON.parse(await readFile(join(src, 'model.json'), 'utf8')) as Template;
  const imageFile = template.image.file;
  const textFile = template.text.file;
  const tokFile = template.tokenizer.file;
  const int8File = template.image.variants?.int8?.file;
  if (opts.int8 && !int8File) throw new Error(`${src}: model.json has no int8 image variant`);
  const imageW = graphWeights(weights, imageFile);
  const textW = graphWeights(weights, textFile);
  const { variants: _variants, ...image } = template.image;
  const provenance = {
    ...template.provenance,
    generatedWeights: { by: 'clipstream bench (src/bench/models/weights.ts)', seed: opts.seed },
  };

  const fp32Dir = join(dir, 'fp32');
  await mkdir(fp32Dir, { recursive: true });
  const files: Record<string, string> = {};
  for (const f of [imageFile, textFile, tokFile, 'reference.onnx']) {
    await copyFile(join(src, f), join(fp32Dir, f));
    if (f !== 'reference.onnx') files[f] = await sha256Of(join(fp32Dir, f));
  }
  const imageData = await writeExternalData(join(fp32Dir, imageW.data), imageW, opts.seed);
  const textData = await writeExternalData(join(fp32Dir, textW.data), textW, opts.seed);
  files[imageW.data] = imageData.sha256;
  files[textW.data] = textData.sha256;
  const manifest = (name: string, img: object, fileHashes: Record<string, string>) => ({
    ...template,
    name,
    image: img,
    files: fileHashes,
    provenance,
  });
  const writeManifest = (d: string, m: object) => writeFile(join(d, 'model.json'), `${JSON.stringify(m, null, 2)}\n`);
  await writeManifest(fp32Dir, manifest(`${template.name}-fp32`, image, files));
  const imageBytes = (await stat(join(fp32Dir, imageFile))).size + imageData.bytes;

  let int8: { int8Dir: string; int8ImageBytes: number } | undefined;
  if (opts.int8 && int8File) {
    const int8Dir = join(dir, 'int8');
    await mkdir(int8Dir, { recursive: true });
    const qW = graphWeights(weights, int8File);
    await copyFile(join(src, int8File), join(int8Dir, int8File));
    for (const f of [textFile, textW.data, tokFile]) await linkOrCopy(join(fp32Dir, f), join(int8Dir, f));
    const qData = await writeExternalData(join(int8Dir, qW.data), qW, opts.seed, imageW);
    const qFiles = {
      [int8File]: await sha256Of(join(int8Dir, int8File)),
      [qW.data]: qData.sha256,
      [textFile]: files[textFile] as string,
      [textW.data]: textData.sha256,
      [tokFile]: files[tokFile] as string,
    };
    await writeManifest(int8Dir, manifest(`${template.name}-int8`, { ...image, file: int8File }, qFiles));
    int8 = { int8Dir, int8ImageBytes: (await stat(join(int8Dir, int8File))).size + qData.bytes };
  }
  return {
    fp32Dir,
    ...(int8 ?? {}),
    referenceModel: join(fp32Dir, 'reference.onnx'),
    imageBytes,
    params: imageW.tensors.filter((t) => t.dtype === 'float32').reduce((a, t) => a + elements(t), 0),
    seed: opts.seed,
  };
}
