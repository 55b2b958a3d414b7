/**
 * Per-stream metrics (names in src/telemetry/names.ts), on the process's global meter: the
 * worker's Prometheus endpoint exports them; without an SDK they cost nothing.
 */
import { ValueType, metrics } from '@opentelemetry/api';
import { ATTR, METRIC, SCOPE } from '../telemetry/index.js';
import type { StreamStats } from './runner.js';

export interface StreamMetrics {
  /** Feed it `runStream`'s onStats. */
  onStats(s: StreamStats): void;
  /** Feed it `runStream`'s onDrop. */
  onDrop(streamId: string): void;
  /** A stream ended: stop reporting its lag. */
  forget(streamId: string): void;
  /** Connects the running/unassigned gauges. */
  observeStreams(status: () => { running: number; unassigned: number }): void;
}

export function createStreamMetrics(): StreamMetrics {
  const meter = metrics.getMeter(SCOPE);
  const frames = meter.createCounter(METRIC.streamFrames, {
    description: 'Frames of a stream embedded',
    unit: '{frame}',
  });
  const reconnects = meter.createCounter(METRIC.streamReconnects, {
    description: 'Reconnects of a stream',
    unit: '{reconnect}',
  });
  const drops = meter.createCounter(METRIC.streamDrops, {
    description: 'Connections of a stream that dropped or could not be opened',
    unit: '{connection}',
  });
  const latency = meter.createHistogram(METRIC.streamWindowLatency, {
    description: 'From the frame that closed a window to its document',
    unit: 's',
    advice: { explicitBucketBoundaries: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30] },
  });
  const lag = meter.createObservableGauge(METRIC.streamLag, {
    description: 'Seconds the last embedded frame of a stream is behind its arrival',
    unit: 's',
    valueType: ValueType.DOUBLE,
  });
  const running = meter.createObservableGauge(METRIC.streamsRunning, {
    description: 'Streams this worker runs',
    unit: '{stream}',
  });
  const unassigned = meter.createObservableGauge(METRIC.streamsUnassigned, {
    description: 'Streams of this worker waiting for a slot (CLIPSTREAM_MAX_STREAMS)',
    unit: '{stream}',
  });
  const last = new Map<string, StreamStats>();
  lag.addCallback((r) => {
    for (const [id, s] of last) r.observe(s.lagSec, { [ATTR.streamId]: id });
  });
  return {
    onStats(s) {
      const prev = last.get(s.streamId);
      const attrs = { [ATTR.streamId]: s.streamId };
      frames.add(s.frames - (prev?.frames ?? 0), attrs);
      if (s.reconnects > (prev?.reconnects ?? 0))
        reconnects.add(s.reconnects - (prev?.reconnects ?? 0), attrs);
      if (s.windowLatencyMs !== undefined && s.windowLatencyMs !== prev?.windowLatencyMs)
        latency.record(s.windowLatencyMs / 1000, attrs);
      last.set(s.streamId, s);
    },
    onDrop(streamId) {
      drops.add(1, { [ATTR.streamId]: streamId });
    },
    forget(streamId) {
      last.delete(streamId);
    },
    observeStreams(status) {
      running.addCallback((r) => r.observe(status().running));
      unassigned.addCallback((r) => r.observe(status().unassigned));
    },
  };
}
