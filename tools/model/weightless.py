"""Turn an exported model pack into weightless graphs: every large tensor moved to ONNX external
data, the graphs written without that data, and a manifest of the external tensors so that
another program can write weights of its own into the external-data files.

    python -m tools.model.weightless --pack PACK --out DIR [--threshold BYTES] [--reference]

PACK is a folder written by tools.model.export (optionally with --quantize int8). DIR gets:

  image.onnx, text.onnx[, image.int8.onnx]  the graphs; each large tensor is an external-data
                                            reference into `<graph>.data` (not written)
  reference.onnx  (--reference) the float32 image graph with its preprocessing cut off: input
                  `pixel_values` float32 [N,3,H,W], already normalised; same `image.onnx.data`
  tokenizer.json, model.json  copied (model.json `files` holds the graphs' own sha256; the
                  data files are added by whoever writes them)
  weights.json    per graph: the data file, its size and every external tensor (name, dtype,
                  shape, offset, length) with how to fill it (below)

How to fill a tensor (`init`):
  {"kind": "random", "mean", "std"}     the statistics of the exported tensor (open_clip's own
                                        initialisation for --random-init); std 0 = constant
  {"kind": "same", "of"}                int8 graph: the float32 graph's tensor of that name
  {"kind": "quantized", "of", "axis"}   int8 graph: round(of / scale) clipped to [-127, 127],
                                        scale = max |of| over every axis but `axis`, / 127
                                        (`"transpose": true`: of the transposed 2-D tensor, as
                                        quantize_dynamic turns a Gemm with transB into a
                                        MatMulInteger)
  {"kind": "scale", "of", "axis"}       int8 graph: that scale

Only float32 and int8 tensors of at least --threshold bytes (default 1024) with finite values
move out; shapes, indices and masks (-inf) stay in the graph. Every kind is checked here
against the exported values before anything is written: the manifest describes the export
exactly, and the graphs with the exported values written back give bit-identical outputs.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Dict, List, Optional, Sequence

import numpy as np

SCHEMA = "clipstream.weightless.v1"
ALIGN = 64


class WeightlessError(RuntimeError):
    pass


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _quantize(x: np.ndarray, axis: int):
    other = tuple(i for i in range(x.ndim) if i != axis)
    absmax = np.maximum(np.abs(x.max(axis=other, keepdims=True).clip(min=0)),
                        np.abs(x.min(axis=other, keepdims=True).clip(max=0)))
    scale = (absmax / 127.0).astype(np.float32)
    safe = np.where(scale == 0, np.float32(1), scale)
    q = np.clip(np.rint(x / safe), -127, 127).astype(np.int8)
    return q, scale.reshape(-1)


def _init_for(name: str, arr: np.ndarray, fp32: Optional[Dict[str, np.ndarray]]) -> dict:
    """How to regenerate `arr`; for the int8 graph, in terms of the float32 graph's tensors."""
    if fp32 is not None:
        if name in fp32 and fp32[name].shape == arr.shape and np.array_equal(fp32[name], arr):
            return {"kind": "same", "of": name}
        for suffix, kind in (("_quantized", "quantized"), ("_scale", "scale")):
            base = name[: -len(suffix)] if name.endswith(suffix) else None
            if base is None or base not in fp32:
                continue
            # a Gemm with transB=1 is quantised as its transposed weight (a MatMulInteger)
            for transpose in ([False, True] if fp32[base].ndim == 2 else [False]):
                src = fp32[base].T if transpose else fp32[base]
                for axis in range(src.ndim):
                    q, scale = _quantize(src, axis)
                    got = q if kind == "quantized" else scale
                    if got.shape == arr.shape and (
                        np.array_equal(got, arr) if kind == "quantized" else np.allclose(got, arr, rtol=1e-6, atol=0)
                    ):
                        return {"kind": kind, "of": base, "axis": axis, **({"transpose": True} if transpose else {})}
            raise WeightlessError(f"{name}: not the per-channel symmetric int8 {kind} of {base}")
    v = arr.astype(np.float64)
    return {"kind": "random", "mean": float(v.mean()), "std": float(v.std())}


