/**
 * Frames stage front door: resolve a source URI under the source policy (http(s) through the
 * policy proxy), probe it, decode and sample it into raw rgb24 frames with their times on the source timeline. See docs/frames.md.
 */
export { checkFfmpeg } from './binaries.js';
export type { FfmpegBinaries } from './binaries.js';
export { decodeFrames } from './decode.js';
export { sourceInputOptions } from './graph.js';
export { DEFAULT_SAMPLING, MAX_SAMPLING_FPS, parseSampling, samplingSchema } from './options.js';
export type { DecodeOptions, MediaLimits, ResizeMode, ResolvedSampling, Sampling } from './options.js';
export { probe } from './probe.js';
export type { ProbeOptions } from './probe.js';
export { openSource } from './open-source.js';
export type { OpenSourceOptions, OpenedSource } from './open-source.js';
export { PolicyProxy } from './proxy.js';
export type { ProxyBudgets, ProxySession } from './proxy.js';
export { checkSourcePolicy, checkUri, resolveRtsp, resolveSource, sourcePolicyFor } from './source.js';
export type {
  LocalFiles,
  Lookup,
  LookupAddress,
  PolicySettings,
  ResolvedSource,
  RtspTransport,
  SourcePolicy,
} from './source.js';
export type { Frame, ProbeInfo } from './types.js';
export { DECODE_MODES, chooseDecode } from './strategy.js';
export type { DecodeChoice, DecodeMode, KeyframeSpacing } from './strategy.js';
