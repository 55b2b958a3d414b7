import { z } from 'zod';

/** Where a file of the pack lives: a bare file name inside the pack folder, nothing else. */
const fileName = z
  .string()
  .min(1)
  .max(200)
  .regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, 'must be a plain file name inside the pack folder');

const onnxName = z.string().min(1).max(200);
const sha256 = z.string().regex(/^[0-9a-f]{64}$/, 'must be a lowercase hex sha256');

/** A cosine-to-logit map: `logit = scale * cosine + bias`. */
const AffineSchema = z.object({ scale: z.number().positive(), bias: z.number() });

/**
 * `matching.calibration`: the pack's own cosine-to-logit maps for sentence-level and word-level
 * evidence, fitted on held-out data (docs/matching.md). Optional; when present it must be whole,
 * so a malformed one stops `model verify` and start-up instead of falling back to defaults.
 */
export const PackCalibrationSchema = z.object({ sentence: AffineSchema, word: AffineSchema });
export type PackCalibration = z.infer<typeof PackCalibrationSchema>;

/** `model.json`, schema `clipstream.modelpack.v1` (docs/model-pack.md). Extra fields are allowed. */
export const ManifestSchema = z.looseObject({
  schema: z.literal('clipstream.modelpack.v1'),
  name: z.string().min(1).max(200),
  description: z.string().optional(),
  embedDim: z.number().int().positive().max(65536),
  logitScale: z.number().positive().max(1000),
  image: z.looseObject({
    file: fileName,
    input: onnxName.default('pixels'),
    height: z.number().int().min(8).max(4096),
    width: z.number().int().min(8).max(4096),
    resize: z.enum(['crop', 'letterbox', 'stretch']),
    outputs: z.object({
      embeds: onnxName.default('image_embeds'),
      patches: onnxName.optional(),
    }),
  }),
  text: z.looseObject({
    file: fileName,
    inputs: z.object({ ids: onnxName.default('input_ids'), mask: onnxName.default('attention_mask') }),
    contextLength: z.number().int().min(2).max(4096),
    padId: z.number().int().min(0),
    outputs: z.object({
      embeds: onnxName.default('text_embeds'),
      tokens: onnxName.default('token_embeds'),
    }),
  }),
  tokenizer: z.looseObject({ file: fileName }),
  files: z.record(fileName, sha256),
  provenance: z.record(z.string(), z.unknown()).optional(),
  /** Matching settings that belong to the model (extra fields, e.g. where the fit came from, allowed). */
  matching: z.looseObject({ calibration: PackCalibrationSchema.optional() }).optional(),
});

export type Manifest = z.infer<typeof ManifestSchema>;
