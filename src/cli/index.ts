import { readFileSync } from 'node:fs';
import { loadConfig } from '../config.js';
import type { Config } from '../config.js';
import { ClipstreamError } from '../errors.js';
import { createKafka } from '../ingest/index.js';
import { createLogger, silentLogger } from '../log.js';
import type { Logger } from '../log.js';
import { Indexer, Store, loadSearchOptions } from '../search/index.js';
import { setupTelemetry, startHealthServer } from '../telemetry/index.js';
import type { HealthServer, Telemetry } from '../telemetry/index.js';
import { parse, shutDown } from './common.js';
import { INDEX, usage } from './flags.js';

const OPTIONS = INDEX.flags;

export const INDEX_USAGE = usage(INDEX);

export function indexerSettings(config: Readonly<Config>) {
  return {
    embeddingsTopic: config.embeddingsTopic,
    outputTopic: config.outputTopic,
    dlqTopic: config.dlqTopic,
    group: config.group,
    maxMessageBytes: config.maxMessageBytes,
    createTopics: config.createTopics,
    topicPartitions: config.topicPartitions,
    topicReplication: config.topicReplication,
  };
}

/**
 * `start` unless a signal comes first: then undefined, and whatever `start` still does is left
 * to the CLI's forced exit (a broker that is gone keeps kafkajs connecting for minutes). When it
 * resolves after the signal, what it started is closed.
 */
export async function unlessStopped<T extends { close(): Promise<void> }>(
  start: Promise<T>,
  stop: Promise<string>,
): Promise<T | undefined> {
  const first = await Promise.race([start.then((v) => ({ v })), stop.then(() => undefined)]);
  if (first === undefined)
    start.then(
      (v) => v.close().catch(() => undefined),
      () => undefined,
    );
  return first?.v;
}

/** Resolves on SIGTERM/SIGINT (or `stop()`); a second signal exits at once. */
export function untilSignal(log: Logger) {
  let wake: (reason: string) => void = () => undefined;
  let stopped = false;
  const done = new Promise<string>((resolve) => (wake = resolve));
  const onSignal = (signal: NodeJS.Signals) => {
    if (stopped) process.exit(1);
    stopped = true;
    log.info('signal received: shutting down', { signal });
    wake(signal);
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  return {
    done,
    stop: (reason: string) => wake(reason),
    off: () => {
      process.off('SIGTERM', onSignal);
      process.off('SIGINT', onSignal);
    },
  };
}

export async function indexCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parse(argv, OPTIONS);
  if (values.help) {
    process.stdout.write(INDEX_USAGE);
    return 0;
  }
  if (positionals.length > 0)
    throw new ClipstreamError('CLIPSTREAM_BAD_ARGUMENT', `index takes no arguments, got '${positionals[0]}'`);
  const opts = loadSearchOptions({ store: values.store });
  const config = loadConfig({
    brokers: values.brokers,
    group: values.group,
    embeddingsTopic: values['embeddings-topic'],
    outputTopic: values['results-topic'],
    dlqTopic: values['dlq-topic'],
  });
  const log = createLogger({
    level: config.logLevel,
    format: config.logFormat,
    base: { service: 'clipstream-index' },
  });
  const version = (
    JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string }
  ).version;
  const signal = untilSignal(log);
  let failed: unknown;
  let store: Store | undefined;
  let indexer: Indexer | undefined;
  let telemetry: Telemetry | undefined;
  let health: HealthServer | undefined;
  try {
    telemetry = await setupTelemetry({ serviceName: 'clipstream-index', version, log });
    store = await Store.open(opts.store);
    const meter = telemetry.meter;
    if (config.httpPort > 0) {
      health = await startHealthServer({
        port: config.httpPort,
        readiness: () => ({ store: store !== undefined, consumer: indexer !== undefined }),
        metrics: telemetry.metricsHandler,
      });
    }
    indexer = await unlessStopped(
      Indexer.start({
        kafka: createKafka(config, silentLogger),
        store,
        settings: indexerSettings(config),
        log,
        meter,
        onFatal: (err) => {
          failed = err;
          signal.stop('consumer failed');
        },
      }),
      signal.done,
    );
    await signal.done;
  } catch (err) {
    failed ??= err;
  }
  try {
    return await shutDown(
      log,
      [
        ['indexer', () => indexer?.close()],
        ['store', () => store?.close()],
        ['telemetry', () => telemetry?.shutdown()],
        ['HTTP server', () => health?.close()],
      ],
      failed,
    );
  } finally {
    signal.off();
  }
}
