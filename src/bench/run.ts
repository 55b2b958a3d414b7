/**
 * `clipstream bench`: everything in one run on this machine (design.md 6). Builds the benchmark
 * model packs and renders the test video in a scratch folder, then measures the MatMul peak,
 * each stage alone, the pipeline end to end (one video, then several sharing the batcher) and
 * the straightforward reference pipeline, and derives the comparisons.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import {
  Embedder,
  embedderOptions as stageEmbedderOptions,
  laneLayout,
  loadModelPack,
} from '../embed/index.js';
import type { EmbedderOptions, ModelPack } from '../embed/index.js';
import { ClipstreamError } from '../errors.js';
import { checkFfmpeg } from '../frames/index.js';
import { silentLogger } from '../log.js';
import { DEFAULT_MATCH_OPTIONS } from '../match/index.js';
import type { FrameTrack } from '../match/index.js';
import { calibrationFor } from '../pipeline/index.js';
import { alternate, medianRound, openReference } from './comparison.js';
import { endToEnd } from './e2e.js';
import type { EndToEndResult } from './e2e.js';
import { load, machineInfo } from './machine.js';
import { writeBenchPacks } from './models/pack.js';
import type { BenchPacks } from './models/pack.js';
import { generatedModelInfo, packModelInfo } from './model-info.js';
import { planFor } from './options.js';
import type { BenchOptions } from './options.js';
import { BENCH_SCHEMA, summarise } from './report.js';
import type { BenchReport, Measurements, ModelInfo } from './report.js';
import { decodeStage, describeSampling, embedStage, matchStage, matmulPeak } from './stages.js';
import type { EmbedResult } from './stages.js';
import { runBudget } from './budget.js';
import type { BudgetRow } from './budget.js';
import { runScenarios, scenarioList } from './scenarios.js';
import type { ScenarioResult } from './scenarios.js';
import { renderTestVideo } from './video.js';
import type { RenderedVideo } from './video.js';

export interface BenchHooks {
  /** Called at the start of each step (for a progress line). */
  readonly progress?: (step: string) => void;
  readonly signal?: AbortSignal;
  /** With `keep`: told where the scratch folder (models, video) was left. */
  readonly kept?: (dir: string) => void;
}

function embedderOptions(o: BenchOptions): EmbedderOptions {
  return stageEmbedderOptions({
    device: o.device,
    threads: o.threads,
    encoderLanes: o.encoderLanes,
    batchSize: o.batchSize,
    batchWaitMs: o.batchWaitMs,
  });
}

/** Size of the MatMul probes taken next to each embed figure. */
const PROBE_SIZE = 2048;

function cosines(a: Float32Array[], b: Float32Array[]): number[] {
  return a.map((x, i) => x.reduce((s, v, k) => s + v * ((b[i] as Float32Array)[k] as number), 0));
}

