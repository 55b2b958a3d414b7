export { Worker } from './worker.js';
export { ingestOptionsOf } from './options.js';
export type { IngestOptions } from './options.js';
export type { WorkerOptions, WorkerStats } from './worker.js';
export { buildEvent } from './event.js';
export { createKafka, retryKafka } from './client.js';
export { Publisher } from './publisher.js';
