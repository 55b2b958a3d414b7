export { processVideo } from './pipeline.js';
export type { PipelineContext, QuerySpec, VideoOutcome } from './pipeline.js';
export { ResultDocumentSchema } from './result.js';
export type { ResultDocument } from './result.js';
export { calibrationFor } from './calibration.js';
export { contextFromConfig } from './context.js';
