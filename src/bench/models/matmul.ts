/**
 * The runtime's own matrix-multiply peak: a graph holding one float32 MatMul, C = A x B with
 * A [m, k] an input and B [k, n] a constant (as weights are in a model, so the runtime may
 * pre-pack it the same way).
 */
import type { ModelSpec } from '../onnx/proto.js';
import { Prng } from './prng.js';

export interface MatMulShape {
  readonly m: number;
  readonly k: number;
  readonly n: number;
}

/** Floating-point operations of one product: a multiply and an add per term. */
export function matmulFlops(s: MatMulShape): number {
  return 2 * s.m * s.k * s.n;
}

/** The model and its constant B (row-major, for checking results). */
export function buildMatMulModel(s: MatMulShape, seed = 1): { model: ModelSpec; b: Float32Array } {
  const b = new Prng(seed).uniform(s.k * s.n, 1);
  const model: ModelSpec = {
    graph: {
      name: 'matmul',
      nodes: [{ op: 'MatMul', inputs: ['A', 'B'], outputs: ['C'], name: 'matmul' }],
      inputs: [{ name: 'A', type: 'float32', shape: [s.m, s.k] }],
      outputs: [{ name: 'C', type: 'float32', shape: [s.m, s.n] }],
      initializers: [{ name: 'B', type: 'float32', dims: [s.k, s.n], data: b }],
    },
    opset: 17,
    docString: `float32 MatMul ${s.m}x${s.k}x${s.n}`,
  };
  return { model, b };
}
