export { SPAN, STAGE, ATTR, OUTCOME, METRIC, SCOPE } from './names.js';
export { createInstruments } from './instruments.js';
export type { Instruments, GaugeSources } from './instruments.js';
export { createTrace, extractContext, markError, startVideoSpan, traceHeaders, tracer } from './trace.js';
export type { TraceFn } from './trace.js';
export { setupTelemetry } from './sdk.js';
export type { Telemetry } from './sdk.js';
export { startHealthServer } from './health.js';
export type { HealthServer, HealthServerOptions } from './health.js';
