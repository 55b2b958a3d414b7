/**
 * Frames stage front door: resolve a source URI under the source policy, probe it, decode and
 * sample it into raw rgb24 frames with their times on the source timeline. See docs/frames.md.
 */
export { checkFfmpeg } from './binaries.js';
export type { FfmpegBinaries } from './binaries.js';
export { decodeFrames } from './decode.js';
export { DEFAULT_SAMPLING, mediaLimitsSchema, samplingSchema } from './options.js';
export type { DecodeOptions, MediaLimits, ResizeMode, ResolvedSampling, Sampling } from './options.js';
export { probe } from './probe.js';
export type { ProbeOptions } from './probe.js';
export { resolveSource } from './source.js';
export type { LookupAddress, ResolvedSource, SourcePolicy } from './source.js';
export type { Frame, ProbeInfo } from './types.js';
export { DECODE_MODES, chooseDecode } from './strategy.js';
export type { DecodeChoice, DecodeMode, KeyframeSpacing } from './strategy.js';
