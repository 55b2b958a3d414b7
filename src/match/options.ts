import { z } from 'zod';

/**
 * Matching settings. Every threshold is configuration (CLI flags and env map onto these); the
 * defaults suit models whose calibration is in model.json (see docs/matching.md).
 */
export const MatchOptionsSchema = z.object({
  /** Probability a frame must reach (after smoothing) to be part of a moment. Default 0.5. */
  momentThreshold: z.number().min(0).max(1).default(0.5),
  /** Video-level score a query needs for `matched: true`. Default 0.5. */
  matchThreshold: z.number().min(0).max(1).default(0.5),
  /** Width of the temporal smoothing window, in seconds (0 = none). Default 1.0. */
  smoothingSec: z.number().min(0).max(60).default(1.0),
  /** Gaps shorter than this between two moments are merged, in seconds. Default 1.0. */
  mergeGapSec: z.number().min(0).max(600).default(1.0),
  /** Moments shorter than this are dropped as blips, in seconds. Default 0.5. */
  minMomentSec: z.number().min(0).max(600).default(0.5),
  /** Most moments reported per query. Default 10. */
  maxMoments: z.number().int().min(1).max(1000).default(10),
  /** Weight of word-level (fine-grained) evidence against sentence-level, 0..1. Default 0.5. */
  wordWeight: z.number().min(0).max(1).default(0.5),
  /** Sharpness of the soft minimum over a query's words (higher = closer to the hard min). Default 8. */
  wordSoftness: z.number().min(0.1).max(100).default(8),
  /** Cost of switching caption between consecutive frames, in log-probability units. Default 2.0. */
  captionSwitchPenalty: z.number().min(0).max(100).default(2.0),
});

export type MatchOptions = z.infer<typeof MatchOptionsSchema>;

export const DEFAULT_MATCH_OPTIONS: MatchOptions = Object.freeze(MatchOptionsSchema.parse({}));