def make_weightless(src: Path, dst: Path, data_name: str, threshold: int,
                    fp32: Optional[Dict[str, np.ndarray]] = None):
    """Writes src's graph to dst with large tensors external (into data_name, not written);
    returns (manifest entry, the external tensors' values by name, their bytes laid out)."""
    import onnx
    from onnx import numpy_helper

    model = onnx.load(str(src))
    tensors: List[dict] = []
    values: Dict[str, np.ndarray] = {}
    chunks: List[tuple] = []
    offset = 0
    for t in model.graph.initializer:
        arr = numpy_helper.to_array(t)
        if arr.dtype not in (np.float32, np.int8) or arr.nbytes < threshold:
            continue
        if arr.dtype == np.float32 and not np.isfinite(arr).all():
            continue
        offset = -(-offset // ALIGN) * ALIGN
        raw = np.ascontiguousarray(arr).astype(arr.dtype.newbyteorder("<"), copy=False).tobytes()
        entry = {
            "name": t.name,
            "dtype": "float32" if arr.dtype == np.float32 else "int8",
            "shape": [int(d) for d in arr.shape],
            "offset": offset,
            "length": len(raw),
            "init": _init_for(t.name, arr, fp32),
        }
        tensors.append(entry)
        values[t.name] = arr
        chunks.append((offset, raw))
        for field in ("raw_data", "float_data", "int32_data"):
            t.ClearField(field)
        t.data_location = onnx.TensorProto.EXTERNAL
        del t.external_data[:]
        for k, v in (("location", data_name), ("offset", str(offset)), ("length", str(len(raw)))):
            e = t.external_data.add()
            e.key, e.value = k, v
        offset += len(raw)
    onnx.save(model, str(dst))
    return {"data": data_name, "bytes": offset, "tensors": tensors}, values, chunks


def write_data(path: Path, chunks) -> None:
    with open(path, "wb") as f:
        for offset, raw in chunks:
            f.write(b"\0" * (offset - f.tell()))
            f.write(raw)


def cut_preprocessing(image: Path, dst: Path) -> None:
    """reference.onnx: the image graph from its NCHW float tensor on (the first Transpose to
    [0,3,1,2]), input `pixel_values`, output `image_embeds` only."""
    import onnx
    from onnx import helper

    m = onnx.load(str(image), load_external_data=False)
    g = m.graph
    nchw = next((n for n in g.node if n.op_type == "Transpose"
                 and list(next((a.ints for a in n.attribute if a.name == "perm"), [])) == [0, 3, 1, 2]), None)
    if nchw is None:
        raise WeightlessError(f"{image.name}: no NHWC -> NCHW Transpose to cut the preprocessing at")
    pixels = g.input[0]
    dims = [d.dim_param or d.dim_value for d in pixels.type.tensor_type.shape.dim]
    cut = nchw.output[0]
    for n in g.node:
        for i, x in enumerate(n.input):
            if x == cut:
                n.input[i] = "pixel_values"
    keep_out = [o for o in g.output if o.name == "image_embeds"]
    # drop nodes nothing needs any more (walk back from the kept output)
    need = {o.name for o in keep_out}
    kept = []
    for n in reversed(list(g.node)):
        if any(o in need for o in n.output):
            kept.append(n)
            need.update(n.input)
    kept.reverse()
    used = {x for n in kept for x in n.input}
    inits = [t for t in g.initializer if t.name in used]
    new_input = helper.make_tensor_value_info("pixel_values", onnx.TensorProto.FLOAT, [dims[0], 3, dims[1], dims[2]])
    graph = helper.make_graph(kept, g.name, [new_input], keep_out, inits)
    out = helper.make_model(graph, opset_imports=m.opset_import, producer_name=m.producer_name,
                            ir_version=m.ir_version)
    onnx.save(out, str(dst))


def _session(path: Path):
    import onnxruntime as ort

    so = ort.SessionOptions()
    so.intra_op_num_threads = 2
    so.log_severity_level = 3
    return ort.InferenceSession(str(path), so, providers=["CPUExecutionProvider"])


def _check_same(original: Path, weightless: Path, feeds: dict, what: str) -> None:
    a = _session(original).run(None, feeds)
    b = _session(weightless).run(None, feeds)
    for x, y in zip(a, b):
        if not np.array_equal(x, y):
            raise WeightlessError(f"{what}: outputs differ from the exported graph (max {np.abs(x - y).max()})")


def convert(pack: Path, out: Path, threshold: int = 1024, reference: bool = False, log=print) -> dict:
    manifest = json.loads((pack / "model.json").read_text(encoding="utf-8"))
    graphs = [manifest["image"]["file"], manifest["text"]["file"]]
    int8 = manifest["image"].get("variants", {}).get("int8", {}).get("file")
    if int8:
        graphs.append(int8)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.tmp-", dir=str(out.parent)))
    check = Path(tempfile.mkdtemp(prefix=".weightless-check-", dir=str(out.parent)))
    try:
        entries: dict = {}
        fp32_values: Dict[str, np.ndarray] = {}
        for name in graphs:
            data = f"{name}.data"
            entry, values, chunks = make_weightless(pack / name, tmp / name, data, threshold,
                                                    fp32_values if name == int8 else None)
            if name == manifest["image"]["file"]:
                fp32_values = values
            entries[name] = entry
            shutil.copy(tmp / name, check / name)
            write_data(check / data, chunks)
            log(f"{name}: {len(entry['tensors'])} external tensors, {entry['bytes'] / 1e6:.1f} MB of data, "
                f"graph {(tmp / name).stat().st_size / 1e3:.0f} kB")
        # the weightless graphs with the exported values written back compute exactly the export
        h, w = manifest["image"]["height"], manifest["image"]["width"]
        frames = np.random.default_rng(0).integers(0, 256, (2, h, w, 3), dtype=np.uint8)
        for name in [manifest["image"]["file"]] + ([int8] if int8 else []):
            _check_same(pack / name, check / name, {"pixels": frames}, name)
        L = manifest["text"]["contextLength"]
        ids = np.zeros((2, L), np.int64)
        ids[:, :4] = [[manifest["text"].get("startId", 1), 5, 6, manifest["text"].get("endId", 2)]]
        mask = (np.arange(L) < 4).astype(np.int64)[None].repeat(2, 0)
        _check_same(pack / manifest["text"]["file"], check / manifest["text"]["file"],
                    {"input_ids": ids, "attention_mask": mask}, manifest["text"]["file"])
        if reference:
            cut_preprocessing(tmp / manifest["image"]["file"], tmp / "reference.onnx")
            shutil.copy(tmp / "reference.onnx", check / "reference.onnx")
            mean = np.array(manifest["provenance"].get("mean", [0.48145466, 0.4578275, 0.40821073]), np.float32)
            std = np.array(manifest["provenance"].get("std", [0.26862954, 0.26130258, 0.27577711]), np.float32)
            px = ((frames.astype(np.float32) / 255 - mean) / std).transpose(0, 3, 1, 2).copy()
            a = _session(check / "reference.onnx").run(["image_embeds"], {"pixel_values": px})[0]
            b = _session(check / manifest["image"]["file"]).run(["image_embeds"], {"pixels": frames})[0]
            if np.abs(a - b).max() > 1e-4:
                raise WeightlessError(f"reference.onnx differs from image.onnx by {np.abs(a - b).max()}")
            entries["reference.onnx"] = {"data": f"{manifest['image']['file']}.data", "sameAs": manifest["image"]["file"]}
        shutil.copy(pack / manifest["tokenizer"]["file"], tmp / manifest["tokenizer"]["file"])
        manifest["files"] = {f: _sha256(tmp / f) for f in graphs + [manifest["tokenizer"]["file"]]}
        if int8:
            manifest["image"]["variants"]["int8"].pop("sha256", None)
        (tmp / "model.json").write_text(json.dumps(manifest, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        weights = {"schema": SCHEMA, "threshold": threshold, "align": ALIGN, "graphs": entries}
        (tmp / "weights.json").write_text(json.dumps(weights, indent=1) + "\n", encoding="utf-8")
        if out.exists():
            shutil.rmtree(out)
        tmp.rename(out)
        return weights
    finally:
        shutil.rmtree(check, ignore_errors=True)
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)


def main(argv: Optional[Sequence[str]] = None) -> int:
    p = argparse.ArgumentParser(prog="python -m tools.model.weightless", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--pack", required=True, help="an exported pack folder")
    p.add_argument("--out", required=True, help="folder to write (replaced)")
    p.add_argument("--threshold", type=int, default=1024, help="bytes from which a tensor moves out")
    p.add_argument("--reference", action="store_true", help="also write reference.onnx (float32 NCHW input)")
    a = p.parse_args(argv)
    try:
        convert(Path(a.pack), Path(a.out), a.threshold, a.reference, log=lambda m: print(m, file=sys.stderr))
    except (WeightlessError, FileNotFoundError, KeyError) as e:
        print(f"weightless: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
