export { processVideo } from './pipeline.js';
export type { PipelineContext, QuerySpec, VideoOutcome } from './pipeline.js';
export { RESULT_SCHEMA, ResultDocumentSchema, canonicalJson } from './result.js';
export type { ResultDocument } from './result.js';
export { calibrationFor } from './calibration.js';
export { contextFromConfig } from './context.js';
