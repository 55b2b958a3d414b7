/**
 * The TypeScript runtime (onnxruntime-node, @huggingface/tokenizers) against what the Python
 * tools recorded for the same packs (test/fixtures/parity/*): identical token ids, embeddings
 * with per-row cosine >= the recorded tolerance. No Python at test time.
 */
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Embedder, loadModelPack } from '../../../src/embed/index.js';
import { TextTokenizer } from '../../../src/embed/tokenizer.js';
import { silentLogger } from '../../../src/log.js';
import { cosine } from '../../helpers/vectors.js';

const root = fileURLToPath(new URL('../../../../', import.meta.url));
const parityDir = join(root, 'test', 'fixtures', 'parity');

interface ParityManifest {
  pack: { name: string; files: Record<string, string> };
  contextLength: number;
  padId: number;
  embedDim: number;
  image: { height: number; width: number };
  tolerance: { cosine: number };
}

function packDir(name: string): string {
  for (const d of [join(root, 'models', name), join(root, 'test', 'fixtures', 'packs', name)]) {
    if (existsSync(join(d, 'model.json'))) return d;
  }
  throw new Error(`no pack named ${name} in models/ or test/fixtures/packs/`);
}

const names = existsSync(parityDir)
  ? readdirSync(parityDir).filter((n) => existsSync(join(parityDir, n, 'manifest.json')))
  : [];

for (const name of names) {
  describe(`parity with the Python tools: ${name}`, () => {
    const dir = join(parityDir, name);
    const manifest = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as ParityManifest;
    let embedder: Embedder;
    let tokenizer: TextTokenizer;

    before(async () => {
      const pack = await loadModelPack(packDir(manifest.pack.name));
      assert.deepEqual(
        pack.manifest.files,
        manifest.pack.files,
        'fixtures were made from another version of the pack',
      );
      tokenizer = await TextTokenizer.fromFile(pack.paths.tokenizer, manifest.contextLength, manifest.padId);
      embedder = await Embedder.open(
        pack,
        {
          runtime: { device: 'cpu', intraOpThreads: 1, cudaDeviceId: 0 },
          batch: { maxBatch: 8, maxWaitMs: 1, maxQueued: 8 },
        },
        silentLogger,
      );
    });
    after(() => embedder?.close());

    it('token ids and masks are identical for the whole tricky corpus', () => {
      const cases = JSON.parse(readFileSync(join(dir, 'tokens.json'), 'utf8')) as {
        text: string;
        ids: number[];
        mask: number[];
      }[];
      assert.ok(cases.length >= 20);
      for (const c of cases) {
        const e = tokenizer.encode(c.text);
        assert.deepEqual(Array.from(e.ids), c.ids, `ids differ for ${JSON.stringify(c.text)}`);
        assert.deepEqual(Array.from(e.mask), c.mask, `mask differs for ${JSON.stringify(c.text)}`);
      }
    });

    it('image embeddings match per row', async () => {
      const img = JSON.parse(readFileSync(join(dir, 'image.json'), 'utf8')) as {
        shape: number[];
        image_embeds: number[][];
      };
      const raw = readFileSync(join(dir, 'frames.u8'));
      const [n, h, w] = img.shape as [number, number, number];
      const bytes = h * w * 3;
      const frames = Array.from(
        { length: n },
        (_, i) => new Uint8Array(raw.buffer, raw.byteOffset + i * bytes, bytes),
      );
      const out = await embedder.embedFramesNow(frames);
      out.forEach((row, i) => {
        const c = cosine(row, img.image_embeds[i]!);
        assert.ok(c >= manifest.tolerance.cosine, `frame ${i}: cosine ${c}`);
      });
    });

    it('sentence and word-token embeddings match', async () => {
      const texts = JSON.parse(readFileSync(join(dir, 'text.json'), 'utf8')) as {
        text: string;
        ids: number[];
        text_embeds: number[];
        token_embeds: number[][] | null;
      }[];
      const got = await embedder.embedTexts(texts.map((t) => t.text));
      const D = manifest.embedDim;
      texts.forEach((t, i) => {
        const g = got[i]!;
        const c = cosine(g.sentence, t.text_embeds);
        assert.ok(c >= manifest.tolerance.cosine, `${JSON.stringify(t.text)}: sentence cosine ${c}`);
        if (!t.token_embeds) return;
        const positions = tokenizer.encode(t.text).wordPositions;
        assert.equal(g.wordCount, positions.length);
        positions.forEach((pos, w) => {
          const cw = cosine(g.words.subarray(w * D, (w + 1) * D), t.token_embeds![pos]!);
          assert.ok(cw >= manifest.tolerance.cosine, `${JSON.stringify(t.text)} token ${pos}: cosine ${cw}`);
        });
      });
    });
  });
}

describe('tokenizer against the reference tokenizer (open_clip SimpleTokenizer)', () => {
  const file = join(root, 'test', 'fixtures', 'tokenizer', 'open_clip', 'cases.json');
  it('gives the reference ids for every corpus line', { skip: !existsSync(file) }, async () => {
    const ref = JSON.parse(readFileSync(file, 'utf8')) as {
      tokenizer: string;
      contextLength: number;
      padId: number;
      cases: { text: string; ids: number[]; mask: number[] }[];
    };
    const tok = await TextTokenizer.fromFile(
      join(dirname(file), ref.tokenizer),
      ref.contextLength,
      ref.padId,
    );
    for (const c of ref.cases) {
      const e = tok.encode(c.text);
      assert.deepEqual(Array.from(e.ids), c.ids, `ids differ for ${JSON.stringify(c.text)}`);
      assert.deepEqual(Array.from(e.mask), c.mask);
    }
  });
});

function dirname(p: string): string {
  return join(p, '..');
}
