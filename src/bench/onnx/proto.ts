/**
 * A minimal protobuf writer and the handful of ONNX messages the benchmark writes (ModelProto,
 * GraphProto, NodeProto, TensorProto, ValueInfoProto, AttributeProto and the types they hold):
 * today only the MatMul-peak graph (../models/matmul.ts); the benchmark model itself is the
 * exported graph in bench/models/vit-b-32. Field numbers are those of onnx/onnx.proto. Only
 * writing is supported; ONNX Runtime is the reader, and the unit tests load what this writes.
 *
 * Encoded messages are kept as lists of chunks (a rope) so that a large constant is referenced,
 * not copied, until the bytes are taken.
 */
import { endianness } from 'node:os';

const WIRE_VARINT = 0;
const WIRE_LEN = 2;
const WIRE_FIXED32 = 5;

export class ProtoWriter {
  private readonly chunks: Uint8Array[] = [];
  private pending: number[] = [];
  private size = 0;

  /** Encoded length in bytes. */
  get length(): number {
    return this.size + this.pending.length;
  }

  private flush(): void {
    if (this.pending.length === 0) return;
    this.chunks.push(Uint8Array.from(this.pending));
    this.size += this.pending.length;
    this.pending = [];
  }

  private varint(value: number | bigint): void {
    // Negative int32/int64 values are written as their 64-bit two's complement (10 bytes).
    let v = BigInt.asUintN(64, BigInt(value));
    if (v < 0x80n) {
      this.pending.push(Number(v));
      return;
    }
    while (v >= 0x80n) {
      this.pending.push(Number(v & 0x7fn) | 0x80);
      v >>= 7n;
    }
    this.pending.push(Number(v));
  }

  private tag(field: number, wire: number): void {
    this.varint((field << 3) | wire);
  }

  /** int32, int64, uint64, enum and bool fields. */
  int(field: number, value: number | bigint): this {
    if (typeof value === 'number' && !Number.isSafeInteger(value))
      throw new RangeError(`not an integer: ${value}`);
    this.tag(field, WIRE_VARINT);
    this.varint(value);
    return this;
  }

  float(field: number, value: number): this {
    this.tag(field, WIRE_FIXED32);
    const b = new Uint8Array(4);
    new DataView(b.buffer).setFloat32(0, value, true);
    this.pending.push(...b);
    return this;
  }

  string(field: number, value: string): this {
    return this.bytes(field, new TextEncoder().encode(value));
  }

  /** A bytes field; large payloads are referenced, not copied. */
  bytes(field: number, data: Uint8Array): this {
    this.tag(field, WIRE_LEN);
    this.varint(data.length);
    if (data.length <= 64) {
      this.pending.push(...data);
    } else {
      this.flush();
      this.chunks.push(data);
      this.size += data.length;
    }
    return this;
  }

  /** An embedded message. */
  message(field: number, sub: ProtoWriter): this {
    this.tag(field, WIRE_LEN);
    this.varint(sub.length);
    sub.flush();
    this.flush();
    this.chunks.push(...sub.chunks);
    this.size += sub.size;
    return this;
  }

  /** The encoding as chunks, in order (for writing large files without one big copy). */
  toChunks(): Uint8Array[] {
    this.flush();
    return [...this.chunks];
  }

  /** The encoding as one buffer. */
  finish(): Uint8Array {
    this.flush();
    const out = new Uint8Array(this.size);
    let at = 0;
    for (const c of this.chunks) {
      out.set(c, at);
      at += c.length;
    }
    return out;
  }
}

// ---- ONNX ----------------------------------------------------------------------------------

export type DataType = 'float32' | 'uint8' | 'int8' | 'int32' | 'int64';

/** TensorProto.DataType codes. */
export const DATA_TYPE_CODE: Record<DataType, number> = { float32: 1, uint8: 2, int8: 3, int32: 6, int64: 7 };

type TensorData = Float32Array | Uint8Array | Int8Array | Int32Array | BigInt64Array;

export interface TensorSpec {
  readonly name: string;
  readonly type: DataType;
  readonly dims: readonly number[];
  readonly data: TensorData;
}

export type Attr =
  | { readonly i: number }
  | { readonly f: number }
  | { readonly s: string }
  | { readonly ints: readonly number[] }
  | { readonly floats: readonly number[] }
  | { readonly t: TensorSpec };

