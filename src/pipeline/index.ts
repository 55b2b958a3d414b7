export { processVideo } from './pipeline.js';
export type { PipelineContext, QuerySpec, VideoRequest, VideoOutcome } from './pipeline.js';
export { ResultDocumentSchema, RESULT_SCHEMA, computeResultId, canonicalJson } from './result.js';
export type { ResultDocument } from './result.js';
export { calibrationFor, DEFAULT_CENTRE } from './calibration.js';
export { contextFromConfig } from './context.js';
export type { ContextSettings } from './context.js';
