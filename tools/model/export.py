"""Export a CLIP-style dual encoder into a clipstream model pack (docs/model-pack.md).

    python -m tools.model.export --source SOURCE --out DIR [options]

SOURCE is one of
  open_clip:ARCH        open_clip architecture name or model-config JSON path; needs
                        --checkpoint FILE or --random-init
  hf:DIR                a local Hugging Face CLIPModel folder (config, weights, tokenizer,
                        preprocessor_config.json)
  module:PKG.MOD:FUNC   any adapter factory FUNC(checkpoint) -> ExportAdapter
                        (tools/model/adapter.py); --checkpoint FILE is passed to it

The pack is built in a temporary folder beside DIR and moved into place only when every
check passes (ONNX Runtime vs the family's PyTorch reference, tokenizer.json vs the
reference tokenizer, graph I/O vs the contract). Exit status 0: written; 1: checks failed,
nothing written; 2: bad usage.
"""

from __future__ import annotations

import argparse
import hashlib
import importlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Dict, List, Optional, Sequence

import numpy as np
import torch

from . import __version__
from .tokenizer import NORMALISER_LIMITS, apply_runtime_rule, load_corpus, runtime_ids, special_ids

HERE = Path(__file__).resolve().parent
REPO_ROOT = HERE.parent.parent
DEFAULT_CORPUS = HERE / "corpus.txt"
DEFAULT_OPSET = 17
ADAPTER_ATTRS = (
    "name", "image_size", "resize", "context_length", "embed_dim", "logit_scale", "pad_id", "provenance",
)
ADAPTER_METHODS = (
    "image_module", "text_module", "tokenizer_json",
    "reference_token_ids", "reference_image_embeds", "reference_text_embeds",
)


class ExportCheckFailed(RuntimeError):
    """A self-check failed; the pack was not written."""


# --------------------------------------------------------------------------------------------
# adapters


def load_adapter(source: str, checkpoint: Optional[str] = None, random_init: bool = False,
                 name: Optional[str] = None, seed: int = 0):
    """Build the ExportAdapter for a --source spec (see module docstring)."""
    kind, _, rest = source.partition(":")
    if not rest:
        raise ValueError(f"bad --source {source!r}: expected open_clip:ARCH, hf:DIR or module:PKG.MOD:FUNC")
    if kind == "open_clip":
        from .adapters import open_clip as oc

        adapter = oc.load(rest, checkpoint=checkpoint, random_init=random_init, name=name, seed=seed)
    elif kind == "hf":
        if checkpoint or random_init:
            raise ValueError("hf:DIR takes neither --checkpoint nor --random-init (weights are in DIR)")
        from .adapters import hf_clip

        adapter = hf_clip.load(rest, name=name)
    elif kind == "module":
        mod_name, _, func_name = rest.partition(":")
        if not mod_name or not func_name:
            raise ValueError(f"bad --source {source!r}: expected module:PKG.MOD:FUNC")
        if random_init:
            raise ValueError("module: sources take --checkpoint, not --random-init")
        if str(REPO_ROOT) not in sys.path:
            sys.path.insert(0, str(REPO_ROOT))
        factory = getattr(importlib.import_module(mod_name), func_name)
        adapter = factory(checkpoint)
        if name:
            adapter.name = name
    else:
        raise ValueError(f"unknown source kind {kind!r} (open_clip, hf, module)")
    validate_adapter(adapter)
    return adapter


def validate_adapter(adapter) -> None:
    missing = [a for a in ADAPTER_ATTRS if not hasattr(adapter, a)]
    missing += [m for m in ADAPTER_METHODS if not callable(getattr(adapter, m, None))]
    if missing:
        raise TypeError(f"adapter {type(adapter).__name__} lacks {', '.join(missing)} (tools/model/adapter.py)")
    if adapter.resize not in ("crop", "letterbox", "stretch"):
        raise ValueError(f"adapter resize {adapter.resize!r} is not crop|letterbox|stretch")
    h, w = adapter.image_size
    if int(h) <= 0 or int(w) <= 0 or int(adapter.context_length) <= 0:
        raise ValueError("adapter image_size and context_length must be positive")


# --------------------------------------------------------------------------------------------
# ONNX export


