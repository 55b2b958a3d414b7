import { loadConfig } from '../config.js';
import { Embedder, embedderOptions, loadModelPack } from '../embed/index.js';
import { ClipstreamError } from '../errors.js';
import { createLogger } from '../log.js';
import { parse } from './common.js';
import { MODEL, usage } from './flags.js';

export const MODEL_USAGE = usage(MODEL);

function norm(v: Float32Array, off: number, D: number): number {
  let s = 0;
  for (let k = 0; k < D; k++) s += (v[off + k] as number) ** 2;
  return Math.sqrt(s);
}

export async function modelCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parse(argv, MODEL.flags);
  if (values.help) {
    process.stdout.write(MODEL_USAGE);
    return 0;
  }
  const [sub, dir, ...rest] = positionals;
  if (sub !== 'verify' || dir === undefined || rest.length > 0) {
    throw new ClipstreamError('CLIPSTREAM_BAD_ARGUMENT', 'usage: clipstream model verify <dir>');
  }
  const config = loadConfig({ logLevel: 'warn', logFormat: 'text' });
  const log = createLogger({ level: 'warn', format: 'text' });
  const t0 = performance.now();
  const pack = await loadModelPack(dir);
  const m = pack.manifest;
  const embedder = await Embedder.open(
    pack,
    embedderOptions(
      {
        device: config.device,
        threads: config.threads,
        encoderLanes: config.encoderLanes,
        batchSize: 4,
        batchWaitMs: 1,
      },
      { maxQueued: 4 },
    ),
    log,
  );
  try {
    const D = m.embedDim;
    const bytes = m.image.height * m.image.width * 3;
    const frames = [new Uint8Array(bytes), new Uint8Array(bytes).fill(255), new Uint8Array(bytes)];
    let seed = 12345;
    const f2 = frames[2] as Uint8Array;
    for (let i = 0; i < bytes; i++) {
      seed = (seed * 1103515245 + 12345) >>> 0;
      f2[i] = seed >>> 24;
    }
    const images = await embedder.embedFramesNow(frames);
    const texts = await embedder.embedTexts(['a photo', 'a longer sentence, with punctuation!', '']);
    const bad = (what: string): never => {
      throw new ClipstreamError('CLIPSTREAM_MODEL_MISMATCH', `${pack.dir}: ${what}`);
    };
    if (images.length !== frames.length) bad('image encoder returned the wrong batch size');
    // The runtime re-normalises rows; check the raw contract on a fresh run instead of trusting it.
    const raw = await rawNorms(embedder, frames);
    raw.forEach((n, i) => {
      if (!(Math.abs(n - 1) < 1e-3))
        bad(`image_embeds row ${i} has norm ${n.toFixed(4)}, expected 1 (L2-normalised)`);
    });
    texts.forEach((t, i) => {
      const n = norm(t.sentence, 0, D);
      if (!(Math.abs(n - 1) < 1e-3)) bad(`text_embeds row ${i} has norm ${n.toFixed(4)}, expected 1`);
      for (let w = 0; w < t.wordCount; w++) {
        if (!Number.isFinite(norm(t.words, w * D, D))) bad(`token_embeds of text ${i} are not finite`);
      }
    });
    const summary = [
      `ok ${m.name} (${pack.sha256.slice(0, 12)})`,
      `  provider   ${embedder.provider}`,
      `  image      ${m.image.file}: uint8 [N, ${m.image.height}, ${m.image.width}, 3] -> [N, ${D}] (${m.image.resize})${m.image.outputs.patches ? ', patches' : ''}`,
      `  text       ${m.text.file}: int64 [N, ${m.text.contextLength}] -> [N, ${D}] + tokens [N, ${m.text.contextLength}, ${D}]`,
      `  tokenizer  ${m.tokenizer.file}: '${'a longer sentence, with punctuation!'}' -> ${texts[1]?.wordCount ?? 0} word tokens`,
      `  checked    manifest, ${Object.keys(m.files).length} checksums, graph inputs/outputs, dummy batch of ${frames.length} frames and ${texts.length} texts in ${Math.round(performance.now() - t0)} ms`,
    ];
    process.stdout.write(`${summary.join('\n')}\n`);
    return 0;
  } finally {
    await embedder.close();
  }
}

async function rawNorms(embedder: Embedder, frames: Uint8Array[]): Promise<number[]> {
  const out = await embedder.rawImageEmbeds(frames);
  const D = embedder.dim;
  return frames.map((_, i) => norm(out, i * D, D));
}
