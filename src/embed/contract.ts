import type { InferenceSession } from 'onnxruntime-node';
import { ClipstreamError } from '../errors.js';
import type { Manifest } from './manifest.js';

type Dim = number | undefined;

function describe(meta: InferenceSession.ValueMetadata | undefined): string {
  if (!meta) return 'absent';
  if (!meta.isTensor) return 'not a tensor';
  return `${meta.type} [${meta.shape.map((d) => String(d)).join(', ')}]`;
}

function expectTensor(
  list: readonly InferenceSession.ValueMetadata[],
  kind: 'input' | 'output',
  file: string,
  name: string,
  type: string,
  dims: Dim[],
): void {
  const meta = list.find((m) => m.name === name);
  const want = `${type} [${dims.map((d) => (d === undefined ? 'N' : String(d))).join(', ')}]`;
  const fail = (): never => {
    throw new ClipstreamError(
      'CLIPSTREAM_MODEL_MISMATCH',
      `${file}: ${kind} '${name}' must be ${want}, found ${describe(meta)}`,
    );
  };
  if (!meta || !meta.isTensor || meta.type !== type) return fail();
  // An empty shape means the graph did not declare one; the dummy run in `model verify` checks it.
  if (meta.shape.length === 0) return;
  if (meta.shape.length !== dims.length) return fail();
  dims.forEach((d, i) => {
    const got = meta.shape[i];
    if (typeof d === 'number' && typeof got === 'number' && got !== d) fail();
  });
}

export interface GraphSignature {
  readonly inputs: readonly InferenceSession.ValueMetadata[];
  readonly outputs: readonly InferenceSession.ValueMetadata[];
}

/**
 * Checks the graphs' inputs and outputs against the model pack contract (docs/model-pack.md);
 * `text` absent: an image-only lane, whose pack's text graph another lane checked.
 */
export function checkContract(m: Manifest, image: GraphSignature, text: GraphSignature | undefined): void {
  const D = m.embedDim;
  const L = m.text.contextLength;
  expectTensor(image.inputs, 'input', m.image.file, m.image.input, 'uint8', [
    undefined,
    m.image.height,
    m.image.width,
    3,
  ]);
  expectTensor(image.outputs, 'output', m.image.file, m.image.outputs.embeds, 'float32', [undefined, D]);
  if (m.image.outputs.patches) {
    expectTensor(image.outputs, 'output', m.image.file, m.image.outputs.patches, 'float32', [
      undefined,
      undefined,
      D,
    ]);
  }
  if (!text) return;
  expectTensor(text.inputs, 'input', m.text.file, m.text.inputs.ids, 'int64', [undefined, L]);
  expectTensor(text.inputs, 'input', m.text.file, m.text.inputs.mask, 'int64', [undefined, L]);
  expectTensor(text.outputs, 'output', m.text.file, m.text.outputs.embeds, 'float32', [undefined, D]);
  expectTensor(text.outputs, 'output', m.text.file, m.text.outputs.tokens, 'float32', [undefined, L, D]);
}