class _Outputs(torch.nn.Module):
    """Drops a None second output so the traced graph has exactly the contract's outputs."""

    def __init__(self, inner: torch.nn.Module, keep_second: bool):
        super().__init__()
        self.inner = inner
        self.keep_second = keep_second

    def forward(self, *args):
        a, b = self.inner(*args)
        return (a, b) if self.keep_second else a


def _export(module, args, path, input_names, output_names, dynamic_axes, opset, distinct=False) -> None:
    # nn.MultiheadAttention's inference fast path (aten::_native_multi_head_attention) has no
    # ONNX symbolic: trace the plain path instead
    fastpath = torch.backends.mha.get_fastpath_enabled()
    torch.backends.mha.set_fastpath_enabled(False)
    try:
        _export_traced(module, args, path, input_names, output_names, dynamic_axes, opset, distinct)
    finally:
        torch.backends.mha.set_fastpath_enabled(fastpath)


def _export_traced(module, args, path, input_names, output_names, dynamic_axes, opset, distinct=False) -> None:
    """distinct: every parameter keeps its own initializer. The exporter otherwise merges
    initializers of equal value, which a trained checkpoint rarely has but a random-init one has
    everywhere (every LayerNorm gain 1, every zero-initialised bias): merged, a benchmark graph
    would read one tensor where the deployed graph reads 26. Parameters are exported as graph
    inputs (which skips the merging) and then taken out of the inputs again."""
    import warnings

    with torch.no_grad(), warnings.catch_warnings():
        # the TorchScript exporter announces its deprecation; dynamo=False is deliberate
        warnings.simplefilter("ignore", DeprecationWarning)
        warnings.simplefilter("ignore", FutureWarning)
        warnings.simplefilter("ignore", torch.jit.TracerWarning)
        torch.onnx.export(
            module, args, str(path),
            input_names=input_names, output_names=output_names, dynamic_axes=dynamic_axes,
            opset_version=opset, do_constant_folding=True, dynamo=False,
            keep_initializers_as_inputs=distinct,
        )
    if distinct:
        import onnx

        model = onnx.load(str(path))
        inits = {t.name for t in model.graph.initializer}
        keep = [v for v in model.graph.input if v.name not in inits]
        del model.graph.input[:]
        model.graph.input.extend(keep)
        onnx.save(model, str(path))


def export_image(adapter, path: Path, opset: int, distinct: bool = False) -> bool:
    """Writes image.onnx; returns whether it has patch_embeds."""
    h, w = adapter.image_size
    module = adapter.image_module().eval()
    dummy = torch.randint(0, 256, (2, h, w, 3), dtype=torch.uint8)
    with torch.no_grad():
        _, patches = module(dummy)
    has_patches = patches is not None
    outputs = ["image_embeds"] + (["patch_embeds"] if has_patches else [])
    axes = {"pixels": {0: "N"}, "image_embeds": {0: "N"}}
    if has_patches:
        axes["patch_embeds"] = {0: "N"}
    _export(_Outputs(module, has_patches), (dummy,), path, ["pixels"], outputs, axes, opset, distinct)
    return has_patches


def export_text(adapter, path: Path, opset: int, sample_ids: List[List[int]], sample_mask: List[List[int]],
                distinct: bool = False) -> None:
    module = adapter.text_module().eval()
    ids = torch.tensor(sample_ids[:2], dtype=torch.int64)
    mask = torch.tensor(sample_mask[:2], dtype=torch.int64)
    axes = {n: {0: "N"} for n in ("input_ids", "attention_mask", "text_embeds", "token_embeds")}
    _export(_Outputs(module, True), (ids, mask), path, ["input_ids", "attention_mask"],
            ["text_embeds", "token_embeds"], axes, opset, distinct)


def pin_shapes(path: Path, dims: Dict[str, list]) -> None:
    """Write the known static dims into graph inputs/outputs (the tracer leaves some of them
    symbolic, e.g. after F.normalize); None keeps a dim dynamic and names it N."""
    import onnx

    model = onnx.load(str(path))
    for v in list(model.graph.input) + list(model.graph.output):
        if v.name not in dims:
            continue
        shape = v.type.tensor_type.shape
        want = dims[v.name]
        if len(shape.dim) != len(want):
            raise ExportCheckFailed(f"{path.name}: {v.name} has rank {len(shape.dim)}, expected {len(want)}")
        for d, w in zip(shape.dim, want):
            if w is None:
                d.dim_param = "N"
            else:
                d.dim_value = int(w)
    onnx.save(model, str(path))


