/**
 * A small helper for writing ONNX graphs by hand: unique value names, initializers and nodes,
 * then a ModelSpec for the protobuf writer.
 */
import type { Attr, DataType, GraphSpec, ModelSpec, NodeSpec, TensorSpec, ValueSpec } from './proto.js';

export class GraphBuilder {
  private readonly nodes: NodeSpec[] = [];
  private readonly inits: TensorSpec[] = [];
  private readonly names = new Set<string>();
  private counter = 0;

  constructor(readonly name: string) {}

  private unique(base: string): string {
    let n = base;
    while (this.names.has(n)) n = `${base}_${++this.counter}`;
    this.names.add(n);
    return n;
  }

  /** Reserves the name of a graph input; returns it. */
  input(name: string): string {
    if (this.names.has(name)) throw new Error(`duplicate value name ${name}`);
    this.names.add(name);
    return name;
  }

  /** A constant tensor (graph initializer); returns its value name. */
  init(name: string, type: DataType, dims: readonly number[], data: TensorSpec['data']): string {
    const n = this.unique(name);
    this.inits.push({ name: n, type, dims: [...dims], data });
    return n;
  }

  f32(name: string, dims: readonly number[], values: Float32Array | readonly number[]): string {
    return this.init(
      name,
      'float32',
      dims,
      values instanceof Float32Array ? values : Float32Array.from(values),
    );
  }

  /** A float scalar (rank 0) constant. */
  scalar(name: string, value: number): string {
    return this.f32(name, [], [value]);
  }

  i64(name: string, values: readonly number[]): string {
    return this.init(name, 'int64', [values.length], BigInt64Array.from(values.map((v) => BigInt(v))));
  }

  /** Adds a node with `outputs` outputs; returns their value names. */
  opN(
    op: string,
    inputs: readonly string[],
    outputs: number,
    attrs?: Record<string, Attr>,
    domain?: string,
  ): string[] {
    const outs = Array.from({ length: outputs }, () => this.unique(`${op.toLowerCase()}`));
    this.nodes.push({
      op,
      inputs: [...inputs],
      outputs: outs,
      name: this.unique(`n_${op}`),
      ...(attrs ? { attrs } : {}),
      ...(domain ? { domain } : {}),
    });
    return outs;
  }

  /** Adds a node with one output; returns its value name. */
  op(op: string, inputs: readonly string[], attrs?: Record<string, Attr>, domain?: string): string {
    return this.opN(op, inputs, 1, attrs, domain)[0] as string;
  }

  /** Renames the value `from` to the graph output name `to` (an Identity node). */
  output(from: string, to: string): string {
    this.names.add(to);
    this.nodes.push({ op: 'Identity', inputs: [from], outputs: [to], name: this.unique('n_out') });
    return to;
  }

  graph(inputs: readonly ValueSpec[], outputs: readonly ValueSpec[]): GraphSpec {
    return { name: this.name, nodes: this.nodes, inputs, outputs, initializers: this.inits };
  }

  model(
    inputs: readonly ValueSpec[],
    outputs: readonly ValueSpec[],
    opset = 17,
    docString?: string,
  ): ModelSpec {
    return { graph: this.graph(inputs, outputs), opset, ...(docString ? { docString } : {}) };
  }
}
