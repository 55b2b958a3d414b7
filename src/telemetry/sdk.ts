/**
 * The OpenTelemetry SDK of the CLI process: a MeterProvider read by a Prometheus exporter
 * (served on the health port, not a server of its own) and a tracer provider with the W3C
 * propagator; spans leave the process over OTLP/HTTP only when OTEL_EXPORTER_OTLP_ENDPOINT
 * (or OTEL_EXPORTER_OTLP_TRACES_ENDPOINT) is set.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { metrics, propagation } from '@opentelemetry/api';
import type { Meter } from '@opentelemetry/api';
import { CompositePropagator, W3CBaggagePropagator, W3CTraceContextPropagator } from '@opentelemetry/core';
import { PrometheusExporter } from '@opentelemetry/exporter-prometheus';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { MeterProvider } from '@opentelemetry/sdk-metrics';
import { BatchSpanProcessor, NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import type { SpanProcessor } from '@opentelemetry/sdk-trace-node';
import type { Logger } from '../log.js';
import { SCOPE } from './names.js';

export interface Telemetry {
  readonly meter: Meter;
  /** Serves GET /metrics in the Prometheus text format. */
  readonly metricsHandler: (req: IncomingMessage, res: ServerResponse) => void;
  /** Whether spans are exported (an OTLP endpoint is configured). */
  readonly exportingSpans: boolean;
  /** Flushes and stops the providers. Idempotent. */
  shutdown(): Promise<void>;
}

export async function setupTelemetry(options: {
  serviceName?: string;
  version?: string;
  env?: NodeJS.ProcessEnv;
  log: Logger;
}): Promise<Telemetry> {
  const env = options.env ?? process.env;
  const resource = resourceFromAttributes({
    'service.name': env.OTEL_SERVICE_NAME || options.serviceName || SCOPE,
    ...(options.version ? { 'service.version': options.version } : {}),
  });

  const prometheus = new PrometheusExporter({ preventServerStart: true });
  const meterProvider = new MeterProvider({ resource, readers: [prometheus] });
  metrics.setGlobalMeterProvider(meterProvider);

  const spanProcessors: SpanProcessor[] = [];
  const endpoint = env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT || env.OTEL_EXPORTER_OTLP_ENDPOINT;
  if (endpoint) {
    // Loaded only when used: the OTLP exporter pulls in protobuf encoders.
    const { OTLPTraceExporter } = await import('@opentelemetry/exporter-trace-otlp-http');
    spanProcessors.push(new BatchSpanProcessor(new OTLPTraceExporter()));
    options.log.info('exporting spans over OTLP/HTTP', { endpoint });
  }
  const tracerProvider = new NodeTracerProvider({ resource, spanProcessors });
  tracerProvider.register({
    propagator: new CompositePropagator({
      propagators: [new W3CTraceContextPropagator(), new W3CBaggagePropagator()],
    }),
  });

  let closing: Promise<void> | undefined;
  return {
    meter: meterProvider.getMeter(SCOPE),
    metricsHandler: (req, res) => prometheus.getMetricsRequestHandler(req, res),
    exportingSpans: spanProcessors.length > 0,
    shutdown() {
      closing ??= (async () => {
        for (const [what, stop] of [
          ['tracer provider', () => tracerProvider.shutdown()],
          ['meter provider', () => meterProvider.shutdown()],
        ] as const) {
          try {
            await stop();
          } catch (err) {
            options.log.warn(`telemetry: stopping the ${what} failed`, { error: err });
          }
        }
        metrics.disable();
        propagation.disable();
      })();
      return closing;
    },
  };
}