def _value_info(v):
    t = v.type.tensor_type
    dims = [d.dim_value if d.HasField("dim_value") else (d.dim_param or "?") for d in t.shape.dim]
    return t.elem_type, dims


def check_graph_io(path: Path, inputs: Dict[str, tuple], outputs: Dict[str, tuple]) -> None:
    """Check I/O names, element types and shapes against the contract. A spec is
    (onnx elem type, [dim...]) where a dim is an int (fixed) or None (dynamic)."""
    import onnx

    model = onnx.load(str(path), load_external_data=False)
    onnx.checker.check_model(model, full_check=True)
    for kind, values, spec in (("input", model.graph.input, inputs), ("output", model.graph.output, outputs)):
        names = [v.name for v in values]
        if names != list(spec):
            raise ExportCheckFailed(f"{path.name}: {kind}s {names}, expected {list(spec)}")
        for v in values:
            elem, dims = _value_info(v)
            want_elem, want_dims = spec[v.name]
            if elem != want_elem or len(dims) != len(want_dims):
                raise ExportCheckFailed(f"{path.name}: {v.name} is type {elem} dims {dims}, expected "
                                        f"type {want_elem} rank {len(want_dims)}")
            for got, want in zip(dims, want_dims):
                if want is None and isinstance(got, int) and got > 0:
                    raise ExportCheckFailed(f"{path.name}: {v.name} has fixed dim {got} where the batch must be dynamic")
                if want is not None and got != want:
                    raise ExportCheckFailed(f"{path.name}: {v.name} dims {dims}, expected {want_dims}")


# --------------------------------------------------------------------------------------------
# checks


def _session(path: Path):
    import onnxruntime as ort

    so = ort.SessionOptions()
    so.intra_op_num_threads = int(os.environ.get("CLIPSTREAM_EXPORT_THREADS", "2"))
    so.inter_op_num_threads = 1
    so.log_severity_level = 3
    return ort.InferenceSession(str(path), so, providers=["CPUExecutionProvider"])


