"""Parity fixtures for the TypeScript tests (no Python at test time).

    python -m tools.model.fixtures --pack DIR --out test/fixtures/parity/NAME/
    python -m tools.model.fixtures --tokenizer-reference open_clip:ARCH --tokenizer-file PATH \\
        --context-length 77 --out test/fixtures/tokenizer/NAME/

The first form reads a model pack (checking its sha256s) and writes what ONNX Runtime in
Python and the pack's tokenizer.json give for fixed inputs; the second writes the ids of the
reference tokenizer itself (open_clip's SimpleTokenizer) for the corpus, against which the
runtime's tokenizer and a pack's tokenizer.json can be tested. File formats:
test/fixtures/parity/README.md and test/fixtures/tokenizer/README.md.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
from pathlib import Path
from typing import List, Optional, Sequence

import numpy as np

from . import __version__
from .tokenizer import apply_runtime_rule, load_corpus, runtime_ids, special_ids

HERE = Path(__file__).resolve().parent
DEFAULT_CORPUS = HERE / "corpus.txt"
SCHEMA = "clipstream.parity.v1"
TEXTS = [
    "a photo of a cat",
    "a red circle and a blue square",
    "a blue circle and a red square",
    "",
    "Two DOGS, playing in the snow!",
    "the quick brown fox jumps over the lazy dog " * 12,
]
DEFAULT_MAX_BYTES = 1_000_000


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _r(x) -> list:
    """Nested lists of floats rounded to 7 significant digits."""
    arr = np.asarray(x, dtype=np.float64)
    if arr.ndim == 0:
        return float(f"{float(arr):.7g}")
    return [_r(v) for v in arr]


def fixture_frames(h: int, w: int, count: int = 4) -> np.ndarray:
    """Deterministic uint8 [count,H,W,3] frames: a colour gradient, a disc on a background,
    stripes and seeded noise (numpy PCG64, seed 1234)."""
    yy, xx = np.mgrid[0:h, 0:w]
    frames = []
    frames.append(np.stack([xx * 255 // max(w - 1, 1), yy * 255 // max(h - 1, 1),
                            255 - xx * 255 // max(w - 1, 1)], -1))
    disc = np.zeros((h, w, 3), np.int64) + np.array([30, 60, 30])
    disc[(yy - h / 2) ** 2 + (xx - w / 2) ** 2 < (min(h, w) / 3) ** 2] = (220, 30, 40)
    frames.append(disc)
    stripes = (((xx + yy) // max(min(h, w) // 8, 1)) % 2) * 255
    frames.append(np.stack([stripes, 255 - stripes, np.full_like(stripes, 128)], -1))
    frames.append(np.random.Generator(np.random.PCG64(1234)).integers(0, 256, (h, w, 3)))
    return np.stack(frames[:count]).astype(np.uint8)


def _session(path: Path):
    import onnxruntime as ort

    so = ort.SessionOptions()
    so.intra_op_num_threads = 2
    so.log_severity_level = 3
    return ort.InferenceSession(str(path), so, providers=["CPUExecutionProvider"])


def load_pack(pack: Path) -> dict:
    manifest = json.loads((pack / "model.json").read_text(encoding="utf-8"))
    for name, digest in manifest["files"].items():
        if _sha256(pack / name) != digest:
            raise ValueError(f"{pack / name}: sha256 does not match model.json")
    return manifest


def write_pack_fixtures(pack, out, corpus: Optional[Sequence[str]] = None, max_bytes: int = DEFAULT_MAX_BYTES) -> dict:
    pack, out = Path(pack), Path(out)
    m = load_pack(pack)
    texts = list(corpus) if corpus is not None else load_corpus(DEFAULT_CORPUS)
    tok_json = (pack / m["tokenizer"]["file"]).read_text(encoding="utf-8")
    L, pad = int(m["text"]["contextLength"]), int(m["text"]["padId"])
    end_id = m["text"].get("endId", special_ids(tok_json)[1])
    out.mkdir(parents=True, exist_ok=True)

    ids, masks = runtime_ids(tok_json, texts, L, pad, end_id)
    tokens = [{"text": t, "ids": i, "mask": k} for t, i, k in zip(texts, ids, masks)]

    h, w = int(m["image"]["height"]), int(m["image"]["width"])
    frames = fixture_frames(h, w)
    img_outs = m["image"]["outputs"]
    sess = _session(pack / m["image"]["file"])
    names = [o.name for o in sess.get_outputs()]
    res = dict(zip(names, sess.run(None, {m["image"]["input"]: frames})))
    image = {"frames": "frames.u8", "shape": list(frames.shape),
             "image_embeds": _r(res[img_outs["embeds"]])}
    if "patches" in img_outs:
        image["patch_embeds"] = _r(res[img_outs["patches"]])

    sess = _session(pack / m["text"]["file"])
    t_ids, t_mask = runtime_ids(tok_json, TEXTS, L, pad, end_id)
    names = [o.name for o in sess.get_outputs()]
    res = dict(zip(names, sess.run(None, {m["text"]["inputs"]["ids"]: np.asarray(t_ids, np.int64),
                                          m["text"]["inputs"]["mask"]: np.asarray(t_mask, np.int64)})))
    emb, tok = res[m["text"]["outputs"]["embeds"]], res[m["text"]["outputs"]["tokens"]]
    text_cases = []
    for i, t in enumerate(TEXTS):
        n = int(sum(t_mask[i]))
        text_cases.append({"text": t, "ids": t_ids[i], "mask": t_mask[i], "text_embeds": _r(emb[i]),
                           "token_embeds": _r(tok[i][:n])})

    manifest = {
        "schema": SCHEMA,
        "generator": f"tools/model/fixtures.py {__version__}",
        "pack": {"name": m["name"], "files": m["files"]},
        "contextLength": L,
        "padId": pad,
        "endId": end_id,
        "embedDim": int(m["embedDim"]),
        "image": {"height": h, "width": w},
        "tolerance": {"cosine": 0.9999},
        "files": {"tokens": "tokens.json", "image": "image.json", "text": "text.json", "frames": "frames.u8"},
        "dropped": [],
    }

    def size() -> int:
        return sum(len(json.dumps(x, ensure_ascii=False, separators=(",", ":")).encode())
                   for x in (tokens, image, text_cases, manifest)) + frames.nbytes

    # keep the folder small: drop the bulkiest optional arrays first
    for case in sorted(text_cases, key=lambda c: -len(c["token_embeds"])):
        if size() <= max_bytes:
            break
        case["token_embeds"] = None
        manifest["dropped"].append(f"token_embeds of {case['text'][:40]!r}")
    if size() > max_bytes and "patch_embeds" in image:
        image["patch_embeds"] = image["patch_embeds"][:1]
        manifest["dropped"].append("patch_embeds of frames 2..4")
        if size() > max_bytes:
            del image["patch_embeds"]
            manifest["dropped"][-1] = "patch_embeds"
    if size() > max_bytes:
        raise ValueError(f"fixtures would take {size()} bytes > {max_bytes}")

    def dump(name, obj):
        (out / name).write_text(json.dumps(obj, ensure_ascii=False, separators=(",", ":")) + "\n", encoding="utf-8")

    (out / "frames.u8").write_bytes(frames.tobytes())
    dump("tokens.json", tokens)
    dump("image.json", image)
    dump("text.json", text_cases)
    (out / "manifest.json").write_text(json.dumps(manifest, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return manifest


def write_tokenizer_fixtures(source: str, tokenizer_file, context_length: int, out,
                             corpus: Optional[Sequence[str]] = None) -> dict:
    """Reference ids (open_clip's own SimpleTokenizer) for the corpus, plus what the given
    tokenizer.json gives under the runtime rule; they must agree."""
    kind, _, arch = source.partition(":")
    if kind != "open_clip":
        raise ValueError("--tokenizer-reference takes open_clip:ARCH")
    import open_clip

    tok = open_clip.get_tokenizer(arch)
    texts = list(corpus) if corpus is not None else load_corpus(DEFAULT_CORPUS)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    tokenizer_file = Path(tokenizer_file)
    tok_json = tokenizer_file.read_text(encoding="utf-8")
    ref = tok(texts, context_length=context_length).tolist()
    end_id = tok.eot_token_id
    got, _ = runtime_ids(tok_json, texts, context_length, 0, end_id)
    bad = [t for t, a, b in zip(texts, ref, got) if a != b]
    if bad:
        raise ValueError(f"{tokenizer_file} disagrees with the reference on {len(bad)} lines, first {bad[0]!r}")
    cases = []
    for t, r in zip(texts, ref):
        n = max(i for i, v in enumerate(r) if v != 0) + 1  # the end token is the last real one
        cases.append({"text": t, "ids": r, "mask": [1] * n + [0] * (context_length - n)})
    doc = {
        "schema": "clipstream.tokenizer-cases.v1",
        "generator": f"tools/model/fixtures.py {__version__}",
        "reference": f"open_clip {open_clip.__version__} SimpleTokenizer ({arch})",
        "tokenizer": os.path.relpath(tokenizer_file.resolve(), out.resolve()),
        "tokenizerSha256": hashlib.sha256(tok_json.encode()).hexdigest(),
        "contextLength": context_length,
        "padId": 0,
        "startId": tok.sot_token_id,
        "endId": end_id,
        "cases": cases,
    }
    head = json.dumps({k: v for k, v in doc.items() if k != "cases"}, ensure_ascii=False, indent=2)
    lines = ",\n".join("    " + json.dumps(c, ensure_ascii=False, separators=(",", ":")) for c in cases)
    (out / "cases.json").write_text(head[:-2] + ',\n  "cases": [\n' + lines + "\n  ]\n}\n", encoding="utf-8")
    return doc


def main(argv: Optional[Sequence[str]] = None) -> int:
    p = argparse.ArgumentParser(prog="python -m tools.model.fixtures", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--pack", help="model pack folder")
    p.add_argument("--tokenizer-reference", help="open_clip:ARCH: write reference tokenizer cases instead")
    p.add_argument("--tokenizer-file", help="tokenizer.json to check against the reference (with --tokenizer-reference)")
    p.add_argument("--context-length", type=int, default=77)
    p.add_argument("--out", required=True)
    p.add_argument("--corpus", help="corpus file (default tools/model/corpus.txt)")
    p.add_argument("--max-bytes", type=int, default=DEFAULT_MAX_BYTES)
    a = p.parse_args(argv)
    corpus = load_corpus(a.corpus) if a.corpus else None
    try:
        if a.tokenizer_reference:
            if not a.tokenizer_file:
                p.error("--tokenizer-reference needs --tokenizer-file")
            doc = write_tokenizer_fixtures(a.tokenizer_reference, a.tokenizer_file, a.context_length, a.out, corpus)
            print(f"{len(doc['cases'])} reference cases -> {a.out}")
        elif a.pack:
            m = write_pack_fixtures(a.pack, a.out, corpus, a.max_bytes)
            total = sum(f.stat().st_size for f in Path(a.out).iterdir() if f.is_file())
            print(f"parity fixtures for {m['pack']['name']} -> {a.out} ({total / 1e3:.0f} kB"
                  + (f"; dropped: {', '.join(m['dropped'])}" if m["dropped"] else "") + ")")
        else:
            p.error("give --pack or --tokenizer-reference")
    except (ValueError, FileNotFoundError) as e:
        print(f"fixtures: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
