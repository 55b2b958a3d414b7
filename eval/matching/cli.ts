/**
 * `npm run eval`: the matching evaluation on a seeded, freshly rendered shapes-world test set.
 *
 *   node dist/eval/matching/cli.js [--videos 40] [--seed 7] [--fps 2] [--duration 30]
 *        [--model DIR] [--cache DIR] [--json FILE]
 *   node dist/eval/matching/cli.js --fit-calibration [--write] [--videos N] [--seed S] ...
 *        fits the pack's matching.calibration on a disjoint calibration set (and writes it)
 */
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { formatError } from '../../src/errors.js';
import { readFile, writeFile } from 'node:fs/promises';
import { fitCalibration } from './calibrate.js';
import {
  buildQueries,
  evalSpecs,
  evaluate,
  openEvalEmbedder,
  prepareRuns,
  reportTable,
  truthAt,
  writeReport,
} from './evaluate.js';

/** Calibration seeds are offset far from evaluation seeds, so the two sets never share a video. */
const CALIBRATION_SEED_OFFSET = 100_003;

async function fit(o: {
  videos: number;
  seed: number;
  fps: number;
  durationSec: number;
  pairs: number;
  model?: string;
  cacheDir: string;
  write: boolean;
}): Promise<void> {
  const specs = evalSpecs({
    videos: o.videos,
    seed: o.seed + CALIBRATION_SEED_OFFSET,
    durationSec: o.durationSec,
  });
  const embedder = await openEvalEmbedder(o.model);
  try {
    const { runs } = await prepareRuns(specs, embedder, { cacheDir: o.cacheDir, fps: o.fps });
    const texts = buildQueries(specs, o.pairs, o.seed + CALIBRATION_SEED_OFFSET);
    const vecs = await embedder.embedTexts(texts);
    const cal = fitCalibration(
      runs.map((r) => ({
        track: r.track,
        truth: (qi: number, t: number) => truthAt(r.spec, texts[qi]!, r.track.times[t]!),
      })),
      vecs,
    );
    process.stdout.write(
      `${JSON.stringify({ calibration: cal, videos: runs.length, queries: texts.length })}\n`,
    );
    if (o.write) {
      const path = join(embedder.pack.dir, 'model.json');
      const manifest = JSON.parse(await readFile(path, 'utf8')) as Record<string, unknown>;
      manifest.matching = {
        ...((manifest.matching as object | undefined) ?? {}),
        calibration: cal,
        calibrationSet: `shapes-world: ${runs.length} videos of ${o.durationSec} s, seeds ${o.seed + CALIBRATION_SEED_OFFSET}*1000+i, fps ${o.fps}`,
      };
      await writeFile(path, `${JSON.stringify(manifest, null, 2)}\n`);
      process.stdout.write(`wrote matching.calibration to ${path}\n`);
    }
  } finally {
    await embedder.close();
  }
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      videos: { type: 'string', default: '40' },
      seed: { type: 'string', default: '7' },
      fps: { type: 'string', default: '2' },
      duration: { type: 'string', default: '30' },
      pairs: { type: 'string', default: '24' },
      model: { type: 'string' },
      cache: { type: 'string' },
      json: { type: 'string' },
      'fit-calibration': { type: 'boolean', default: false },
      write: { type: 'boolean', default: false },
    },
    strict: true,
  });
  const num = (k: keyof typeof values) => {
    const n = Number(values[k]);
    if (!Number.isFinite(n) || n <= 0) throw new Error(`--${k} must be a positive number`);
    return n;
  };
  const cacheDir = values.cache ?? join(tmpdir(), 'clipstream-eval-cache');
  if (values['fit-calibration']) {
    await fit({
      videos: num('videos'),
      seed: num('seed'),
      fps: num('fps'),
      durationSec: num('duration'),
      pairs: num('pairs'),
      ...(values.model ? { model: values.model } : {}),
      cacheDir,
      write: values.write,
    });
    return 0;
  }
  const report = await evaluate({
    videos: num('videos'),
    seed: num('seed'),
    fps: num('fps'),
    durationSec: num('duration'),
    extraPairs: num('pairs'),
    ...(values.model ? { modelDir: values.model } : {}),
    cacheDir,
    progress: (l) => process.stderr.isTTY && process.stderr.write(`\r${l}   `),
  });
  if (process.stderr.isTTY) process.stderr.write('\n');
  const c = report.counts;
  process.stdout.write(
    `model ${report.model.name} (${report.model.sha256.slice(0, 12)}); ${c.videos} videos, ${c.frames} frames, ` +
      `${c.queries} queries: ${c.truePairs} true and ${c.falsePairs} false video-query pairs (${c.swappedPairs} swapped bindings)\n` +
      `time: render ${report.seconds.render} s, pipeline ${report.seconds.pipeline} s, match ${report.seconds.match} s\n\n` +
      `${reportTable(report)}\n`,
  );
  if (values.json) await writeReport(report, values.json);
  return 0;
}

main().then(
  (code) => (process.exitCode = code),
  (err: unknown) => {
    process.stderr.write(`eval: ${formatError(err)}\n`);
    process.exitCode = 1;
  },
);
