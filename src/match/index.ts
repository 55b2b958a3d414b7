export { matchVideo } from './match.js';
export type { QueryInput, CaptionInput, MatchOutput } from './match.js';
export { MatchOptionsSchema, DEFAULT_MATCH_OPTIONS } from './options.js';
export type { MatchOptions } from './options.js';
export type { Calibration, FrameTrack, TextVectors, Moment, QueryResult, CaptionSpan } from './types.js';
export { viterbiCaptions, captionSpans } from './captions.js';
export { findMoments } from './moments.js';
export { smoothOverTime, frameEnds } from './timeline.js';
export { textEvidence, sigmoid, logit } from './scores.js';
