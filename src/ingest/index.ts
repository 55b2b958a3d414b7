export { Worker } from './worker.js';
export { IngestOptionsSchema, ingestOptionsOf } from './options.js';
export type { IngestOptions, IngestOptionsInput } from './options.js';
export type { WorkerOptions, WorkerStats } from './worker.js';
export {
  VIDEO_EVENT_SCHEMA,
  EVENT_LIMITS,
  VideoEventSchema,
  parseEvent,
  validateEvent,
  buildEvent,
  checkText,
} from './event.js';
export type { VideoEvent, ParsedEvent } from './event.js';
export { DLQ_SCHEMA, buildDlqMessage } from './dlq.js';
export type { DlqRecord, DlqMessage, SourcePosition } from './dlq.js';
export { decide, backoffMs, sleep } from './retry.js';
export type { Decision, RetryPolicy } from './retry.js';
export { QUERY_SCHEMA, StandingQueries, withStanding } from './standing.js';
export { EMBEDDINGS_SCHEMA, embeddingChunks, decodeEmbeddings, framesPerChunk } from './embeddings.js';
export type { EmbeddingsChunk } from './embeddings.js';
export { createKafka, kafkaConfig, retryKafka } from './client.js';
export type { KafkaSettings } from './client.js';
export { ensureTopics } from './topics.js';
export type { TopicRequirement, TopicSettings } from './topics.js';
export { Publisher } from './publisher.js';
export type { OutgoingMessage } from './publisher.js';
