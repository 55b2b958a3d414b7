import { loadConfig } from '../config.js';
import type { SCENARIO_NAMES } from '../bench/index.js';
import { parseBenchOptions, renderText, roundReport, runBench } from '../bench/index.js';
import { ClipstreamError } from '../errors.js';
import { parse, positiveNumber } from './common.js';
import { BENCH, usage } from './flags.js';

const OPTIONS = BENCH.flags;

export const BENCH_USAGE = usage(BENCH);

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
    encoderLanes: config.encoderLanes,
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
