// A producer's W3C traceparent joins the worker's trace: the video span is a child of the
// producer's span, every stage span belongs to the same trace, and the result message carries
// the trace on to its consumers.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { pathToFileURL } from 'node:url';
import { InMemorySpanExporter, NodeTracerProvider, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-node';
import type { Worker } from '../../../src/ingest/index.js';
import { SPAN } from '../../../src/telemetry/index.js';
import { deleteTopics, waitFor } from '../../helpers/kafka.js';
import {
  closeSharedEmbedder,
  makeClip,
  names,
  produce,
  readUntil,
  removeDir,
  startWorker,
  tempDir,
  testConfig,
  videoEvent,
} from './helpers.js';

const exporter = new InMemorySpanExporter();
const provider = new NodeTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
provider.register();

const n = names('trace');
let media: string;
let worker: Worker | undefined;

before(async () => {
  media = await tempDir('cs-trace-');
  await makeClip(join(media, 'a.mp4'), { seconds: 2 });
});

after(async () => {
  await worker?.close();
  await closeSharedEmbedder();
  await provider.shutdown();
  await deleteTopics([n.inputTopic, n.outputTopic, n.dlqTopic, n.queriesTopic]);
  await removeDir(media);
});

describe('tracing', { timeout: 600_000 }, () => {
  it("traceparent on the input joins the producer's trace, and the result carries it on", async () => {
    const config = testConfig(n, { mediaRoot: media, topicPartitions: 1 });
    worker = await startWorker(config, 'trace');
    const traceId = 'a3ce929d0e0e47364bf92f3577b34da6';
    const producerSpan = 'b7ad6b7169203331';
    const event = videoEvent('traced', pathToFileURL(join(media, 'a.mp4')).href, {
      queries: [{ id: 'q', text: 'a red circle' }],
    });
    await produce(config.inputTopic, [
      { ...event, headers: { traceparent: `00-${traceId}-${producerSpan}-01` } },
    ]);

    const [result] = await readUntil(config.outputTopic, (rs) => rs.length >= 1);
    const outgoing = result!.headers.traceparent?.toString() ?? '';
    assert.match(
      outgoing,
      new RegExp(`^00-${traceId}-[0-9a-f]{16}-01$`),
      'the result message carries the trace',
    );

    await waitFor(
      () => exporter.getFinishedSpans().some((s) => s.name === SPAN.video),
      30_000,
      'the video span',
    );
    const spans = exporter.getFinishedSpans();
    const video = spans.find((s) => s.name === SPAN.video)!;
    assert.equal(video.spanContext().traceId, traceId);
    assert.equal(
      video.parentSpanContext?.spanId,
      producerSpan,
      "the video span is a child of the producer's span",
    );
    assert.equal(video.attributes['clipstream.video_id'], 'traced');
    assert.equal(video.attributes.outcome, 'result');

    const stage = (name: string) => spans.find((s) => s.name === `${SPAN.stagePrefix}${name}`);
    for (const name of [
      'validate',
      'process',
      'source',
      'probe',
      'frames',
      'embed.frames',
      'embed.text',
      'match',
      'publish',
      'commit',
    ]) {
      const s = stage(name);
      assert.ok(s, `a span for stage ${name}`);
      assert.equal(s.spanContext().traceId, traceId, name);
    }
    assert.equal(stage('process')!.parentSpanContext?.spanId, video.spanContext().spanId);
    assert.equal(
      stage('probe')!.parentSpanContext?.spanId,
      stage('process')!.spanContext().spanId,
      'pipeline stages nest under process',
    );
    assert.equal(
      outgoing.split('-')[2],
      stage('publish')!.spanContext().spanId,
      "the result's parent is the publish span",
    );
  });
});
