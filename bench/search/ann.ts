/**
 * ANN benchmark of the embedded search store (PGlite + pgvector HNSW, cosine): N synthetic
 * 512-d frame embeddings shaped like videos (100 frames a video, in scenes of near-duplicate
 * frames), loaded through the indexer's write path, then recall@10 against exact search and
 * query latency p50/p95 at several `hnsw.ef_search`, against the exact alternatives (a
 * sequential scan in the same database, and brute force in JavaScript).
 *
 *   node dist/bench/search/ann.js [--frames 100000] [--queries 200] [--dim 512] [--json FILE]
 *
 * Not part of the test suite (speed is never asserted in tests).
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Store, vectorText } from '../../src/search/index.js';

function rng(seed: number) {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function gauss(r: () => number): number {
  return Math.sqrt(-2 * Math.log(r() + 1e-12)) * Math.cos(2 * Math.PI * r());
}

function normalise(v: Float32Array, off: number, dim: number): void {
  let s = 0;
  for (let k = 0; k < dim; k++) s += (v[off + k] as number) ** 2;
  const inv = 1 / Math.sqrt(s);
  for (let k = 0; k < dim; k++) v[off + k] = (v[off + k] as number) * inv;
}

const FRAMES_PER_VIDEO = 100;
const SCENES_PER_VIDEO = 5;

/** Video-shaped embeddings: a video direction, scenes around it, frames around their scene. */
function synthesise(n: number, dim: number, seed: number): { embeds: Float32Array; scenes: Float32Array } {
  const r = rng(seed);
  const embeds = new Float32Array(n * dim);
  const videos = Math.ceil(n / FRAMES_PER_VIDEO);
  const scenes = new Float32Array(videos * SCENES_PER_VIDEO * dim);
  const base = new Float32Array(dim);
  for (let v = 0; v < videos; v++) {
    for (let k = 0; k < dim; k++) base[k] = gauss(r);
    for (let s = 0; s < SCENES_PER_VIDEO; s++) {
      const off = (v * SCENES_PER_VIDEO + s) * dim;
      for (let k = 0; k < dim; k++) scenes[off + k] = (base[k] as number) * 0.5 + gauss(r);
      normalise(scenes, off, dim);
    }
    for (let f = 0; f < FRAMES_PER_VIDEO && v * FRAMES_PER_VIDEO + f < n; f++) {
      const s = Math.floor((f * SCENES_PER_VIDEO) / FRAMES_PER_VIDEO);
      const off = (v * FRAMES_PER_VIDEO + f) * dim;
      const so = (v * SCENES_PER_VIDEO + s) * dim;
      for (let k = 0; k < dim; k++) embeds[off + k] = (scenes[so + k] as number) + 0.03 * gauss(r);
      normalise(embeds, off, dim);
    }
  }
  return { embeds, scenes };
}

function exactTop(embeds: Float32Array, n: number, dim: number, q: Float32Array, k: number): number[] {
  const best: { i: number; s: number }[] = [];
  for (let i = 0; i < n; i++) {
    let s = 0;
    const off = i * dim;
    for (let j = 0; j < dim; j++) s += (embeds[off + j] as number) * (q[j] as number);
    if (best.length < k || s > best[best.length - 1]!.s) {
      best.push({ i, s });
      best.sort((a, b) => b.s - a.s);
      if (best.length > k) best.pop();
    }
  }
  return best.map((b) => b.i);
}

