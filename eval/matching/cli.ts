/**
 * `npm run eval`: the matching evaluation on a seeded, freshly rendered shapes-world test set.
 *
 *   node dist/eval/matching/cli.js [--videos 40] [--seed 7] [--fps 2] [--duration 30]
 *        [--model DIR] [--cache DIR] [--json FILE]
 */
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { formatError } from '../../src/errors.js';
import { evaluate, reportTable, writeReport } from './evaluate.js';

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
    },
    strict: true,
  });
  const num = (k: keyof typeof values) => {
    const n = Number(values[k]);
    if (!Number.isFinite(n) || n <= 0) throw new Error(`--${k} must be a positive number`);
    return n;
  };
  const report = await evaluate({
    videos: num('videos'),
    seed: num('seed'),
    fps: num('fps'),
    durationSec: num('duration'),
    extraPairs: num('pairs'),
    ...(values.model ? { modelDir: values.model } : {}),
    cacheDir: values.cache ?? join(tmpdir(), 'clipstream-eval-cache'),
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
