import { readFileSync } from 'node:fs';
import { loadConfig } from '../config.js';
import { ClipstreamError, formatError } from '../errors.js';
import type { Embedder } from '../embed/index.js';
import { Worker, ingestOptionsOf, retryKafka } from '../ingest/index.js';
import { createLogger } from '../log.js';
import { contextFromConfig } from '../pipeline/index.js';
import { createInstruments, setupTelemetry, startHealthServer } from '../telemetry/index.js';
import type { HealthServer, Telemetry } from '../telemetry/index.js';
import { parse } from './common.js';
import { openRuntime } from './runtime.js';
import { WORKER, usage } from './flags.js';

const OPTIONS = WORKER.flags;

export const WORKER_USAGE = usage(WORKER);

/** Exit code of a worker stopped by SIGTERM/SIGINT after a clean shutdown. */
const EXIT_OK = 0;
/** Exit code when the consumer died for good or shutdown overran its deadline. */
const EXIT_FAILED = 1;

export async function workerCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parse(argv, OPTIONS);
  if (values.help) {
    process.stdout.write(WORKER_USAGE);
    return 0;
  }
  if (positionals.length > 0)
    throw new ClipstreamError(
      'CLIPSTREAM_BAD_ARGUMENT',
      `worker takes no arguments, got '${positionals[0]}'`,
    );
  const config = loadConfig({
    brokers: values.brokers,
    inputTopic: values['input-topic'],
    outputTopic: values['output-topic'],
    dlqTopic: values['dlq-topic'],
    queriesTopic: values['queries-topic'],
    group: values.group,
    model: values.model,
    streamsTopic: values['streams-topic'],
    alertsTopic: values['alerts-topic'],
  });
  const version = (
    JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string }
  ).version;
  const log = createLogger({
    level: config.logLevel,
    format: config.logFormat,
    base: { service: 'clipstream-worker' },
  });

  let stopReason: string | undefined;
  let exitCode = EXIT_OK;
  let wake: () => void = () => undefined;
  const stopped = new Promise<void>((resolve) => (wake = resolve));
  const stop = (reason: string, code: number) => {
    if (stopReason !== undefined) return;
    stopReason = reason;
    exitCode = code;
    wake();
  };
  const onSignal = (signal: NodeJS.Signals) => {
    if (stopReason !== undefined) {
      log.error('second signal during shutdown: exiting now', { signal });
      process.exit(EXIT_FAILED);
    }
    log.info('signal received: shutting down', { signal });
    stop(signal, EXIT_OK);
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);

  let telemetry: Telemetry | undefined;
  let health: HealthServer | undefined;
  let embedder: Embedder | undefined;
  let worker: Worker | undefined;
  let streams: { start(): Promise<void>; close(): Promise<void> } | undefined;
  let startError: unknown;
  try {
    telemetry = await setupTelemetry({ serviceName: 'clipstream-worker', version, log });
    const instruments = createInstruments(telemetry.meter);
    const meta = telemetry;
    if (config.httpPort > 0) {
      health = await startHealthServer({
        port: config.httpPort,
        readiness: () => ({
          model: embedder !== undefined,
          standingQueries: worker?.readiness().standingQueries ?? false,
          consumer: worker?.readiness().consumer ?? false,
        }),
        metrics: meta.metricsHandler,
      });
      log.info('serving /healthz, /readyz and /metrics', { port: health.port });
    }
    const opening = openRuntime(
      { ...config, onImageBatch: (size, ms) => instruments.onImageBatch(size, ms) },
      log,
    );
    embedder = await Promise.race([opening, stopped.then(() => undefined)]);
    if (!embedder) {
      // Stopped while the model was loading: let it finish loading, then release it.
      embedder = await opening.catch(() => undefined);
    } else {
      worker = new Worker({
        config: ingestOptionsOf(config),
        context: contextFromConfig('worker', config, embedder, log),
        embedder,
        log,
        instruments,
        onFatal: () => stop('consumer failed', EXIT_FAILED),
      });
      const starting = worker.start();
      await Promise.race([starting, stopped]);
      if (stopReason === undefined) await starting;
      else starting.catch(() => undefined);
      if (stopReason === undefined) {
        const manager = await streamManager(config, embedder, worker.standing, log);
        streams = manager;
        // Like the worker: a stop while the stream manager starts (a broker gone) ends the wait.
        // A broker that drops out while it starts: retried for about 10 s, as the worker's start is.
        const startingStreams = retryKafka(
          () => manager.start(),
          20,
          500,
          () => stopReason !== undefined,
        );
        await Promise.race([startingStreams, stopped]);
        if (stopReason === undefined) await startingStreams;
        else startingStreams.catch(() => undefined);
      }
      await stopped;
    }
  } catch (err) {
    startError = err;
  }

  // Shutdown, in order, each step on its own: the worker (stop fetching, drain or abort, commit,
  // leave the group, flush the producer), the model sessions, telemetry, the HTTP server.
  const deadline = setTimeout(() => {
    log.error('shutdown overran its deadline: exiting', { deadlineMs: config.shutdownGraceMs + 9000 });
    process.exit(EXIT_FAILED);
  }, config.shutdownGraceMs + 9000);
  deadline.unref();
  const t0 = Date.now();
  const step = async (what: string, fn: () => Promise<unknown>) => {
    try {
      await fn();
    } catch (err) {
      log.warn(`shutdown: ${what} failed`, { error: formatError(err) });
    }
  };
  if (streams) await step('streams', () => streams.close());
  if (worker) await step('worker', () => worker.close());
  if (embedder) await step('model sessions', () => embedder.close());
  if (telemetry) await step('telemetry', () => telemetry.shutdown());
  if (health) await step('HTTP server', () => health.close());
  clearTimeout(deadline);
  process.off('SIGTERM', onSignal);
  process.off('SIGINT', onSignal);
  if (startError !== undefined) throw startError;
  log.info('worker exited', { reason: stopReason, shutdownMs: Date.now() - t0 });
  return exitCode;
}

/** The live streams of this worker's partitions of the streams topic (src/live/streams.ts). */
async function streamManager(
  config: ReturnType<typeof loadConfig>,
  embedder: Embedder,
  standing: Worker['standing'],
  log: ReturnType<typeof createLogger>,
): Promise<{ start(): Promise<void>; close(): Promise<void> }> {
  const [{ StreamManager }, { createKafka }, { sourcePolicyFor }, { matchOptionsOf }] = await Promise.all([
    import('../live/streams.js'),
    import('../ingest/index.js'),
    import('../frames/index.js'),
    import('../config.js'),
  ]);
  const manager = new StreamManager({
    settings: config,
    kafka: createKafka(config, log),
    embedder,
    policy: sourcePolicyFor('worker', config),
    match: matchOptionsOf(config),
    log: log.child({ component: 'streams' }),
    // Streams match the standing queries too, as videos do (docs/live.md).
    standing,
  });
  return manager;
}