function pct(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] as number;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      frames: { type: 'string', default: '100000' },
      queries: { type: 'string', default: '200' },
      dim: { type: 'string', default: '512' },
      json: { type: 'string' },
    },
  });
  const N = Number(values.frames);
  const Q = Number(values.queries);
  const D = Number(values.dim);
  const dir = await mkdtemp(join(tmpdir(), 'clipstream-ann-'));
  const store = await Store.open(join(dir, 'store'));
  const report: Record<string, unknown> = { frames: N, queries: Q, dim: D, framesPerVideo: FRAMES_PER_VIDEO };
  try {
    const t0 = performance.now();
    const { embeds, scenes } = synthesise(N, D, 11);
    const model = { name: 'synthetic', sha256: 'f'.repeat(64), embedDim: D };
    const chunk = 100;
    const incremental = Math.min(N, 5_000);
    // 1) The indexer's path with the HNSW index in place: frames/s with incremental index upkeep.
    let t = performance.now();
    for (let f = 0; f < incremental; f += chunk) {
      const v = Math.floor(f / FRAMES_PER_VIDEO);
      await store.writeChunk({
        videoId: `v${v}`,
        resultId: `r${v}`,
        model,
        firstFrame: f % FRAMES_PER_VIDEO,
        timesSec: Array.from({ length: chunk }, (_, i) => ((f % FRAMES_PER_VIDEO) + i) * 0.5),
        embeds: embeds.subarray(f * D, (f + chunk) * D),
      });
    }
    const incMs = performance.now() - t;
    report.indexedFramesPerSecWithHnsw = Math.round((incremental / incMs) * 1000);
    // 2) Bulk load of the rest without the index, then one index build over everything.
    await store.db.query('DROP INDEX clipstream.frames_embedding_hnsw');
    t = performance.now();
    for (let f = incremental; f < N; f += chunk) {
      const v = Math.floor(f / FRAMES_PER_VIDEO);
      await store.writeChunk({
        videoId: `v${v}`,
        resultId: `r${v}`,
        model,
        firstFrame: f % FRAMES_PER_VIDEO,
        timesSec: Array.from({ length: chunk }, (_, i) => ((f % FRAMES_PER_VIDEO) + i) * 0.5),
        embeds: embeds.subarray(f * D, (f + chunk) * D),
      });
    }
    const bulkMs = performance.now() - t;
    report.indexedFramesPerSecWithoutIndex =
      N > incremental ? Math.round(((N - incremental) / bulkMs) * 1000) : null;
    t = performance.now();
    await store.db.query("SET maintenance_work_mem = '1GB'");
    await store.db.query(
      'CREATE INDEX frames_embedding_hnsw ON clipstream.frames USING hnsw (embedding vector_cosine_ops)',
    );
    report.hnswBuildSec = Math.round((performance.now() - t) / 100) / 10;
    report.loadSec = Math.round((performance.now() - t0) / 100) / 10;
    process.stderr.write(`loaded ${N} frames: ${JSON.stringify(report)}\n`);

    // Queries: a scene direction with noise (a text query lands near a scene, not on a frame).
    const r = rng(99);
    const scenesN = scenes.length / D;
    const queries: Float32Array[] = [];
    for (let i = 0; i < Q; i++) {
      const s = Math.floor(r() * Math.min(scenesN, Math.ceil(N / FRAMES_PER_VIDEO) * SCENES_PER_VIDEO));
      const q = new Float32Array(D);
      for (let k = 0; k < D; k++) q[k] = (scenes[s * D + k] as number) + 0.05 * gauss(r);
      normalise(q, 0, D);
      queries.push(q);
    }
    const jsMs: number[] = [];
    const truth = queries.map((q) => {
      const a = performance.now();
      const top = exactTop(embeds, N, D, q, 10);
      jsMs.push(performance.now() - a);
      return new Set(top.map((i) => `v${Math.floor(i / FRAMES_PER_VIDEO)}/${i % FRAMES_PER_VIDEO}`));
    });
    report.exactJs = { p50Ms: round(pct(jsMs, 50)), p95Ms: round(pct(jsMs, 95)) };

    const sql = `SELECT video_id, frame_index FROM clipstream.frames ORDER BY embedding <=> $1::vector LIMIT 10`;
    const runs: Record<string, unknown>[] = [];
    for (const ef of [40, 100, 200, 400]) {
      const ms: number[] = [];
      let hit = 0;
      for (let i = 0; i < Q; i++) {
        const text = vectorText(queries[i]!);
        const a = performance.now();
        const rows = await store.db.transaction(async (tx) => {
          await tx.query(`SET LOCAL hnsw.ef_search = ${ef}`);
          return tx.query<{ video_id: string; frame_index: number }>(sql, [text]);
        });
        ms.push(performance.now() - a);
        for (const row of rows) if (truth[i]!.has(`${row.video_id}/${row.frame_index}`)) hit++;
      }
      const run = {
        efSearch: ef,
        recallAt10: round(hit / (Q * 10), 4),
        p50Ms: round(pct(ms, 50)),
        p95Ms: round(pct(ms, 95)),
      };
      runs.push(run);
      process.stderr.write(`${JSON.stringify(run)}\n`);
    }
    report.hnsw = runs;
    // The exact alternative in the same database: a sequential scan (fewer queries: it is slow).
    const seqMs: number[] = [];
    for (let i = 0; i < Math.min(Q, 20); i++) {
      const a = performance.now();
      await store.db.transaction(async (tx) => {
        await tx.query('SET LOCAL enable_indexscan = off');
        return tx.query(sql, [vectorText(queries[i]!)]);
      });
      seqMs.push(performance.now() - a);
    }
    report.exactSql = { p50Ms: round(pct(seqMs, 50)), p95Ms: round(pct(seqMs, 95)), queries: seqMs.length };
    process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
    if (values.json) await writeFile(values.json, `${JSON.stringify(report, null, 2)}\n`);
  } finally {
    await store.close();
    await rm(dir, { recursive: true, force: true });
  }
}

function round(x: number, digits = 1): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

main().catch((err: unknown) => {
  process.stderr.write(`${String((err as Error).stack ?? err)}\n`);
  process.exit(1);
});
