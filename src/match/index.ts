export { matchVideo } from './match.js';
export { sigmoid } from './scores.js';
export { typicalSpacing } from './timeline.js';
export type { QueryInput, CaptionInput, MatchOutput } from './match.js';
export { MatchOptionsSchema, DEFAULT_MATCH_OPTIONS } from './options.js';
export type { MatchOptions } from './options.js';
export type { Calibration, FrameTrack, TextVectors, Moment, QueryResult, CaptionSpan } from './types.js';
