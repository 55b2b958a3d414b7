import { loadConfig } from '../config.js';
import { SCENARIO_NAMES, parseBenchOptions, renderText, roundReport, runBench } from '../bench/index.js';
import { ClipstreamError } from '../errors.js';
import { parse, positiveNumber } from './common.js';

const OPTIONS = {
  json: { type: 'boolean' },
  quick: { type: 'boolean' },
  model: { type: 'string' },
  int8: { type: 'boolean' },
  seed: { type: 'string' },
  'gflop-per-frame': { type: 'string' },
  keep: { type: 'boolean' },
  scenarios: { type: 'string' },
  rounds: { type: 'string' },
  'no-budget': { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

export const BENCH_USAGE = `Usage: clipstream bench [--json] [--quick] [--model DIR] [--int8] [--seed N]
                        [--gflop-per-frame G] [--keep] [--scenarios LIST|all|none] [--rounds N]
                        [--no-budget]
Measures this machine in one run: the runtime's float32 MatMul peak, each stage alone (decode,
embed, match), the pipeline end to end, and a straightforward reference pipeline, on a test
video rendered in the run and a CLIP ViT-B/32-shaped model with random weights (docs/performance.md).

  --json               print one JSON document (clipstream.bench.v1) instead of the table
  --quick              a short run: smaller video, fewer batch sizes and repetitions
  --model DIR          bench this model pack instead of the generated model
  --int8               also measure a dynamically quantised int8 variant of the generated model
  --seed N             seed of the generated model's random weights (default 1)
  --gflop-per-frame G  cost of a --model pack whose shape is not recognised (2 FLOP per multiply-add)
  --keep               keep the scratch folder (model, video) and print where it is
  --scenarios LIST     comparisons against the expert script, comma-separated (default all):
                       ${SCENARIO_NAMES.join(', ')}; none skips them
  --rounds N           alternating rounds per comparison (default 2, 1 with --quick)
  --no-budget          skip measuring the CPU budget's changes one by one

Runtime settings come from the environment as for the worker: CLIPSTREAM_DEVICE,
CLIPSTREAM_THREADS, CLIPSTREAM_BATCH_SIZE, CLIPSTREAM_BATCH_WAIT_MS, CLIPSTREAM_MAX_FRAMES_IN_FLIGHT.
`;

export async function benchCommand(argv: string[]): Promise<number> {
  const { values } = parse(argv, OPTIONS, false);
  if (values.help) {
    process.stdout.write(BENCH_USAGE);
    return 0;
  }
  const seed = values.seed === undefined ? undefined : Number(values.seed);
  if (seed !== undefined && !Number.isInteger(seed)) {
    throw new ClipstreamError(
      'CLIPSTREAM_BAD_ARGUMENT',
      `--seed must be a whole number, got '${values.seed}'`,
    );
  }
  const rounds = values.rounds === undefined ? undefined : Number(values.rounds);
  if (rounds !== undefined && !Number.isInteger(rounds)) {
    throw new ClipstreamError(
      'CLIPSTREAM_BAD_ARGUMENT',
      `--rounds must be a whole number, got '${values.rounds}'`,
    );
  }
  const scenarios =
    values.scenarios === undefined || values.scenarios === 'all'
      ? undefined
      : values.scenarios === 'none'
        ? []
        : values.scenarios.split(',').map((x) => x.trim());
  const config = loadConfig({ logLevel: 'warn', logFormat: 'text' });
  const opts = parseBenchOptions({
    quick: values.quick ?? false,
    int8: values.int8 ?? false,
    keep: values.keep ?? false,
    ...(values.model ? { model: values.model } : {}),
    ...(seed !== undefined ? { seed } : {}),
    ...(rounds !== undefined ? { rounds } : {}),
    budget: values['no-budget'] !== true,
    ...(scenarios !== undefined ? { scenarios: scenarios as (typeof SCENARIO_NAMES)[number][] } : {}),
    ...(values['gflop-per-frame'] !== undefined
      ? { gflopPerFrame: positiveNumber(values['gflop-per-frame'], '--gflop-per-frame') }
      : {}),
    device: config.device,
    threads: config.threads,
    batchSize: config.batchSize,
    batchWaitMs: config.batchWaitMs,
    framesInFlight: config.maxFramesInFlight,
  });
  const tty = process.stderr.isTTY === true;
  const t0 = Date.now();
  const progress = tty
    ? (step: string) =>
        process.stderr.write(`\r\x1b[Kclipstream bench [${Math.round((Date.now() - t0) / 1000)} s]: ${step}`)
    : undefined;
  const abort = new AbortController();
  const onSignal = () => abort.abort(new ClipstreamError('CLIPSTREAM_ABORTED', 'interrupted'));
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    const report = roundReport(
      await runBench(opts, {
        signal: abort.signal,
        kept: (dir) => process.stderr.write(`${tty ? '\r\x1b[K' : ''}clipstream bench: kept ${dir}\n`),
        ...(progress ? { progress } : {}),
      }),
    );
    if (tty) process.stderr.write('\r\x1b[K');
    process.stdout.write(values.json ? `${JSON.stringify(report, null, 2)}\n` : renderText(report));
    return 0;
  } finally {
    if (tty) process.stderr.write('\r\x1b[K');
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}
