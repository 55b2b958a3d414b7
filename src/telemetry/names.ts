/**
 * Every span, metric and attribute name clipstream emits, in one place (as bullmq keeps its
 * telemetry attributes), so dashboards and docs/observability.md have one source to match.
 */

/** Instrumentation scope of the tracer and the meter. */
export const SCOPE = 'clipstream';

export const SPAN = Object.freeze({
  /** one consumed video event, from receipt to commit (kind CONSUMER) */
  video: 'clipstream.video',
  /** a pipeline or worker stage, `clipstream.stage.<stage>` */
  stagePrefix: 'clipstream.stage.',
  /** `clipstream publish`: the event sent by the CLI (kind PRODUCER) */
  publish: 'clipstream.publish',
});

/** Stages the worker itself wraps (the pipeline names its own: source, probe, frames, ...). */
export const STAGE = Object.freeze({
  validate: 'validate',
  process: 'process',
  publish: 'publish',
  dlq: 'dlq',
  commit: 'commit',
});

export const METRIC = Object.freeze({
  /** counter: events consumed, by `outcome` */
  events: 'clipstream.events',
  /** counter: retries of a retryable fault, by `error.code` */
  retries: 'clipstream.retries',
  /** counter: DLQ records published, by `error.code` */
  dlq: 'clipstream.dlq.records',
  /** counter: frames sampled and embedded */
  frames: 'clipstream.frames',
  /** histogram: frames per image-encoder batch */
  batchSize: 'clipstream.embed.batch.size',
  /** histogram: image-encoder batch run time, seconds */
  batchDuration: 'clipstream.embed.batch.duration',
  /** histogram: stage latency, seconds, by `stage` and `outcome` */
  stageDuration: 'clipstream.stage.duration',
  /** histogram: one video from receipt to commit, seconds, by `outcome` */
  videoDuration: 'clipstream.video.duration',
  /** gauge: records behind the partition's end, by `topic` and `partition` */
  consumerLag: 'clipstream.consumer.lag',
  /** gauge: videos being processed now */
  inFlight: 'clipstream.videos.in_flight',
  /** gauge: standing queries in the table */
  standingQueries: 'clipstream.standing_queries',
  // live streams (src/live/metrics.ts), by `stream.id`
  /** counter: frames of a stream embedded (frames/s = its rate) */
  streamFrames: 'clipstream.stream.frames',
  /** counter: reconnects of a stream */
  streamReconnects: 'clipstream.stream.reconnects',
  /** counter: connections of a stream that dropped or could not be opened (each one is retried) */
  streamDrops: 'clipstream.stream.drops',
  /** gauge: seconds the last embedded frame of a stream is behind its arrival */
  streamLag: 'clipstream.stream.lag',
  /** histogram: seconds from the frame that closed a window to its document */
  streamWindowLatency: 'clipstream.stream.window_latency',
  /** gauge: streams this worker runs */
  streamsRunning: 'clipstream.streams.running',
  /** gauge: streams of this worker's partitions waiting for a slot (CLIPSTREAM_MAX_STREAMS) */
  streamsUnassigned: 'clipstream.streams.unassigned',
});

export const ATTR = Object.freeze({
  outcome: 'outcome',
  stage: 'stage',
  errorCode: 'error.code',
  topic: 'topic',
  partition: 'partition',
  streamId: 'stream.id',
  // span attributes (OpenTelemetry messaging conventions where they exist)
  messagingSystem: 'messaging.system',
  messagingDestination: 'messaging.destination.name',
  messagingPartition: 'messaging.destination.partition.id',
  messagingOffset: 'messaging.kafka.offset',
  messagingKey: 'messaging.kafka.message.key',
  messagingGroup: 'messaging.consumer.group.name',
  videoId: 'clipstream.video_id',
  resultId: 'clipstream.result_id',
  attempt: 'clipstream.attempt',
  frames: 'clipstream.frames',
});

/** Values of the `outcome` attribute. */
export const OUTCOME = Object.freeze({
  /** a result was published and the offset committed */
  result: 'result',
  /** a DLQ record was published and the offset committed */
  dlq: 'dlq',
  /** not finished here (shutdown, rebalance, broker trouble): left uncommitted, redelivered */
  handedBack: 'handed_back',
  ok: 'ok',
  error: 'error',
});
