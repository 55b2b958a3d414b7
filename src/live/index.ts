/**
 * Live streams front door (design.md 3.6, docs/live.md): a live source read with reconnects,
 * windows with moments that keep their ids across edges, alerts, the stream spec and alert
 * messages, and the worker's stream manager.
 */
export { ALERT_SCHEMA, AlertSchema, STREAM_SCHEMA, StreamSpecSchema, parseStreamSpec } from './messages.js';
export type { Alert, StreamSpec } from './messages.js';
export { LIVE_ENV_NAMES, liveConfigShape, liveSourceOptionsSchema, windowOptionsSchema } from './options.js';
export type { LiveSourceOptions, WindowOptions } from './options.js';
export { LiveSource, Timeline, backoffDelay, isLiveUri } from './source.js';
export type { EndReason, LiveFrame } from './source.js';
export { WindowTracker } from './window.js';
export type { LiveMoment, OpenedMoment, WindowDocument } from './window.js';
export { runStream } from './runner.js';
export type { StreamContext, StreamOutcome, StreamRequest, StreamStats } from './runner.js';
