import { matchOptionsOf } from '../config.js';
import type { Config, MatchOverrides } from '../config.js';
import type { Embedder } from '../embed/index.js';
import { sourcePolicyFor } from '../frames/index.js';
import type { Logger } from '../log.js';
import { calibrationFor } from './calibration.js';
import type { PipelineContext } from './pipeline.js';

/** The settings a pipeline context is made of (a whole `Config` will do). */
export type ContextSettings = Pick<
  Config,
  | 'allowPrivateNetworks'
  | 'allowedNetworks'
  | 'mediaRoot'
  | 'decodeTimeoutSec'
  | 'maxFramesInFlight'
  | 'maxFrameBytesInFlight'
> &
  Partial<Pick<Config, 'allowRtspUdp'>> &
  MatchOverrides;

/**
 * The one way a pipeline context is made from configuration: the source policy of `role` (see
 * `sourcePolicyFor`: `run` reads local files anywhere, a worker only under its media root), the decode time
 * limit, the matcher's settings, the pack's calibration and the frames-in-flight bound. `run`,
 * the worker and the benchmark all use it; `overrides` replace single fields (`limits` are
 * merged over the configured decode timeout).
 */
export function contextFromConfig(
  role: 'cli' | 'worker',
  c: Readonly<ContextSettings>,
  embedder: Embedder,
  log: Logger,
  overrides: Partial<PipelineContext> = {},
): PipelineContext {
  const { limits, ...rest } = overrides;
  return {
    embedder,
    policy: sourcePolicyFor(role, c),
    match: matchOptionsOf(c),
    calibration: calibrationFor(embedder.pack.manifest),
    log,
    framesInFlight: c.maxFramesInFlight,
    frameBytesInFlight: c.maxFrameBytesInFlight,
    ...rest,
    limits: { timeoutMs: c.decodeTimeoutSec * 1000, ...limits },
  };
}
