/**
 * The one wrapper at stage boundaries: `trace(stage, fn)` runs `fn` inside a span named
 * `clipstream.stage.<stage>` (a child of the video's span) and records the stage's latency.
 * Trace context crosses Kafka in W3C `traceparent`/`tracestate` headers.
 */
import { performance } from 'node:perf_hooks';
import { ROOT_CONTEXT, SpanKind, SpanStatusCode, trace as otelTrace } from '@opentelemetry/api';
import type { Attributes, Context, Span, TextMapGetter, TextMapSetter, Tracer } from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { toClipstreamError } from '../errors.js';
import type { Instruments } from './instruments.js';
import { ATTR, OUTCOME, SCOPE, SPAN } from './names.js';

/** A stage wrapper; `fn` receives the stage span's context (e.g. to inject into a message). */
export type TraceFn = <T>(stage: string, fn: (ctx: Context) => Promise<T>) => Promise<T>;

export function tracer(): Tracer {
  return otelTrace.getTracer(SCOPE);
}

/** Builds the stage wrapper for work under `parent` (the video span's context). */
export function createTrace(
  options: { parent?: Context; instruments?: Instruments; tracer?: Tracer } = {},
): TraceFn {
  const t = options.tracer ?? tracer();
  const parent = options.parent ?? ROOT_CONTEXT;
  const histogram = options.instruments?.stageDuration;
  return <T>(stage: string, fn: (ctx: Context) => Promise<T>): Promise<T> => {
    const span = t.startSpan(`${SPAN.stagePrefix}${stage}`, { attributes: { [ATTR.stage]: stage } }, parent);
    const ctx = otelTrace.setSpan(parent, span);
    const t0 = performance.now();
    const finish = (outcome: string) => {
      histogram?.record((performance.now() - t0) / 1000, { [ATTR.stage]: stage, [ATTR.outcome]: outcome });
      span.end();
    };
    let running: Promise<T>;
    try {
      running = fn(ctx);
    } catch (err) {
      running = Promise.reject(err);
    }
    return running.then(
      (value) => {
        finish(OUTCOME.ok);
        return value;
      },
      (err: unknown) => {
        markError(span, err);
        finish(OUTCOME.error);
        throw err;
      },
    );
  };
}

/** Records a failure on a span: status, exception event and the error code. */
export function markError(span: Span, err: unknown): void {
  const e = toClipstreamError(err);
  span.setAttribute(ATTR.errorCode, e.code);
  span.recordException({ name: e.code, message: e.message });
  span.setStatus({ code: SpanStatusCode.ERROR, message: `${e.code}: ${e.message}` });
}

/** Starts the span of one consumed event, a child of the producer's trace when it sent one. */
export function startVideoSpan(
  parent: Context,
  attributes: Attributes,
  t: Tracer = tracer(),
): { span: Span; ctx: Context } {
  const span = t.startSpan(SPAN.video, { kind: SpanKind.CONSUMER, attributes }, parent);
  return { span, ctx: otelTrace.setSpan(parent, span) };
}

// W3C Trace Context is the wire format whatever propagator the process registered globally:
// traceparent is the contract on the input and output messages (design.md 3.3).
const w3c = new W3CTraceContextPropagator();

type HeaderValue = Buffer | string | (Buffer | string)[] | undefined;
const getter: TextMapGetter<Record<string, HeaderValue>> = {
  keys: (carrier) => Object.keys(carrier),
  get: (carrier, key) => {
    const hit = Object.entries(carrier).find(([k]) => k.toLowerCase() === key)?.[1];
    if (hit === undefined) return undefined;
    const first = Array.isArray(hit) ? hit[0] : hit;
    return first === undefined ? undefined : first.toString();
  },
};
const setter: TextMapSetter<Record<string, string>> = {
  set: (carrier, key, value) => {
    carrier[key] = value;
  },
};

/** The trace context carried by Kafka message headers (ROOT_CONTEXT when none). */
export function extractContext(headers: Record<string, HeaderValue> | undefined): Context {
  return headers ? w3c.extract(ROOT_CONTEXT, headers, getter) : ROOT_CONTEXT;
}

/** Headers (`traceparent`, `tracestate`) carrying `ctx`'s span; empty when it has none. */
export function traceHeaders(ctx: Context): Record<string, string> {
  const out: Record<string, string> = {};
  w3c.inject(ctx, out, setter);
  return out;
}
