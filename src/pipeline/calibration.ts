import type { Manifest } from '../embed/index.js';
import type { Calibration } from '../match/index.js';

/**
 * The cosine-to-logit maps for a model. A pack may carry its own, fitted on held-out data by the
 * tools (`matching.calibration` in model.json); otherwise the trained temperature is used with a
 * centre typical of CLIP-style models (docs/matching.md explains both, and how to override).
 */
export function calibrationFor(manifest: Manifest, override?: Partial<Calibration>): Calibration {
  // Validated with the manifest (embed/manifest.ts): a malformed one never gets this far.
  const fromPack = manifest.matching?.calibration;
  const base: Calibration = fromPack
    ? { sentence: { ...fromPack.sentence }, word: { ...fromPack.word } }
    : {
        sentence: { scale: manifest.logitScale, bias: -manifest.logitScale * DEFAULT_CENTRE },
        word: { scale: manifest.logitScale, bias: -manifest.logitScale * DEFAULT_CENTRE },
      };
  return { ...base, ...override };
}

/** Cosine at which an uncalibrated CLIP-style pack is taken to be at even odds. */
export const DEFAULT_CENTRE = 0.25;
