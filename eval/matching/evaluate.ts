/**
 * The matching evaluation: renders a seeded shapes-world test set (separate seeds from anything
 * used in training), runs the real pipeline (ffmpeg, ONNX Runtime, the bundled or given model),
 * then scores the matcher: moment recall, false matches (swapped bindings counted on their own),
 * caption time-accuracy and ranking mAP, for the combined matcher and its ablations.
 */
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { openRuntime } from '../../src/cli/runtime.js';
import type { Embedder, TextEmbedding } from '../../src/embed/index.js';
import { silentLogger } from '../../src/log.js';
import { DEFAULT_MATCH_OPTIONS, matchVideo } from '../../src/match/index.js';
import type { Calibration, FrameTrack, MatchOptions } from '../../src/match/index.js';
import { calibrationFor, processVideo } from '../../src/pipeline/index.js';
import { renderVideo } from '../shapes/render.js';
import { mulberry32, shuffle } from '../shapes/prng.js';
import {
  COLOUR_NAMES,
  SHAPES,
  isQueryTrue,
  parseQuery,
  randomVideoSpec,
  sceneCaption,
  sceneSpans,
  truthMoments,
} from '../shapes/world.js';
import type { VideoSpec } from '../shapes/world.js';
import { averagePrecision, bestIoU, captionTimeAccuracy, mean } from './metrics.js';

export interface EvalOptions {
  videos: number;
  seed: number;
  /** Sampling rate, frames per second. */
  fps: number;
  /** Length of each video, seconds. */
  durationSec: number;
  /** Most extra random two-object negatives added to the query set. */
  extraPairs: number;
  modelDir?: string;
  cacheDir: string;
  match?: Partial<MatchOptions>;
  calibration?: Calibration;
  progress?: (line: string) => void;
}

export interface Metrics {
  momentRecall: number;
  falseMatchRate: number;
  swappedFalseMatchRate: number;
  captionTimeAccuracy: number;
  mAP: number;
}

export interface EvalReport {
  schema: 'clipstream.eval.v1';
  options: Omit<EvalOptions, 'progress' | 'cacheDir'>;
  model: { name: string; sha256: string };
  counts: {
    videos: number;
    frames: number;
    queries: number;
    truePairs: number;
    falsePairs: number;
    swappedPairs: number;
  };
  variants: Record<'combined' | 'frameLevel' | 'fineGrained', Metrics>;
  seconds: { render: number; pipeline: number; match: number };
}

const OBJECTS = COLOUR_NAMES.flatMap((c) => SHAPES.map((s) => `a ${c} ${s}`));

function swapBinding(pair: string): string | undefined {
  const q = parseQuery(pair);
  if (q?.kind !== 'objects' || q.objects.length !== 2) return undefined;
  const [a, b] = q.objects as [{ colour: string; shape: string }, { colour: string; shape: string }];
  if (a.colour === b.colour || a.shape === b.shape) return undefined;
  return `a ${b.colour} ${a.shape} and a ${a.colour} ${b.shape}`;
}

/** The query set: every single object, `nothing`, each two-object scene's caption and its swapped twin, extra random pairs. */
export function buildQueries(specs: readonly VideoSpec[], extraPairs: number, seed: number): string[] {
  const pairs = new Set<string>();
  for (const spec of specs) {
    for (const scene of spec.scenes) {
      if (scene.objects.length !== 2) continue;
      const cap = sceneCaption(scene);
      pairs.add(cap);
      const sw = swapBinding(cap);
      if (sw) pairs.add(sw);
    }
  }
  const rng = mulberry32(seed ^ 0x5eed);
  const all = OBJECTS.flatMap((a) => OBJECTS.filter((b) => b !== a).map((b) => `${a} and ${b}`));
  for (const p of shuffle(rng, all).slice(0, extraPairs)) pairs.add(p);
  return ['nothing', ...OBJECTS, ...[...pairs].sort()];
}

/** Caption bank: `nothing`, every single object, every ordered pair of distinct objects. */
export function captionBank(): string[] {
  return [
    'nothing',
    ...OBJECTS,
    ...OBJECTS.flatMap((a) => OBJECTS.filter((b) => b !== a).map((b) => `${a} and ${b}`)),
  ];
}

export function evalSpecs(opts: Pick<EvalOptions, 'videos' | 'seed' | 'durationSec'>): VideoSpec[] {
  return Array.from({ length: opts.videos }, (_, i) =>
    randomVideoSpec(opts.seed * 1000 + i, { durationSec: opts.durationSec }),
  );
}

