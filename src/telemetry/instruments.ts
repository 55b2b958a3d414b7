/**
 * The worker's metric instruments, made from one Meter. Gauges read live state through
 * callbacks the worker registers, so nothing is sampled on a timer of our own.
 */
import { metrics, ValueType } from '@opentelemetry/api';
import type { Counter, Histogram, Meter } from '@opentelemetry/api';
import { ATTR, METRIC, SCOPE } from './names.js';

/** Live state the gauges read at collection time. */
export interface GaugeSources {
  /** records behind the end, per `topic` and `partition` */
  lag?: () => Iterable<{ topic: string; partition: number; lag: number }>;
  inFlight?: () => number;
  standingQueries?: () => number;
}

export interface Instruments {
  readonly events: Counter;
  readonly retries: Counter;
  readonly dlq: Counter;
  readonly frames: Counter;
  readonly batchSize: Histogram;
  readonly batchDuration: Histogram;
  readonly stageDuration: Histogram;
  readonly videoDuration: Histogram;
  /** Connects the gauges to live state; returns a function that disconnects them. */
  observe(sources: GaugeSources): () => void;
  /** `onImageBatch` for the embedder (frames, milliseconds). */
  onImageBatch(size: number, ms: number): void;
}

const SECONDS_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600];
const BATCH_BUCKETS = [1, 2, 4, 8, 16, 32, 64, 128, 256];

export function createInstruments(meter: Meter = metrics.getMeter(SCOPE)): Instruments {
  const events = meter.createCounter(METRIC.events, {
    description: 'Video events consumed, by outcome',
    unit: '{event}',
  });
  const retries = meter.createCounter(METRIC.retries, {
    description: 'Retries of retryable faults, by error code',
    unit: '{retry}',
  });
  const dlq = meter.createCounter(METRIC.dlq, {
    description: 'DLQ records published, by error code',
    unit: '{record}',
  });
  const frames = meter.createCounter(METRIC.frames, {
    description: 'Frames sampled and embedded',
    unit: '{frame}',
  });
  const batchSize = meter.createHistogram(METRIC.batchSize, {
    description: 'Frames per image-encoder batch',
    unit: '{frame}',
    valueType: ValueType.INT,
    advice: { explicitBucketBoundaries: BATCH_BUCKETS },
  });
  const batchDuration = meter.createHistogram(METRIC.batchDuration, {
    description: 'Image-encoder batch run time',
    unit: 's',
    advice: { explicitBucketBoundaries: SECONDS_BUCKETS },
  });
  const stageDuration = meter.createHistogram(METRIC.stageDuration, {
    description: 'Latency of each stage, by stage and outcome',
    unit: 's',
    advice: { explicitBucketBoundaries: SECONDS_BUCKETS },
  });
  const videoDuration = meter.createHistogram(METRIC.videoDuration, {
    description: 'One video event from receipt to commit, by outcome',
    unit: 's',
    advice: { explicitBucketBoundaries: SECONDS_BUCKETS },
  });
  const lag = meter.createObservableGauge(METRIC.consumerLag, {
    description: 'Records between the committed position and the end of the partition',
    unit: '{record}',
    valueType: ValueType.INT,
  });
  const inFlight = meter.createObservableGauge(METRIC.inFlight, {
    description: 'Videos being processed now',
    unit: '{video}',
    valueType: ValueType.INT,
  });
  const standing = meter.createObservableGauge(METRIC.standingQueries, {
    description: 'Standing queries in the table',
    unit: '{query}',
    valueType: ValueType.INT,
  });

  return {
    events,
    retries,
    dlq,
    frames,
    batchSize,
    batchDuration,
    stageDuration,
    videoDuration,
    observe(sources) {
      const callbacks: [typeof lag, Parameters<typeof lag.addCallback>[0]][] = [];
      if (sources.lag) {
        const read = sources.lag;
        callbacks.push([
          lag,
          (result) => {
            for (const p of read())
              result.observe(p.lag, { [ATTR.topic]: p.topic, [ATTR.partition]: p.partition });
          },
        ]);
      }
      if (sources.inFlight) {
        const read = sources.inFlight;
        callbacks.push([inFlight, (result) => result.observe(read())]);
      }
      if (sources.standingQueries) {
        const read = sources.standingQueries;
        callbacks.push([standing, (result) => result.observe(read())]);
      }
      for (const [gauge, cb] of callbacks) gauge.addCallback(cb);
      return () => {
        for (const [gauge, cb] of callbacks) gauge.removeCallback(cb);
      };
    },
    onImageBatch(size, ms) {
      batchSize.record(size);
      batchDuration.record(ms / 1000);
    },
  };
}
