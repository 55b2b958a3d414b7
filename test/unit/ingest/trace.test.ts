import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SpanStatusCode, trace as otelTrace } from '@opentelemetry/api';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import { ClipstreamError } from '../../../src/errors.js';
import {
  SPAN,
  createTrace,
  extractContext,
  startVideoSpan,
  traceHeaders,
} from '../../../src/telemetry/index.js';

const TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736';
const PARENT = '00f067aa0ba902b7';
const traceparent = `00-${TRACE_ID}-${PARENT}-01`;

function sdk() {
  const exporter = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
  return { exporter, tracer: provider.getTracer('test') };
}

describe('trace context over Kafka headers', () => {
  it('extracts traceparent from Buffer or string headers, case-insensitively', () => {
    for (const headers of [
      { traceparent: Buffer.from(traceparent) },
      { traceparent },
      { Traceparent: [Buffer.from(traceparent)] },
    ]) {
      const sc = otelTrace.getSpanContext(extractContext(headers));
      assert.equal(sc?.traceId, TRACE_ID);
      assert.equal(sc?.spanId, PARENT);
    }
    assert.equal(otelTrace.getSpanContext(extractContext({})), undefined);
    assert.equal(otelTrace.getSpanContext(extractContext({ traceparent: 'garbage' })), undefined);
    assert.equal(otelTrace.getSpanContext(extractContext(undefined)), undefined);
  });

  it("without an SDK the producer's traceparent passes through to the output", () => {
    const { ctx } = startVideoSpan(extractContext({ traceparent }), {});
    assert.equal(traceHeaders(ctx).traceparent, traceparent);
  });

  it("the video span joins the producer's trace; stage spans are its children; output carries the trace", async () => {
    const { exporter, tracer } = sdk();
    const { span, ctx } = startVideoSpan(
      extractContext({ traceparent: Buffer.from(traceparent) }),
      { a: 1 },
      tracer,
    );
    const trace = createTrace({ parent: ctx, tracer });
    let out: Record<string, string> = {};
    await trace('publish', async (stageCtx) => {
      out = traceHeaders(stageCtx);
    });
    await assert.rejects(
      trace('probe', async () => {
        throw new ClipstreamError('CLIPSTREAM_PROBE_FAILED', 'not media');
      }),
      { code: 'CLIPSTREAM_PROBE_FAILED' },
    );
    span.end();
    const spans = exporter.getFinishedSpans();
    const video = spans.find((s) => s.name === SPAN.video);
    const publish = spans.find((s) => s.name === `${SPAN.stagePrefix}publish`);
    const probe = spans.find((s) => s.name === `${SPAN.stagePrefix}probe`);
    assert.ok(video && publish && probe);
    assert.equal(video.spanContext().traceId, TRACE_ID);
    assert.equal(video.parentSpanContext?.spanId, PARENT);
    assert.equal(publish.parentSpanContext?.spanId, video.spanContext().spanId);
    assert.equal(probe.status.code, SpanStatusCode.ERROR);
    assert.equal(probe.attributes['error.code'], 'CLIPSTREAM_PROBE_FAILED');
    assert.match(out.traceparent ?? '', new RegExp(`^00-${TRACE_ID}-${publish.spanContext().spanId}-01$`));
  });
});