async function renderCached(spec: VideoSpec, dir: string): Promise<string> {
  const key = createHash('sha256').update(JSON.stringify(spec)).digest('hex').slice(0, 16);
  const path = join(dir, `${key}.mp4`);
  if (!existsSync(path)) {
    const tmp = `${path}.part.mp4`;
    await renderVideo(spec, tmp, { preset: 'veryfast' });
    await rename(tmp, path);
  }
  return path;
}

export interface VideoRun {
  spec: VideoSpec;
  track: FrameTrack;
}

function scoreVariant(
  runs: readonly VideoRun[],
  queries: readonly { text: string; vectors: TextEmbedding }[],
  bank: readonly { text: string; vectors: TextEmbedding }[],
  cal: Calibration,
  opts: MatchOptions,
): Metrics & { truePairs: number; falsePairs: number; swappedPairs: number } {
  const recall: number[] = [];
  const falseMatch: number[] = [];
  const swappedMatch: number[] = [];
  const captionAcc: number[] = [];
  const ranking = new Map<string, { score: number; relevant: boolean }[]>();
  for (const run of runs) {
    const out = matchVideo(
      run.track,
      queries.map((q, i) => ({ id: `q${i}`, text: q.text, vectors: q.vectors })),
      bank,
      cal,
      opts,
    );
    out.queries.forEach((r) => {
      const truth = truthMoments(run.spec, r.text);
      const relevant = truth.length > 0;
      const list = ranking.get(r.text) ?? [];
      list.push({ score: r.score, relevant });
      ranking.set(r.text, list);
      if (relevant) {
        const top = r.moments[0];
        recall.push(r.matched && top && bestIoU(top, truth) >= 0.5 ? 1 : 0);
      } else {
        falseMatch.push(r.matched ? 1 : 0);
        const sw = swapBinding(r.text);
        if (sw && truthMoments(run.spec, sw).length > 0) swappedMatch.push(r.matched ? 1 : 0);
      }
    });
    const spans = sceneSpans(run.spec);
    const scenes = run.spec.scenes.map((scene, i) => ({
      startSec: spans[i]!.startSec,
      endSec: spans[i]!.endSec,
      accepts: (text: string) => parseQuery(text) !== undefined && captionMatches(text, scene),
    }));
    captionAcc.push(captionTimeAccuracy(out.captions, scenes, spans.at(-1)?.endSec ?? 0));
  }
  const aps = [...ranking.values()].map(averagePrecision).filter((x): x is number => x !== undefined);
  return {
    momentRecall: mean(recall),
    falseMatchRate: mean(falseMatch),
    swappedFalseMatchRate: mean(swappedMatch),
    captionTimeAccuracy: mean(captionAcc),
    mAP: mean(aps),
    truePairs: recall.length,
    falsePairs: falseMatch.length,
    swappedPairs: swappedMatch.length,
  };
}

/** A caption is right for a scene when it names exactly the scene's objects (either order), or `nothing` for none. */
function captionMatches(text: string, scene: VideoSpec['scenes'][number]): boolean {
  const q = parseQuery(text);
  if (!q) return false;
  if (q.kind === 'nothing') return scene.objects.length === 0;
  return q.objects.length === scene.objects.length && isQueryTrue(q, scene);
}

/** Opens the pack the evaluation runs (the bundled one unless told otherwise). */
export function openEvalEmbedder(modelDir?: string): Promise<Embedder> {
  return openRuntime(
    { model: modelDir, device: 'auto', threads: 0, batchSize: 32, batchWaitMs: 5 },
    silentLogger,
  );
}

/** Renders (cached) and embeds a set of videos through the real pipeline. */
export async function prepareRuns(
  specs: readonly VideoSpec[],
  embedder: Embedder,
  opts: Pick<EvalOptions, 'cacheDir' | 'fps' | 'progress'>,
): Promise<{ runs: VideoRun[]; renderSec: number; pipelineSec: number }> {
  const say = opts.progress ?? (() => undefined);
  await mkdir(opts.cacheDir, { recursive: true });
  const t0 = performance.now();
  const paths: string[] = [];
  for (const [i, spec] of specs.entries()) {
    paths.push(await renderCached(spec, opts.cacheDir));
    say(`rendered ${i + 1}/${specs.length}`);
  }
  const t1 = performance.now();
  const cal = calibrationFor(embedder.pack.manifest);
  const runs: VideoRun[] = [];
  for (const [i, path] of paths.entries()) {
    const { track } = await processVideo(
      {
        videoId: `eval-${i}`,
        uri: path,
        queries: [],
        captions: [],
        sampling: { strategy: 'fps', fps: opts.fps },
      },
      {
        embedder,
        policy: { allowPrivateNetworks: false },
        match: DEFAULT_MATCH_OPTIONS,
        calibration: cal,
        log: silentLogger,
      },
    );
    runs.push({ spec: specs[i]!, track });
    say(`embedded ${i + 1}/${paths.length}`);
  }
  return { runs, renderSec: (t1 - t0) / 1000, pipelineSec: (performance.now() - t1) / 1000 };
}