export interface NodeSpec {
  readonly op: string;
  readonly inputs: readonly string[];
  readonly outputs: readonly string[];
  readonly name?: string;
  readonly domain?: string;
  readonly attrs?: Readonly<Record<string, Attr>>;
}

/** A graph input or output: element type and shape (numbers, or names for dynamic axes). */
export interface ValueSpec {
  readonly name: string;
  readonly type: DataType;
  readonly shape: readonly (number | string)[];
}

export interface GraphSpec {
  readonly name: string;
  readonly nodes: readonly NodeSpec[];
  readonly inputs: readonly ValueSpec[];
  readonly outputs: readonly ValueSpec[];
  readonly initializers: readonly TensorSpec[];
}

export interface ModelSpec {
  readonly graph: GraphSpec;
  /** ai.onnx opset version. */
  readonly opset: number;
  /** Further operator sets, e.g. `{ domain: 'com.microsoft', version: 1 }`. */
  readonly extraOpsets?: readonly { domain: string; version: number }[];
  /** Default 8 (the IR that opset 17 shipped with). */
  readonly irVersion?: number;
  readonly producer?: string;
  readonly docString?: string;
}

const ELEMENT_COUNT = (dims: readonly number[]): number => dims.reduce((a, b) => a * b, 1);

export function encodeTensor(t: TensorSpec): ProtoWriter {
  if (endianness() !== 'LE') throw new Error('ONNX raw_data is little-endian; this host is not');
  if (t.data.length !== ELEMENT_COUNT(t.dims)) {
    throw new RangeError(`tensor ${t.name}: ${t.data.length} values for dims [${t.dims.join(', ')}]`);
  }
  const w = new ProtoWriter();
  for (const d of t.dims) w.int(1, d);
  w.int(2, DATA_TYPE_CODE[t.type]);
  w.string(8, t.name);
  w.bytes(9, new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength));
  return w;
}

function encodeAttr(name: string, a: Attr): ProtoWriter {
  const w = new ProtoWriter().string(1, name);
  if ('i' in a) w.int(3, a.i).int(20, 2);
  else if ('f' in a) w.float(2, a.f).int(20, 1);
  else if ('s' in a) w.string(4, a.s).int(20, 3);
  else if ('t' in a) w.message(5, encodeTensor(a.t)).int(20, 4);
  else if ('floats' in a) {
    for (const f of a.floats) w.float(7, f);
    w.int(20, 6);
  } else {
    for (const i of a.ints) w.int(8, i);
    w.int(20, 7);
  }
  return w;
}

function encodeNode(n: NodeSpec): ProtoWriter {
  const w = new ProtoWriter();
  for (const i of n.inputs) w.string(1, i);
  for (const o of n.outputs) w.string(2, o);
  if (n.name) w.string(3, n.name);
  w.string(4, n.op);
  for (const [k, a] of Object.entries(n.attrs ?? {})) w.message(5, encodeAttr(k, a));
  if (n.domain) w.string(7, n.domain);
  return w;
}

function encodeValueInfo(v: ValueSpec): ProtoWriter {
  const shape = new ProtoWriter();
  for (const d of v.shape) {
    shape.message(1, typeof d === 'number' ? new ProtoWriter().int(1, d) : new ProtoWriter().string(2, d));
  }
  const tensorType = new ProtoWriter().int(1, DATA_TYPE_CODE[v.type]).message(2, shape);
  return new ProtoWriter().string(1, v.name).message(2, new ProtoWriter().message(1, tensorType));
}

export function encodeGraph(g: GraphSpec): ProtoWriter {
  const w = new ProtoWriter();
  for (const n of g.nodes) w.message(1, encodeNode(n));
  w.string(2, g.name);
  for (const t of g.initializers) w.message(5, encodeTensor(t));
  for (const v of g.inputs) w.message(11, encodeValueInfo(v));
  for (const v of g.outputs) w.message(12, encodeValueInfo(v));
  return w;
}

export function encodeModel(m: ModelSpec): ProtoWriter {
  const w = new ProtoWriter().int(1, m.irVersion ?? 8);
  w.string(2, m.producer ?? 'clipstream-bench');
  if (m.docString) w.string(6, m.docString);
  w.message(7, encodeGraph(m.graph));
  w.message(8, new ProtoWriter().string(1, '').int(2, m.opset));
  for (const o of m.extraOpsets ?? []) w.message(8, new ProtoWriter().string(1, o.domain).int(2, o.version));
  return w;
}
