/**
 * One-off comparison (issue 9): the embed stage on the hand-built ViT-B/32 graph
 * (src/bench/models/vit.ts) against the graph tools/model exports from open_clip
 * (bench/models/vit-b-32), float32 and int8, in one run. Paired alternating rounds: each round
 * measures a MatMul probe and then the four models at the pipeline batch, in an order rotated
 * from round to round, so that every figure sees the same machine load.
 *
 *   node dist/bench/graph-comparison.js [--rounds 7] [--batch 16] [--threads 0]
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Embedder, loadModelPack } from '../src/embed/index.js';
import { silentLogger } from '../src/log.js';
import { median, perSecond, repeat } from '../src/bench/measure.js';
import { writeBenchPacks as writeHandBuilt } from '../src/bench/models/pack-handbuilt.js';
import { writeBenchPacks } from '../src/bench/models/pack.js';
import { Prng } from '../src/bench/models/prng.js';
import { VIT_B_32 } from '../src/bench/models/vit.js';
import { vitFlops, VIT_B_32 as EXPORTED_SHAPE } from '../src/bench/models/vit-b-32.js';
import { matmulPeak } from '../src/bench/stages.js';

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      rounds: { type: 'string', default: '7' },
      batch: { type: 'string', default: '16' },
      threads: { type: 'string', default: '0' },
    },
  });
  const rounds = Number(values.rounds);
  const batch = Number(values.batch);
  const threads = Number(values.threads);
  const dir = await mkdtemp(join(tmpdir(), 'clipstream-graphs-'));
  const opened: Embedder[] = [];
  try {
    const hand = await writeHandBuilt(join(dir, 'hand'), VIT_B_32, { seed: 0, int8: true, texts: ['a red circle'] });
    const exp = await writeBenchPacks(join(dir, 'exported'), { seed: 0, int8: true });
    const opts = {
      runtime: { device: 'cpu' as const, intraOpThreads: threads, cudaDeviceId: 0 },
      batch: { maxBatch: batch, maxWaitMs: 5, maxQueued: batch * 4 },
      textCacheSize: 16,
    };
    const models = [
      { name: 'hand-built fp32', dir: hand.fp32Dir, flops: vitFlops({ ...EXPORTED_SHAPE }) - 2 * 49 * 768 * 512 },
      { name: 'exported fp32', dir: exp.fp32Dir, flops: vitFlops(EXPORTED_SHAPE) },
      { name: 'hand-built int8', dir: hand.int8Dir as string, flops: vitFlops(EXPORTED_SHAPE) - 2 * 49 * 768 * 512 },
      { name: 'exported int8', dir: exp.int8Dir as string, flops: vitFlops(EXPORTED_SHAPE) },
    ];
    const embedders: Embedder[] = [];
    for (const m of models) {
      const e = await Embedder.open(await loadModelPack(m.dir), opts, silentLogger);
      opened.push(e);
      embedders.push(e);
    }
    const frames = Array.from({ length: batch }, (_, i) => new Prng(100 + i).bytes(224 * 224 * 3));
    const agreement = async (a: Embedder, b: Embedder) => {
      const x = await a.embedFramesNow(frames);
      const y = await b.embedFramesNow(frames);
      const cos = x.map((v, i) => v.reduce((s, t, k) => s + t * (y[i] as Float32Array)[k]!, 0));
      return { min: Math.min(...cos), mean: cos.reduce((s, c) => s + c, 0) / cos.length };
    };
    const agree = {
      hand: await agreement(embedders[0]!, embedders[2]!),
      exported: await agreement(embedders[1]!, embedders[3]!),
    };
    const fps: number[][] = models.map(() => []);
    const pct: number[][] = models.map(() => []);
    const peaks: number[] = [];
    for (let r = 0; r < rounds; r++) {
      const [probe] = await matmulPeak([2048], 'cpu', threads, { warmup: 1, minRuns: 3, minMs: 0, maxRuns: 3 });
      const peak = probe!.bestGflops;
      peaks.push(peak);
      for (let j = 0; j < models.length; j++) {
        const i = (j + r) % models.length;
        const e = embedders[i]!;
        const samples = await repeat(() => e.embedFramesNow(frames), { warmup: 1, minRuns: 3, minMs: 0, maxRuns: 3 });
        const ms = median(samples);
        fps[i]!.push(perSecond(batch, ms));
        pct[i]!.push((100 * (batch * models[i]!.flops)) / ms / 1e6 / peak);
      }
      process.stderr.write(`round ${r + 1}/${rounds}: ${models.map((m, i) => `${m.name} ${fps[i]!.at(-1)!.toFixed(1)}`).join(', ')}\n`);
    }
    const out = {
      batch,
      threads,
      rounds,
      matmulPeakGflops: { median: median(peaks), min: Math.min(...peaks), max: Math.max(...peaks) },
      int8Agreement: agree,
      imageBytes: { hand: hand.imageBytes, handInt8: hand.int8ImageBytes, exported: exp.imageBytes, exportedInt8: exp.int8ImageBytes },
      models: models.map((m, i) => ({
        name: m.name,
        gflopPerFrame: m.flops / 1e9,
        framesPerSec: { median: median(fps[i]!), min: Math.min(...fps[i]!), max: Math.max(...fps[i]!), runs: fps[i] },
        pctOfPeak: { median: median(pct[i]!), min: Math.min(...pct[i]!), max: Math.max(...pct[i]!) },
      })),
      exportedOverHandBuilt: {
        fp32: median(fps[1]!.map((v, k) => v / fps[0]![k]!)),
        int8: median(fps[3]!.map((v, k) => v / fps[2]![k]!)),
      },
    };
    process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
  } finally {
    for (const e of opened) await e.close().catch(() => undefined);
    await rm(dir, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