export async function runBench(o: BenchOptions, hooks: BenchHooks = {}): Promise<BenchReport> {
  const started = new Date();
  const t0 = performance.now();
  const plan = planFor(o);
  const marks: { name: string; at: number; load1: number }[] = [];
  const step = (s: string) => {
    marks.push({ name: s, at: performance.now(), load1: load()[0] });
    hooks.progress?.(s);
  };
  const check = () => {
    if (hooks.signal?.aborted) throw new ClipstreamError('CLIPSTREAM_ABORTED', 'bench interrupted');
  };
  const bins = await checkFfmpeg();
  const machine = machineInfo(bins.version);
  const dir = await mkdtemp(join(tmpdir(), 'clipstream-bench-'));
  const cleanups: (() => Promise<unknown>)[] = [];
  try {
    let packs: BenchPacks | undefined;
    let pack: ModelPack;
    let model: ModelInfo;
    if (o.model) {
      pack = await loadModelPack(o.model);
      model = await packModelInfo(pack, o);
    } else {
      step('writing the benchmark model (exported open_clip ViT-B/32, seeded random weights)');
      packs = await writeBenchPacks(join(dir, 'model'), { seed: o.seed, int8: o.int8 });
      pack = await loadModelPack(packs.fp32Dir);
      model = generatedModelInfo(packs);
    }
    check();
    step(`rendering the test video (${plan.video.width}x${plan.video.height}, ${plan.video.durationSec} s)`);
    const video: RenderedVideo = await renderTestVideo(bins.ffmpeg, dir, plan.video);
    const rendered = new Map<string, RenderedVideo>();
    const pv = plan.video;
    rendered.set(`${pv.width}x${pv.height}@${pv.fps}-${pv.durationSec}s-g${pv.gopSec}`, video);
    check();

    step('loading the model');
    const embedder = await Embedder.open(pack, embedderOptions(o), silentLogger);
    cleanups.push(() => embedder.close());
    const provider = embedder.provider;
    const flopsPerFrame = model.gflopPerFrame === null ? null : model.gflopPerFrame * 1e9;

    step('MatMul peak');
    const matmul = await matmulPeak(plan.matmulSizes, provider, o.threads, plan.matmulRepeat);
    check();

    const decode = [];
    let frames: Uint8Array[] = [];
    const keep = Math.max(...plan.embedBatches);
    for (const s of plan.decodeSamplings) {
      step(`decode + sample, ${describeSampling(s)}`);
      const r = await decodeStage(
        video.path,
        embedder.input,
        s,
        plan.decodeRuns,
        frames.length === 0 ? keep : 0,
      );
      decode.push(r.result);
      if (frames.length === 0) frames = r.frames;
      check();
    }

    // A short MatMul probe next to each embed figure: on a shared machine the load changes
    // within a run, and the peak is the best the runtime showed at any of these moments.
    const probe = async (label: string) => {
      matmul.push(...(await matmulPeak([PROBE_SIZE], provider, o.threads, plan.probeRepeat, label)));
      check();
    };
    const embed = await embedStage(
      embedder,
      frames,
      plan.embedBatches,
      flopsPerFrame,
      plan.embedRepeat,
      async (b) => {
        step(`embed, batch ${b}`);
        await probe(`before batch ${b}`);
      },
    );
    check();

    const setup = {
      embedder,
      path: video.path,
      sampling: plan.sampling,
      queries: plan.queries,
      captions: plan.captions,
      match: DEFAULT_MATCH_OPTIONS,
      framesInFlight: o.framesInFlight,
    };
    step('reference pipeline: loading');
    const refRunner = await openReference(
      {
        ffmpeg: bins.ffmpeg,
        path: video.path,
        width: video.width,
        height: video.height,
        fps: video.fps,
        sampleFps: plan.sampling.fps,
        outWidth: pack.manifest.image.width,
        outHeight: pack.manifest.image.height,
      },
      packs,
      embedder,
      provider,
      o.threads,
    );
    cleanups.push(() => refRunner.close());
    const tracks: FrameTrack[] = [];
    const rounds = await alternate(
      plan.comparisonRounds,
      async (i) => {
        step(`end to end, one video (round ${i + 1})`);
        const r = await endToEnd(setup, 1, hooks.signal);
        tracks.push(r.track);
        return r.result;
      },
      async (i) => {
        step(`reference pipeline (round ${i + 1})`);
        return refRunner.run(hooks.signal);
      },
    );
    await refRunner.close();
    const one = medianRound(rounds.a);
    const reference = medianRound(rounds.b);
    check();
    step(`end to end, ${plan.concurrentVideos} videos at once`);
    const many = (await endToEnd(setup, plan.concurrentVideos, hooks.signal)).result;
    check();

    let embedInt8: EmbedResult[] | undefined;
    let int8Agreement: Measurements['int8Agreement'];
    let int8EndToEnd: EndToEndResult | undefined;
    if (packs?.int8Dir) {
      step('int8 model');
      const q = await Embedder.open(await loadModelPack(packs.int8Dir), embedderOptions(o), silentLogger);
      try {
        embedInt8 = await embedStage(q, frames, plan.embedBatches, flopsPerFrame, plan.embedRepeat, (b) =>
          step(`embed int8, batch ${b}`),
        );
        const sample = frames.slice(0, 16);
        const cos = cosines(await embedder.embedFramesNow(sample), await q.embedFramesNow(sample));
        int8Agreement = {
          frames: cos.length,
          meanCosine: cos.reduce((x, y) => x + y, 0) / cos.length,
          minCosine: Math.min(...cos),
        };
        step('end to end, one video, int8');
        int8EndToEnd = (await endToEnd({ ...setup, embedder: q }, 1, hooks.signal, 'int8')).result;
      } finally {
        await q.close();
      }
      check();
    }

    let budget: BudgetRow[] | undefined;
    if (o.budget) {
      budget = await runBudget(
        setup,
        pack,
        embedderOptions(o),
        machine.cores,
        plan.scenarioRounds,
        step,
        hooks.signal,
      );
      check();
    }

    let scenarios: ScenarioResult[] = [];
    if (o.scenarios.length > 0) {
      const q = packs?.int8Dir
        ? await Embedder.open(await loadModelPack(packs.int8Dir), embedderOptions(o), silentLogger)
        : undefined;
      try {
        scenarios = await runScenarios(
          {
            ffmpeg: bins.ffmpeg,
            dir,
            models: {
              fp32: { embedder, imageModel: pack.paths.image },
              ...(q ? { int8: { embedder: q, imageModel: q.pack.paths.image } } : {}),
            },
            queries: plan.queries,
            captions: plan.captions,
            match: DEFAULT_MATCH_OPTIONS,
            framesInFlight: o.framesInFlight,
            rounds: plan.scenarioRounds,
            rendered,
            step,
            ...(hooks.signal ? { signal: hooks.signal } : {}),
          },
          scenarioList(o.scenarios, o.quick),
        );
      } finally {
        await q?.close();
      }
      check();
    }

    step('match');
    const texts = await embedder.embedTexts([...plan.queries, ...plan.captions]);
    const nq = plan.queries.length;
    const match = await matchStage(
      tracks[0] as FrameTrack,
      plan.queries.map((text, i) => ({ id: `q${i + 1}`, text, vectors: texts[i]! })),
      plan.captions.map((text, i) => ({ text, vectors: texts[nq + i]! })),
      calibrationFor(pack.manifest),
      DEFAULT_MATCH_OPTIONS,
      plan.matchRepeat,
    );
    await embedder.close();

    marks.push({ name: 'end', at: performance.now(), load1: load()[0] });
    const steps = marks.slice(0, -1).map((m, k) => ({
      step: m.name,
      sec: ((marks[k + 1] as typeof m).at - m.at) / 1000,
      load1: m.load1,
    }));
    machine.loadAtEnd = load();
    const notes = runNotes(provider, machine, model, !!embedInt8);
    if (reference.frames !== one.frames) {
      notes.push(`The reference pipeline sampled ${reference.frames} frames, the real one ${one.frames}.`);
    }
    const measurements: Measurements = {
      schema: BENCH_SCHEMA,
      startedAt: started.toISOString(),
      durationSec: (performance.now() - t0) / 1000,
      mode: o.quick ? 'quick' : 'default',
      machine,
      runtime: {
        provider,
        ...laneLayout({ lanes: o.encoderLanes, intraOpThreads: o.threads }, machine.cores, provider),
        batch: embedderOptions(o).batch,
        framesInFlight: o.framesInFlight,
      },
      model,
      video: {
        width: video.width,
        height: video.height,
        fps: video.fps,
        durationSec: video.durationSec,
        gopSec: video.gopSec,
        codec: video.codec,
        bytes: video.bytes,
        renderMs: video.renderMs,
      },
      sampling: describeSampling(plan.sampling),
      matmul,
      decode,
      embed,
      ...(embedInt8 ? { embedInt8 } : {}),
      ...(int8Agreement ? { int8Agreement } : {}),
      match,
      endToEnd: [one, many, ...(int8EndToEnd ? [int8EndToEnd] : [])],
      reference,
      scenarios,
      ...(budget ? { budget } : {}),
      peakRssMiB: process.resourceUsage().maxRSS / 1024,
      steps,
      notes,
    };
    return { ...measurements, summary: summarise(measurements) };
  } finally {
    for (const c of cleanups.reverse()) await c().catch(() => undefined);
    if (!o.keep) await rm(dir, { recursive: true, force: true }).catch(() => undefined);
    else hooks.kept?.(dir);
  }
}

function runNotes(
  provider: string,
  machine: BenchReport['machine'],
  model: ModelInfo,
  int8: boolean,
): string[] {
  const notes: string[] = [];
  if (provider === 'cpu') {
    notes.push('CPU execution provider: no GPU was used in this run, so no CUDA figures are measured here.');
  }
  const busy = Math.max(machine.loadAtStart[0], machine.loadAtEnd?.[0] ?? 0);
  if (busy > 0.5) {
    notes.push(
      `The machine was not quiet (1-minute load average up to ${busy.toFixed(2)} on ${machine.cores} CPUs): other work shared the cores and the figures are low and noisy.`,
    );
  }
  if (model.source === 'generated') {
    notes.push(
      `Random weights (seed ${model.seed}) in the graphs tools/model exports from open_clip ViT-B-32; texts are embedded and cached before the timed runs.`,
    );
  }
  if (int8)
    notes.push(
      'int8 agreement is measured on random weights: it checks the graph, not accuracy on a real checkpoint.',
    );
  return notes;
}
