import { z } from 'zod';
import type { Manifest } from '../embed/index.js';
import type { Calibration } from '../match/index.js';

const AffineSchema = z.object({ scale: z.number().positive(), bias: z.number() });
const PackCalibrationSchema = z.object({ sentence: AffineSchema, word: AffineSchema });

/**
 * The cosine-to-logit maps for a model. A pack may carry its own, fitted on held-out data by the
 * tools (`matching.calibration` in model.json); otherwise the trained temperature is used with a
 * centre typical of CLIP-style models (docs/matching.md explains both, and how to override).
 */
export function calibrationFor(manifest: Manifest, override?: Partial<Calibration>): Calibration {
  const fromPack = PackCalibrationSchema.safeParse(
    (manifest as { matching?: { calibration?: unknown } }).matching?.calibration,
  );
  const base: Calibration = fromPack.success
    ? fromPack.data
    : {
        sentence: { scale: manifest.logitScale, bias: -manifest.logitScale * DEFAULT_CENTRE },
        word: { scale: manifest.logitScale, bias: -manifest.logitScale * DEFAULT_CENTRE },
      };
  return { ...base, ...override };
}

/** Cosine at which an uncalibrated CLIP-style pack is taken to be at even odds. */
export const DEFAULT_CENTRE = 0.25;