/** Truth of a query at a frame time: the scene showing at that time holds it. */
export function truthAt(spec: VideoSpec, query: string, timeSec: number): boolean {
  const spans = sceneSpans(spec);
  const i = spans.findIndex((s) => timeSec >= s.startSec - 1e-6 && timeSec < s.endSec - 1e-6);
  const scene = spec.scenes[i === -1 ? spec.scenes.length - 1 : i]!;
  return isQueryTrue(query, scene);
}

export async function evaluate(opts: EvalOptions): Promise<EvalReport> {
  const specs = evalSpecs(opts);
  const embedder = await openEvalEmbedder(opts.modelDir);
  const pack = embedder.pack;
  const match: MatchOptions = { ...DEFAULT_MATCH_OPTIONS, ...opts.match };
  const cal = opts.calibration ?? calibrationFor(pack.manifest);
  try {
    const { runs, renderSec, pipelineSec } = await prepareRuns(specs, embedder, opts);
    const tPipe = performance.now();
    const queryTexts = buildQueries(specs, opts.extraPairs, opts.seed);
    const bankTexts = captionBank();
    const qv = await embedder.embedTexts(queryTexts);
    const bv = await embedder.embedTexts(bankTexts);
    const queries = queryTexts.map((text, i) => ({ text, vectors: qv[i]! }));
    const bank = bankTexts.map((text, i) => ({ text, vectors: bv[i]! }));
    const combined = scoreVariant(runs, queries, bank, cal, match);
    const frameLevel = scoreVariant(runs, queries, bank, cal, { ...match, wordWeight: 0 });
    const fineGrained = scoreVariant(runs, queries, bank, cal, { ...match, wordWeight: 1 });
    const strip = ({ truePairs: _a, falsePairs: _b, swappedPairs: _c, ...m }: typeof combined): Metrics => m;
    const { progress: _p, cacheDir: _c, ...optsOut } = opts;
    return {
      schema: 'clipstream.eval.v1',
      options: optsOut,
      model: { name: pack.manifest.name, sha256: pack.sha256 },
      counts: {
        videos: runs.length,
        frames: runs.reduce((n, r) => n + r.track.count, 0),
        queries: queryTexts.length,
        truePairs: combined.truePairs,
        falsePairs: combined.falsePairs,
        swappedPairs: combined.swappedPairs,
      },
      variants: { combined: strip(combined), frameLevel: strip(frameLevel), fineGrained: strip(fineGrained) },
      seconds: {
        render: round(renderSec),
        pipeline: round(pipelineSec),
        match: round((performance.now() - tPipe) / 1000),
      },
    };
  } finally {
    await embedder.close();
  }
}

function round(x: number): number {
  return Math.round(x * 100) / 100;
}

export function reportTable(r: EvalReport): string {
  const rows: [string, Metrics][] = [
    ['frame-level only', r.variants.frameLevel],
    ['fine-grained only', r.variants.fineGrained],
    ['combined (default)', r.variants.combined],
  ];
  const f = (x: number) => (Number.isNaN(x) ? 'n/a' : x.toFixed(3));
  const lines = [
    '| matcher | moment recall (IoU>=0.5) | false-match rate | swapped-binding false-match | caption time-accuracy | ranking mAP |',
    '| --- | --- | --- | --- | --- | --- |',
    ...rows.map(
      ([n, m]) =>
        `| ${n} | ${f(m.momentRecall)} | ${f(m.falseMatchRate)} | ${f(m.swappedFalseMatchRate)} | ${f(m.captionTimeAccuracy)} | ${f(m.mAP)} |`,
    ),
  ];
  return lines.join('\n');
}

export async function writeReport(r: EvalReport, path: string): Promise<void> {
  await writeFile(path, `${JSON.stringify(r, null, 2)}\n`);
}