def _rowcos(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    a = a.astype(np.float64).reshape(-1, a.shape[-1])
    b = b.astype(np.float64).reshape(-1, b.shape[-1])
    num = (a * b).sum(-1)
    den = np.linalg.norm(a, axis=-1) * np.linalg.norm(b, axis=-1)
    return num / np.maximum(den, 1e-30)


def check_frames(h: int, w: int, seed: int, n_random: int = 4) -> np.ndarray:
    """Check inputs: n_random uniform-noise frames and 4 structured ones (gradient, solid,
    stripes, a disc on a background), uint8 [N,H,W,3]."""
    rng = np.random.default_rng(seed)
    frames = [rng.integers(0, 256, (h, w, 3), dtype=np.uint8) for _ in range(n_random)]
    yy, xx = np.mgrid[0:h, 0:w]
    grad = np.stack([xx * 255 // max(w - 1, 1), yy * 255 // max(h - 1, 1), (xx + yy) * 255 // max(h + w - 2, 1)], -1)
    frames.append(grad.astype(np.uint8))
    frames.append(np.full((h, w, 3), (200, 40, 30), np.uint8))
    stripes = ((xx // max(w // 8, 1)) % 2 * 255).astype(np.uint8)
    frames.append(np.stack([stripes, stripes, 255 - stripes], -1))
    disc = np.zeros((h, w, 3), np.uint8) + np.array([20, 90, 160], np.uint8)
    disc[(yy - h / 2) ** 2 + (xx - w / 3) ** 2 < (min(h, w) / 4) ** 2] = (230, 210, 20)
    frames.append(disc)
    return np.stack(frames)


def _sci(x: float) -> float:
    return float(f"{float(x):.3g}")


def _fmt(x: float) -> float:
    return float(f"{x:.9f}")


def run_checks(adapter, tmp: Path, tokenizer_json: str, texts: Sequence[str], has_patches: bool,
               min_cosine: float, seed: int, js_check: bool, log) -> dict:
    checks: dict = {"min_cosine_required": min_cosine}
    L = int(adapter.context_length)
    start_id, end_id = special_ids(tokenizer_json)
    failures: List[str] = []

    # 1. tokenizer.json + runtime rule vs the reference tokenizer
    ids, masks = runtime_ids(tokenizer_json, texts, L, int(adapter.pad_id), end_id)
    ref = [list(map(int, r)) for r in adapter.reference_token_ids(texts)]
    bad = [i for i, (a, b) in enumerate(zip(ids, ref)) if a != b or len(b) != L]
    checks["tokenizer"] = {"corpus": len(texts), "identical": len(texts) - len(bad)}
    if bad:
        failures.append(f"tokenizer: {len(bad)}/{len(texts)} corpus lines differ from the reference, "
                        f"first {texts[bad[0]]!r}: {ids[bad[0]]} vs {ref[bad[0]]}")

    # 1b. the runtime's JavaScript tokenizer, where node and the package are there
    checks["tokenizer_js"] = js_tokenizer_check(tmp / "tokenizer.json", texts, ids, L, int(adapter.pad_id),
                                                end_id) if js_check else "skipped (--no-js-check)"
    if isinstance(checks["tokenizer_js"], dict) and checks["tokenizer_js"]["identical"] != len(texts):
        failures.append(f"tokenizer (JavaScript runtime): {checks['tokenizer_js']}")

    # 2. image: ONNX Runtime vs the family's PyTorch reference
    h, w = adapter.image_size
    frames = check_frames(h, w, seed)
    sess = _session(tmp / "image.onnx")
    out = sess.run(None, {"pixels": frames})
    ref_img = adapter.reference_image_embeds(torch.from_numpy(frames)).float().numpy()
    cos = _rowcos(out[0], ref_img)
    checks["image_embeds"] = {"frames": int(len(frames)), "min_cosine": _fmt(cos.min()),
                              "max_abs_diff": _sci(np.abs(out[0] - ref_img).max())}
    norms = np.linalg.norm(out[0], axis=-1)
    checks["image_embeds"]["max_norm_error"] = _fmt(float(np.abs(norms - 1).max()))
    one = sess.run(None, {"pixels": frames[:1]})[0]
    checks["image_embeds"]["batch1_cosine"] = _fmt(_rowcos(one, out[0][:1]).min())
    if cos.min() < min_cosine or checks["image_embeds"]["batch1_cosine"] < min_cosine:
        failures.append(f"image_embeds: {checks['image_embeds']}")
    if norms.max() - 1 > 1e-3 or 1 - norms.min() > 1e-3:
        failures.append("image_embeds are not L2-normalised")
    if has_patches:
        with torch.no_grad():
            _, ref_patch = adapter.image_module().eval()(torch.from_numpy(frames))
        pc = _rowcos(out[1], ref_patch.float().numpy())
        checks["patch_embeds"] = {"shape": list(out[1].shape[1:]), "min_cosine": _fmt(pc.min()),
                                  "max_abs_diff": _sci(np.abs(out[1] - ref_patch.float().numpy()).max())}
        if pc.min() < min_cosine:
            failures.append(f"patch_embeds: {checks['patch_embeds']}")

    # 3. text: ONNX Runtime on tokenizer.json ids vs the family's reference (its own tokenizer)
    sess = _session(tmp / "text.onnx")
    ids_np = np.asarray(ids, np.int64)
    mask_np = np.asarray(masks, np.int64)
    text_out, tok_out = sess.run(None, {"input_ids": ids_np, "attention_mask": mask_np})
    ref_txt = adapter.reference_text_embeds(texts).float().numpy()
    tc = _rowcos(text_out, ref_txt)
    checks["text_embeds"] = {"texts": len(texts), "min_cosine": _fmt(tc.min()),
                             "max_abs_diff": _sci(np.abs(text_out - ref_txt).max())}
    one = sess.run(None, {"input_ids": ids_np[:1], "attention_mask": mask_np[:1]})[0]
    checks["text_embeds"]["batch1_cosine"] = _fmt(_rowcos(one, text_out[:1]).min())
    if tc.min() < min_cosine or checks["text_embeds"]["batch1_cosine"] < min_cosine:
        failures.append(f"text_embeds: {checks['text_embeds']}")
    with torch.no_grad():
        _, ref_tok = adapter.text_module().eval()(torch.from_numpy(ids_np), torch.from_numpy(mask_np))
    real = mask_np.astype(bool)
    kc = _rowcos(tok_out[real], ref_tok.float().numpy()[real])
    pad_abs = float(np.abs(tok_out[~real]).max()) if (~real).any() else 0.0
    checks["token_embeds"] = {"positions": int(real.sum()), "min_cosine": _fmt(kc.min()),
                              "max_abs_diff": _sci(np.abs(tok_out[real] - ref_tok.float().numpy()[real]).max()),
                              "padding_max_abs": pad_abs}
    if kc.min() < min_cosine:
        failures.append(f"token_embeds: {checks['token_embeds']}")
    if pad_abs != 0.0:
        failures.append(f"token_embeds are not zero at padding (max |x| {pad_abs})")

    if failures:
        for f in failures:
            log(f"CHECK FAILED: {f}")
        raise ExportCheckFailed("; ".join(failures))
    return checks


def js_tokenizer_check(tok_path: Path, texts, expected, L, pad_id, end_id):
    """Ids from the runtime's JavaScript tokenizer (@huggingface/tokenizers via node) vs
    `expected`; a string saying why when node or the package is not available."""
    node = shutil.which("node")
    script = HERE / "js_tokenize.mjs"
    if not node:
        return "skipped (no node)"
    if not (REPO_ROOT / "node_modules" / "@huggingface" / "tokenizers").is_dir():
        return "skipped (@huggingface/tokenizers not installed: npm ci)"
    proc = subprocess.run([node, str(script), str(tok_path)], input=json.dumps(list(texts)).encode(),
                          capture_output=True, cwd=str(REPO_ROOT), timeout=300)
    if proc.returncode != 0:
        raise ExportCheckFailed(f"JavaScript tokenizer failed: {proc.stderr.decode()[-2000:]}")
    got = [apply_runtime_rule(r, L, pad_id, end_id)[0] for r in json.loads(proc.stdout)]
    same = sum(a == b for a, b in zip(got, expected))
    return {"corpus": len(texts), "identical": same}


# --------------------------------------------------------------------------------------------
# int8 variant


def quantize_image(tmp: Path, frames: np.ndarray, seed: int, min_cosine: float, log) -> dict:
    from onnxruntime.quantization import QuantType, quantize_dynamic

    src, dst = tmp / "image.onnx", tmp / "image.int8.onnx"
    quantize_dynamic(str(src), str(dst), weight_type=QuantType.QInt8, per_channel=True,
                     op_types_to_quantize=["MatMul", "Gemm"])
    fp32 = _session(src).run(None, {"pixels": frames})[0]
    q = _session(dst).run(None, {"pixels": frames})[0]
    cos = _rowcos(q, fp32)
    n_random = len(frames) - 4
    info = {
        "file": "image.int8.onnx",
        "quantization": "onnxruntime quantize_dynamic: int8 weights per channel, dynamic uint8 "
                        "activations, MatMul/Gemm only (patch conv stays float32)",
        "intended": "CPU execution provider",
        "checks": {
            "min_cosine_vs_fp32_random": _fmt(cos[:n_random].min()),
            "min_cosine_vs_fp32_structured": _fmt(cos[n_random:].min()),
            "min_cosine_required": min_cosine,
        },
    }
    if cos.min() < min_cosine:
        log(f"CHECK FAILED: int8 image encoder: {info['checks']}")
        raise ExportCheckFailed(f"int8 image encoder cosine {cos.min():.5f} < {min_cosine}")
    return info


def float16_image(tmp: Path, frames: np.ndarray, min_cosine: float, log) -> dict:
    """fp16 weights and activations for the CUDA provider; uint8 input and float32 outputs kept."""
    import onnx
    from onnxruntime.transformers.float16 import convert_float_to_float16

    src, dst = tmp / "image.onnx", tmp / "image.fp16.onnx"
    model = convert_float_to_float16(onnx.load(str(src)), keep_io_types=True)
    onnx.save(model, str(dst))
    fp32 = _session(src).run(None, {"pixels": frames})[0]
    half = _session(dst).run(None, {"pixels": frames})[0]
    cos = _rowcos(half.astype(np.float32), fp32)
    info = {
        "file": "image.fp16.onnx",
        "precision": "float16 weights and activations (onnxruntime.transformers.float16, io types kept)",
        "intended": "CUDA execution provider",
        "checks": {"min_cosine_vs_fp32": _fmt(cos.min()), "min_cosine_required": min_cosine},
    }
    if cos.min() < min_cosine:
        log(f"CHECK FAILED: fp16 image encoder: {info['checks']}")
        raise ExportCheckFailed(f"fp16 image encoder cosine {cos.min():.5f} < {min_cosine}")
    return info


# --------------------------------------------------------------------------------------------
# pack


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _normalise_tokenizer_json(text: str) -> str:
    doc = json.loads(text)
    if doc.get("truncation") is None and doc.get("padding") is None:
        return text
    # the runtime pads and truncates itself (docs/model-pack.md)
    doc["truncation"] = None
    doc["padding"] = None
    return json.dumps(doc, ensure_ascii=False, separators=(",", ":"))


def export_pack(adapter, out_dir, *, opset: int = DEFAULT_OPSET, quantize: Optional[str] = None,
                corpus: Optional[Sequence[str]] = None, description: Optional[str] = None,
                min_cosine: float = 0.9999, int8_min_cosine: float = 0.99, seed: int = 0,
                force: bool = False, js_check: bool = True, distinct_initializers: bool = False,
                fp16: bool = False, fp16_min_cosine: float = 0.999, log=print) -> dict:
    """Export, check and write a pack; returns model.json's content. Raises ExportCheckFailed
    (nothing written) when a check fails, FileExistsError when out_dir exists and not force."""
    validate_adapter(adapter)
    out_dir = Path(out_dir)
    if out_dir.exists() and not force:
        raise FileExistsError(f"{out_dir} exists (use --force to replace it)")
    texts = list(corpus) if corpus is not None else load_corpus(DEFAULT_CORPUS)
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.tmp-", dir=str(out_dir.parent)))
    timings = {}
    try:
        t0 = time.perf_counter()
        tok_json = _normalise_tokenizer_json(adapter.tokenizer_json())
        (tmp / "tokenizer.json").write_text(tok_json, encoding="utf-8")
        start_id, end_id = special_ids(tok_json)
        L = int(adapter.context_length)
        h, w = (int(v) for v in adapter.image_size)
        sample_ids, sample_mask = runtime_ids(tok_json, ["a photo of a cat", "two red circles"], L,
                                              int(adapter.pad_id), end_id)
        has_patches = export_image(adapter, tmp / "image.onnx", opset, distinct_initializers)
        export_text(adapter, tmp / "text.onnx", opset, sample_ids, sample_mask, distinct_initializers)
        timings["export_s"] = round(time.perf_counter() - t0, 1)
        log(f"exported ONNX graphs in {timings['export_s']} s")

        import onnx

        D = int(adapter.embed_dim)
        with torch.no_grad():
            probe = adapter.image_module().eval()(torch.zeros((1, h, w, 3), dtype=torch.uint8))
        P = int(probe[1].shape[1]) if has_patches else None
        pin_shapes(tmp / "image.onnx", {"pixels": [None, h, w, 3], "image_embeds": [None, D],
                                        **({"patch_embeds": [None, P, D]} if has_patches else {})})
        pin_shapes(tmp / "text.onnx", {"input_ids": [None, L], "attention_mask": [None, L],
                                       "text_embeds": [None, D], "token_embeds": [None, L, D]})
        F32, I64, U8 = onnx.TensorProto.FLOAT, onnx.TensorProto.INT64, onnx.TensorProto.UINT8
        img_out = {"image_embeds": (F32, [None, D])}
        if has_patches:
            img_out["patch_embeds"] = (F32, [None, P, D])
        check_graph_io(tmp / "image.onnx", {"pixels": (U8, [None, h, w, 3])}, img_out)
        check_graph_io(tmp / "text.onnx", {"input_ids": (I64, [None, L]), "attention_mask": (I64, [None, L])},
                       {"text_embeds": (F32, [None, D]), "token_embeds": (F32, [None, L, D])})

        t0 = time.perf_counter()
        checks = run_checks(adapter, tmp, tok_json, texts, has_patches, min_cosine, seed, js_check, log)
        checks["graph_io"] = "ok"
        timings["checks_s"] = round(time.perf_counter() - t0, 1)

        variants = []
        if quantize:
            if quantize != "int8":
                raise ValueError(f"--quantize {quantize!r}: only int8")
            t0 = time.perf_counter()
            variants.append(quantize_image(tmp, check_frames(h, w, seed + 1), seed, int8_min_cosine, log))
            timings["quantize_s"] = round(time.perf_counter() - t0, 1)
        if fp16:
            t0 = time.perf_counter()
            variants.append(float16_image(tmp, check_frames(h, w, seed + 2), fp16_min_cosine, log))
            timings["fp16_s"] = round(time.perf_counter() - t0, 1)

        files = ["image.onnx", "text.onnx", "tokenizer.json"] + [v["file"] for v in variants]
        image = {
            "file": "image.onnx",
            "input": "pixels",
            "height": h,
            "width": w,
            "resize": adapter.resize,
            "outputs": {"embeds": "image_embeds", **({"patches": "patch_embeds"} if has_patches else {})},
        }
        if variants:
            image["variants"] = {("fp16" if v["file"] == "image.fp16.onnx" else "int8"): v for v in variants}
        manifest = {
            "schema": "clipstream.modelpack.v1",
            "name": adapter.name,
            "description": description or f"{adapter.provenance.get('source', adapter.name)} exported by tools/model",
            "embedDim": D,
            "logitScale": round(float(adapter.logit_scale), 6),
            "image": image,
            "text": {
                "file": "text.onnx",
                "inputs": {"ids": "input_ids", "mask": "attention_mask"},
                "contextLength": L,
                "padId": int(adapter.pad_id),
                # extras for the runtime rule: the special tokens tokenizer.json adds
                "startId": start_id,
                "endId": end_id,
                "outputs": {"embeds": "text_embeds", "tokens": "token_embeds"},
            },
            "tokenizer": {"file": "tokenizer.json"},
            "files": {f: sha256_file(tmp / f) for f in files},
            "provenance": {
                **adapter.provenance,
                "exporter": f"tools/model {__version__}",
                "opset": opset,
                **({"distinctInitializers": True} if distinct_initializers else {}),
                "torch": torch.__version__,
                "onnxruntime": _ort_version(),
                "checks": checks,
                "tokenizerLimits": NORMALISER_LIMITS if adapter.provenance.get("family") == "open_clip" else [],
                "timings": timings,
            },
        }
        (tmp / "model.json").write_text(json.dumps(manifest, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        _move_into_place(tmp, out_dir)
        return manifest
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)




def _ort_version() -> str:
    import onnxruntime

    return onnxruntime.__version__


def _move_into_place(tmp: Path, out_dir: Path) -> None:
    old = None
    if out_dir.exists():
        old = out_dir.with_name(f".{out_dir.name}.old-{os.getpid()}")
        os.replace(out_dir, old)
    os.replace(tmp, out_dir)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def report(manifest: dict, out_dir) -> str:
    c = manifest["provenance"]["checks"]
    lines = [
        f"pack {manifest['name']} -> {out_dir}",
        f"  image {manifest['image']['height']}x{manifest['image']['width']} ({manifest['image']['resize']}), "
        f"text L={manifest['text']['contextLength']}, D={manifest['embedDim']}, logitScale={manifest['logitScale']}",
        f"  tokenizer: {c['tokenizer']['identical']}/{c['tokenizer']['corpus']} corpus lines identical to the reference",
        f"  tokenizer (JavaScript runtime): " + (
            f"{c['tokenizer_js']['identical']}/{c['tokenizer_js']['corpus']} identical"
            if isinstance(c["tokenizer_js"], dict) else c["tokenizer_js"]),
        f"  image_embeds min cosine {c['image_embeds']['min_cosine']} over {c['image_embeds']['frames']} frames "
        f"(batch-1 {c['image_embeds']['batch1_cosine']}), max |diff| {c['image_embeds']['max_abs_diff']}",
    ]
    if "patch_embeds" in c:
        lines.append(f"  patch_embeds min cosine {c['patch_embeds']['min_cosine']} (P,D={c['patch_embeds']['shape']}), "
                     f"max |diff| {c['patch_embeds']['max_abs_diff']}")
    lines += [
        f"  text_embeds  min cosine {c['text_embeds']['min_cosine']} over {c['text_embeds']['texts']} texts "
        f"(batch-1 {c['text_embeds']['batch1_cosine']}), max |diff| {c['text_embeds']['max_abs_diff']}",
        f"  token_embeds min cosine {c['token_embeds']['min_cosine']} over {c['token_embeds']['positions']} real "
        f"positions, max |diff| {c['token_embeds']['max_abs_diff']}, padding max |x| {c['token_embeds']['padding_max_abs']}",
    ]
    v = manifest["image"].get("variants", {}).get("int8")
    if v:
        lines.append(f"  int8 image encoder vs fp32: min cosine {v['checks']['min_cosine_vs_fp32_random']} random, "
                     f"{v['checks']['min_cosine_vs_fp32_structured']} structured")
    t = manifest["provenance"]["timings"]
    lines.append("  timings: " + ", ".join(f"{k} {v}" for k, v in t.items()))
    sizes = ", ".join(f"{f} {os.path.getsize(Path(out_dir) / f) / 1e6:.1f} MB" for f in manifest["files"])
    lines.append(f"  files: {sizes}")
    return "\n".join(lines)


def main(argv: Optional[Sequence[str]] = None) -> int:
    p = argparse.ArgumentParser(prog="python -m tools.model.export", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--source", required=True, help="open_clip:ARCH | hf:DIR | module:PKG.MOD:FUNC")
    p.add_argument("--out", required=True, help="pack folder to write")
    p.add_argument("--checkpoint", help="weights file (open_clip, module:)")
    p.add_argument("--random-init", action="store_true", help="open_clip: random weights (benchmarks, tests)")
    p.add_argument("--name", help="pack name in model.json (default: the adapter's)")
    p.add_argument("--description", help="model.json description")
    p.add_argument("--quantize", choices=["int8"], help="also write a dynamically quantised image encoder")
    p.add_argument("--fp16", action="store_true", help="also write an fp16 image encoder (for the CUDA provider)")
    p.add_argument("--fp16-min-cosine", type=float, default=0.999)
    p.add_argument("--opset", type=int, default=DEFAULT_OPSET)
    p.add_argument("--corpus", help="tokenizer check corpus (default tools/model/corpus.txt)")
    p.add_argument("--min-cosine", type=float, default=0.9999)
    p.add_argument("--int8-min-cosine", type=float, default=0.99)
    p.add_argument("--seed", type=int, default=0, help="random-init weights and check inputs")
    p.add_argument("--force", action="store_true", help="replace an existing pack folder")
    p.add_argument("--no-js-check", action="store_true", help="skip the JavaScript tokenizer cross-check")
    p.add_argument("--threads", type=int, help="torch/ORT threads (default 2)")
    p.add_argument("--distinct-initializers", action="store_true",
                   help="keep parameters of equal value apart (random-init benchmark graphs)")
    a = p.parse_args(argv)
    threads = a.threads or int(os.environ.get("CLIPSTREAM_EXPORT_THREADS", "2"))
    os.environ["CLIPSTREAM_EXPORT_THREADS"] = str(threads)
    torch.set_num_threads(threads)
    t0 = time.perf_counter()
    try:
        adapter = load_adapter(a.source, a.checkpoint, a.random_init, a.name, a.seed)
        corpus = load_corpus(a.corpus) if a.corpus else None
        manifest = export_pack(adapter, a.out, opset=a.opset, quantize=a.quantize, fp16=a.fp16,
                               fp16_min_cosine=a.fp16_min_cosine, corpus=corpus,
                               description=a.description, min_cosine=a.min_cosine,
                               int8_min_cosine=a.int8_min_cosine, seed=a.seed, force=a.force,
                               js_check=not a.no_js_check, distinct_initializers=a.distinct_initializers,
                               log=lambda m: print(m, file=sys.stderr))
    except (ValueError, TypeError, FileExistsError, ModuleNotFoundError) as e:
        print(f"export: {e}", file=sys.stderr)
        return 2
    except ExportCheckFailed as e:
        print(f"export refused, nothing written: {e}", file=sys.stderr)
        return 1
    print(report(manifest, a.out))
    print(f"  total {time.perf_counter() - t0:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
