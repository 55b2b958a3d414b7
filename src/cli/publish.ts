import { createHash } from 'node:crypto';
import { isAbsolute } from 'node:path';
import { pathToFileURL } from 'node:url';
import { SpanKind, context, trace } from '@opentelemetry/api';
import { loadConfig } from '../config.js';
import { ClipstreamError } from '../errors.js';
import { Publisher, buildEvent, createKafka } from '../ingest/index.js';
import { createLogger, silentLogger } from '../log.js';
import { SPAN, setupTelemetry, traceHeaders, tracer } from '../telemetry/index.js';
import type { Telemetry } from '../telemetry/index.js';
import { parse, samplingFlags } from './common.js';
import { PUBLISH, usage } from './flags.js';

const OPTIONS = PUBLISH.flags;

export const PUBLISH_USAGE = usage(PUBLISH);

/** The default video id: the same URI always gets the same id. */
export function defaultVideoId(uri: string): string {
  return createHash('sha256').update(uri).digest('hex').slice(0, 24);
}

function toUri(arg: string): string {
  if (/^[A-Za-z][A-Za-z0-9+.-]*:/.test(arg)) return arg;
  if (isAbsolute(arg)) return pathToFileURL(arg).href;
  throw new ClipstreamError(
    'CLIPSTREAM_BAD_ARGUMENT',
    `give a URI or an absolute path, got '${arg}' (the worker resolves paths on its own machine)`,
  );
}

export async function publishCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parse(argv, OPTIONS);
  if (values.help) {
    process.stdout.write(PUBLISH_USAGE);
    return 0;
  }
  if (positionals.length !== 1) {
    throw new ClipstreamError(
      'CLIPSTREAM_BAD_ARGUMENT',
      'publish needs exactly one video URI (see clipstream publish --help)',
    );
  }
  const uri = toUri(positionals[0] as string);
  const sampling = samplingFlags(values.fps, values.sampling);
  const config = loadConfig({
    brokers: values.brokers,
    inputTopic: values.topic,
    logLevel: 'warn',
    logFormat: 'text',
  });
  const log = createLogger({ level: config.logLevel, format: 'text' });
  const videoId = values.id ?? defaultVideoId(uri);
  let event;
  try {
    event = buildEvent({
      videoId,
      uri,
      queries: (values.query ?? []).map((text, i) => ({ id: `q${i + 1}`, text })),
      captions: values.caption ?? [],
      ...(sampling ? { sampling } : {}),
    });
  } catch (err) {
    // Same checks as the worker's, reported as what they are: a bad argument here.
    const e = err as ClipstreamError;
    throw new ClipstreamError(
      e.code === 'CLIPSTREAM_BAD_TEXT' ? 'CLIPSTREAM_BAD_TEXT' : 'CLIPSTREAM_BAD_ARGUMENT',
      e.message,
      { cause: err },
    );
  }

  // Spans leave the process only when an OTLP endpoint is set; then the event carries the
  // publish span's traceparent and the worker's spans join this trace.
  let telemetry: Telemetry | undefined;
  if (process.env.OTEL_EXPORTER_OTLP_ENDPOINT || process.env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT) {
    telemetry = await setupTelemetry({ serviceName: 'clipstream-publish', log });
  }
  // kafkajs' own warnings (retries, reconnects) would break the one-line error contract; what
  // fails is reported by the coded error this command throws.
  const kafka = createKafka(config, silentLogger);
  const admin = kafka.admin();
  const publisher = new Publisher(kafka);
  const span = tracer().startSpan(SPAN.publish, {
    kind: SpanKind.PRODUCER,
    attributes: { 'messaging.system': 'kafka', 'messaging.destination.name': config.inputTopic },
  });
  try {
    try {
      await admin.connect();
      const topics = await admin.listTopics();
      if (!topics.includes(config.inputTopic)) {
        throw new ClipstreamError(
          'CLIPSTREAM_TOPIC_MISSING',
          `topic ${config.inputTopic} does not exist (start a worker once to create it)`,
        );
      }
    } catch (err) {
      if (err instanceof ClipstreamError) throw err;
      throw new ClipstreamError(
        'CLIPSTREAM_KAFKA_UNAVAILABLE',
        `cannot reach Kafka at ${config.brokers.join(',')}: ${(err as Error).message}`,
        { cause: err },
      );
    }
    await publisher.connect();
    const headers = traceHeaders(trace.setSpan(context.active(), span));
    await publisher.send([{ topic: config.inputTopic, key: videoId, value: JSON.stringify(event), headers }]);
    process.stdout.write(`${videoId}\n`);
    return 0;
  } finally {
    span.end();
    await publisher.close().catch(() => undefined);
    await admin.disconnect().catch(() => undefined);
    await telemetry?.shutdown();
  }
}
