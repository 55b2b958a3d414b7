/**
 * The kafkajs client from the process configuration: brokers, TLS and SASL, retries, and
 * kafkajs' own log lines routed into our structured logger.
 */
import { readFileSync } from 'node:fs';
import { Kafka, logLevel } from 'kafkajs';
import type { KafkaConfig, LogEntry, SASLOptions } from 'kafkajs';
import { ClipstreamError } from '../errors.js';
import type { Logger } from '../log.js';
import type { IngestOptions } from './options.js';

export type KafkaSettings = Pick<
  IngestOptions,
  | 'brokers'
  | 'clientId'
  | 'ssl'
  | 'sslCaFile'
  | 'sslRejectUnauthorized'
  | 'saslMechanism'
  | 'saslUsername'
  | 'saslPassword'
  | 'logLevel'
>;

/** kafkajs config for our settings (exported for tests of the SASL/TLS mapping). */
export function kafkaConfig(s: KafkaSettings, log: Logger): KafkaConfig {
  let ssl: KafkaConfig['ssl'] = s.ssl;
  if (s.ssl && (s.sslCaFile || !s.sslRejectUnauthorized)) {
    let ca: string | undefined;
    if (s.sslCaFile) {
      try {
        ca = readFileSync(s.sslCaFile, 'utf8');
      } catch (err) {
        throw new ClipstreamError('CLIPSTREAM_BAD_CONFIG', `cannot read the Kafka CA file ${s.sslCaFile}`, {
          cause: err,
        });
      }
    }
    ssl = { rejectUnauthorized: s.sslRejectUnauthorized, ...(ca ? { ca: [ca] } : {}) };
  }
  let sasl: SASLOptions | undefined;
  if (s.saslMechanism) {
    const username = s.saslUsername ?? '';
    const password = s.saslPassword ?? '';
    sasl =
      s.saslMechanism === 'plain'
        ? { mechanism: 'plain', username, password }
        : s.saslMechanism === 'scram-sha-256'
          ? { mechanism: 'scram-sha-256', username, password }
          : { mechanism: 'scram-sha-512', username, password };
  }
  return {
    clientId: s.clientId,
    brokers: [...s.brokers],
    ssl,
    ...(sasl ? { sasl } : {}),
    connectionTimeout: 3000,
    requestTimeout: 30_000,
    // Long enough to ride out a broker restart before the consumer crashes and restarts itself.
    retry: { initialRetryTime: 300, maxRetryTime: 10_000, retries: 10 },
    logLevel: s.logLevel === 'debug' ? logLevel.INFO : logLevel.WARN,
    logCreator: () => (entry: LogEntry) => routeLog(entry, log),
  };
}

function routeLog(entry: LogEntry, log: Logger): void {
  const { message, ...fields } = entry.log;
  const line = `kafkajs: ${String(message)}`;
  const extra = { namespace: entry.namespace, ...fields };
  delete (extra as Record<string, unknown>).timestamp;
  delete (extra as Record<string, unknown>).logger;
  // kafkajs warns that an idempotent producer with bounded retries may break exactly-once. We
  // promise at-least-once: a send that gives up hands its event back and the result is sent
  // again, with the same resultId. The warning would only mislead operators.
  if (
    entry.namespace === 'Producer' &&
    String(message).startsWith('Limiting retries for the idempotent producer')
  ) {
    log.debug(line, extra);
    return;
  }
  switch (entry.level) {
    case logLevel.ERROR:
      // kafkajs reports recoverable trouble (a restarting broker, a rebalance) at error level;
      // the worker logs what it decides at its own levels, so these stay warnings.
      log.warn(line, extra);
      break;
    case logLevel.WARN:
      log.warn(line, extra);
      break;
    case logLevel.INFO:
      log.info(line, extra);
      break;
    default:
      log.debug(line, extra);
  }
}

export function createKafka(s: KafkaSettings, log: Logger): Kafka {
  return new Kafka(kafkaConfig(s, log));
}

/**
 * Runs a start-up admin call again while Kafka answers with a retriable error (a topic created
 * a moment ago may not have a leader known to every connection yet).
 */
export async function retryKafka<T>(
  fn: () => Promise<T>,
  tries = 20,
  delayMs = 500,
  stopped: () => boolean = () => false,
): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (err) {
      if (attempt >= tries || stopped() || (err as { retriable?: boolean }).retriable === false) throw err;
      await new Promise((resolve) => setTimeout(resolve, delayMs));
    }
  }
}
