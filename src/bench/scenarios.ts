/**
 * clipstream against the expert script (expert.ts), scenario by scenario: the same video(s),
 * the same model file, in alternating rounds (clipstream, script, clipstream, script, ...) so
 * that each pair sees the same load on a shared machine. With the int8 model, clipstream is
 * held against the same script on the int8 model and against the float32 script.
 */
import type { Embedder } from '../embed/index.js';
import type { MatchOptions } from '../match/index.js';
import { alternate, medianRound } from './comparison.js';
import type { Rounds } from './comparison.js';
import { endToEnd } from './e2e.js';
import type { EndToEndResult } from './e2e.js';
import { openExpert } from './expert.js';
import type { ExpertResult, ExpertRunner, ExpertSampling } from './expert.js';
import { median } from './measure.js';
import { renderTestVideo } from './video.js';
import type { RenderedVideo, VideoSpec } from './video.js';

export const SCENARIO_NAMES = [
  '720p30-fps2',
  '720p30-fps1',
  '720p30-keyframes',
  '1080p60-fps2',
  '4x720p30-fps2',
] as const;
export type ScenarioName = (typeof SCENARIO_NAMES)[number];

export interface Scenario {
  readonly name: ScenarioName;
  readonly video: VideoSpec;
  readonly sampling: ExpertSampling;
  /** videos at once through one worker (the script runs them one after another) */
  readonly videos: number;
}

/** The scenarios of issue 10; `quick` shrinks every video, keeping its shape of work. */
export function scenarioList(names: readonly ScenarioName[], quick: boolean): Scenario[] {
  const v720: VideoSpec = quick
    ? { durationSec: 20, width: 640, height: 360, fps: 30, gopSec: 2 }
    : { durationSec: 60, width: 1280, height: 720, fps: 30, gopSec: 2 };
  const v1080: VideoSpec = quick
    ? { durationSec: 10, width: 960, height: 540, fps: 60, gopSec: 2 }
    : { durationSec: 30, width: 1920, height: 1080, fps: 60, gopSec: 2 };
  const all: Record<ScenarioName, Scenario> = {
    '720p30-fps2': { name: '720p30-fps2', video: v720, sampling: { strategy: 'fps', fps: 2 }, videos: 1 },
    '720p30-fps1': { name: '720p30-fps1', video: v720, sampling: { strategy: 'fps', fps: 1 }, videos: 1 },
    '720p30-keyframes': {
      name: '720p30-keyframes',
      video: v720,
      sampling: { strategy: 'keyframes' },
      videos: 1,
    },
    '1080p60-fps2': { name: '1080p60-fps2', video: v1080, sampling: { strategy: 'fps', fps: 2 }, videos: 1 },
    '4x720p30-fps2': { name: '4x720p30-fps2', video: v720, sampling: { strategy: 'fps', fps: 2 }, videos: 4 },
  };
  return names.map((n) => all[n]);
}

/** One model's comparison in one scenario. */
export interface ScenarioComparison {
  model: 'fp32' | 'int8';
  clipstream: Rounds<EndToEndResult>;
  expert: Rounds<ExpertResult>;
  /** clipstream over the script on the same model: median of the per-round ratios */
  speedupOverExpert: number;
  /** int8 only: clipstream int8 over the float32 script (median of the float32 rounds) */
  speedupOverFp32Expert?: number;
}

export interface ScenarioResult {
  name: ScenarioName;
  video: VideoSpec;
  sampling: string;
  videos: number;
  comparisons: ScenarioComparison[];
}

export interface ScenarioModels {
  readonly fp32: { embedder: Embedder; imageModel: string };
  readonly int8?: { embedder: Embedder; imageModel: string };
}

export interface ScenarioSetup {
  readonly ffmpeg: string;
  readonly dir: string;
  readonly models: ScenarioModels;
  readonly queries: readonly string[];
  readonly captions: readonly string[];
  readonly match: MatchOptions;
  readonly framesInFlight: number;
  readonly rounds: number;
  /** videos already rendered, by spec, to reuse */
  readonly rendered: Map<string, RenderedVideo>;
  readonly step: (s: string) => void;
  readonly signal?: AbortSignal;
}

const ratios = (a: readonly number[], b: readonly number[]): number =>
  median(a.map((x, i) => x / (b[i] as number)));

async function videoFor(s: ScenarioSetup, spec: VideoSpec): Promise<RenderedVideo> {
  const key = `${spec.width}x${spec.height}@${spec.fps}-${spec.durationSec}s-g${spec.gopSec}`;
  let v = s.rendered.get(key);
  if (!v) {
    s.step(`rendering the test video (${spec.width}x${spec.height} ${spec.fps} fps, ${spec.durationSec} s)`);
    v = await renderTestVideo(s.ffmpeg, s.dir, spec, `${key}.mp4`);
    s.rendered.set(key, v);
  }
  return v;
}

export async function runScenarios(s: ScenarioSetup, list: readonly Scenario[]): Promise<ScenarioResult[]> {
  const out: ScenarioResult[] = [];
  const experts = new Map<'fp32' | 'int8', ExpertRunner>();
  try {
    for (const sc of list) {
      const video = await videoFor(s, sc.video);
      const paths = Array.from({ length: sc.videos }, () => video.path);
      const label = sc.sampling.strategy === 'fps' ? `fps ${sc.sampling.fps}` : 'keyframes';
      const comparisons: ScenarioComparison[] = [];
      for (const model of ['fp32', 'int8'] as const) {
        const m = s.models[model];
        if (!m) continue;
        let expert = experts.get(model);
        if (!expert) {
          const { input } = m.embedder;
          expert = await openExpert({
            ffmpeg: s.ffmpeg,
            imageModel: m.imageModel,
            inputName: m.embedder.pack.manifest.image.input,
            width: input.width,
            height: input.height,
          });
          experts.set(model, expert);
        }
        const runner = expert;
        const setup = {
          embedder: m.embedder,
          path: video.path,
          sampling: sc.sampling,
          queries: s.queries,
          captions: s.captions,
          match: s.match,
          framesInFlight: s.framesInFlight,
        };
        const rounds = await alternate(
          s.rounds,
          async (i) => {
            s.step(`${sc.name} ${model}: clipstream (round ${i + 1})`);
            return (await endToEnd(setup, sc.videos, s.signal, model)).result;
          },
          async (i) => {
            s.step(`${sc.name} ${model}: expert script (round ${i + 1})`);
            return runner.run(paths, sc.sampling, s.signal);
          },
        );
        const c: ScenarioComparison = {
          model,
          clipstream: medianRound(rounds.a),
          expert: medianRound(rounds.b),
          speedupOverExpert: ratios(
            rounds.a.map((r) => r.framesPerSec),
            rounds.b.map((r) => r.framesPerSec),
          ),
        };
        const fp32 = comparisons.find((x) => x.model === 'fp32');
        if (model === 'int8' && fp32) {
          c.speedupOverFp32Expert = c.clipstream.framesPerSec / fp32.expert.framesPerSec;
        }
        comparisons.push(c);
      }
      out.push({ name: sc.name, video: sc.video, sampling: label, videos: sc.videos, comparisons });
    }
  } finally {
    for (const e of experts.values()) await e.close().catch(() => undefined);
  }
  return out;
}
