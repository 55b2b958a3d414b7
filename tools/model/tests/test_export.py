"""Exporter tests on tiny random models (open_clip and Hugging Face CLIP); about a minute.

Run from the repository root: tools/.venv/bin/python -m pytest tools/model/tests
"""

import copy
import json
import os
from pathlib import Path

import numpy as np
import pytest
import torch

from tools.model import export as ex
from tools.model.fixtures import write_pack_fixtures
from tools.model.tokenizer import apply_runtime_rule, load_corpus, runtime_ids, special_ids

ROOT = Path(__file__).resolve().parents[3]
CORPUS = load_corpus(ROOT / "tools" / "model" / "corpus.txt")


class Wrapped:
    """An adapter that delegates to another and overrides some members (to break exports)."""

    def __init__(self, inner, **overrides):
        self._inner = inner
        self._overrides = overrides

    def __getattr__(self, name):
        if name in self._overrides:
            return self._overrides[name]
        return getattr(self._inner, name)


def _quiet(_msg):
    pass


# -- tokenizer ---------------------------------------------------------------------------------


def test_runtime_rule_truncates_with_end_token_and_pads():
    assert apply_runtime_rule([1, 5, 6, 2], 6, 0, 2) == ([1, 5, 6, 2, 0, 0], [1, 1, 1, 1, 0, 0])
    assert apply_runtime_rule([1, 5, 6, 7, 8, 2], 4, 0, 2) == ([1, 5, 6, 2], [1, 1, 1, 1])
    assert apply_runtime_rule([1, 2], 2, 9, 2) == ([1, 2], [1, 1])


def test_corpus_is_tricky():
    joined = "".join(CORPUS)
    assert "" in CORPUS and any(len(t) > 300 for t in CORPUS)
    for probe in ["\t", "\n", "é", "🐱", "日本", "ﬁ", "“", "&amp;", "Σ", "İ", "\u200b", "１"]:
        assert probe in joined, probe


def test_openclip_tokenizer_json_matches_simpletokenizer_at_77(tiny_openclip):
    tok_json = tiny_openclip.tokenizer_json()
    ref = tiny_openclip.tokenizer(CORPUS, context_length=77).tolist()
    ids, masks = runtime_ids(tok_json, CORPUS, 77, 0)
    assert ids == ref
    assert special_ids(tok_json) == (49406, 49407)
    i = CORPUS.index("!")
    assert ids[i][:4] == [49406, 256, 49407, 0] and masks[i][:4] == [1, 1, 1, 0]
    i = CORPUS.index("")
    assert ids[i][:3] == [49406, 49407, 0] and sum(masks[i]) == 2
    long = [k for k, t in enumerate(CORPUS) if len(t) > 300][0]
    assert ids[long][76] == 49407 and sum(masks[long]) == 77


# -- export ------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def tiny_pack(tmp_path_factory, tiny_openclip):
    out = tmp_path_factory.mktemp("packs") / "tiny"
    manifest = ex.export_pack(tiny_openclip, out, quantize="int8", log=_quiet)
    return out, manifest


def test_fp16_variant_is_checked_and_keeps_the_io_types(tmp_path, tiny_openclip):
    import onnxruntime as ort

    out = tmp_path / "tiny16"
    manifest = ex.export_pack(tiny_openclip, out, fp16=True, log=_quiet)
    v = manifest["image"]["variants"]["fp16"]
    assert v["file"] == "image.fp16.onnx" and "image.fp16.onnx" in manifest["files"]
    assert v["checks"]["min_cosine_vs_fp32"] >= 0.999
    sess = ort.InferenceSession(str(out / "image.fp16.onnx"), providers=["CPUExecutionProvider"])
    assert sess.get_inputs()[0].type == "tensor(uint8)"
    assert sess.get_outputs()[0].type == "tensor(float)"


def test_export_writes_a_checked_pack(tiny_pack):
    import onnxruntime as ort

    out, manifest = tiny_pack
    on_disk = json.loads((out / "model.json").read_text())
    assert on_disk == manifest
    assert manifest["schema"] == "clipstream.modelpack.v1"
    assert manifest["image"]["height"] == 32 and manifest["image"]["resize"] == "crop"
    assert manifest["text"]["contextLength"] == 16 and manifest["text"]["padId"] == 0
    assert manifest["image"]["outputs"] == {"embeds": "image_embeds", "patches": "patch_embeds"}
    assert set(manifest["files"]) == {"image.onnx", "text.onnx", "tokenizer.json", "image.int8.onnx"}
    for name, digest in manifest["files"].items():
        assert ex.sha256_file(out / name) == digest
    checks = manifest["provenance"]["checks"]
    for key in ("image_embeds", "patch_embeds", "text_embeds", "token_embeds"):
        assert checks[key]["min_cosine"] >= 0.9999, key
    assert checks["tokenizer"]["identical"] == checks["tokenizer"]["corpus"] == len(CORPUS)
    assert manifest["image"]["variants"]["int8"]["checks"]["min_cosine_vs_fp32_random"] >= 0.99
    # no machine paths in the manifest
    assert str(ROOT) not in json.dumps(manifest) and str(out.parent) not in json.dumps(manifest)
    # no temp folders left beside the pack
    assert [p.name for p in out.parent.iterdir()] == ["tiny"]

    # the contract's I/O, dynamic batch
    sess = ort.InferenceSession(str(out / "image.onnx"), providers=["CPUExecutionProvider"])
    assert [i.name for i in sess.get_inputs()] == ["pixels"]
    assert sess.get_inputs()[0].type == "tensor(uint8)"
    assert sess.get_inputs()[0].shape[1:] == [32, 32, 3]
    emb, patches = sess.run(None, {"pixels": np.zeros((3, 32, 32, 3), np.uint8)})
    assert emb.shape == (3, 16) and patches.shape == (3, 16, 16)
    sess = ort.InferenceSession(str(out / "text.onnx"), providers=["CPUExecutionProvider"])
    assert [i.name for i in sess.get_inputs()] == ["input_ids", "attention_mask"]
    assert [o.name for o in sess.get_outputs()] == ["text_embeds", "token_embeds"]


def test_export_refuses_a_tampered_tokenizer(tmp_path, tiny_openclip, short_corpus):
    doc = json.loads(tiny_openclip.tokenizer_json())
    # drop lower-casing from the normaliser: upper-case text then tokenises differently
    doc["normalizer"]["normalizers"] = [n for n in doc["normalizer"]["normalizers"] if n["type"] != "Lowercase"]
    bad = Wrapped(tiny_openclip, tokenizer_json=lambda: json.dumps(doc))
    out = tmp_path / "pack"
    with pytest.raises(ex.ExportCheckFailed, match="tokenizer"):
        ex.export_pack(bad, out, corpus=short_corpus, log=_quiet)
    assert not out.exists() and list(tmp_path.iterdir()) == []


def test_export_refuses_a_swapped_vocabulary(tmp_path, tiny_openclip, short_corpus):
    doc = json.loads(tiny_openclip.tokenizer_json())
    vocab = doc["model"]["vocab"]
    vocab["a</w>"], vocab["photo</w>"] = vocab["photo</w>"], vocab["a</w>"]
    bad = Wrapped(tiny_openclip, tokenizer_json=lambda: json.dumps(doc))
    with pytest.raises(ex.ExportCheckFailed, match="tokenizer"):
        ex.export_pack(bad, tmp_path / "pack", corpus=short_corpus + ["a photo"], log=_quiet)
    assert list(tmp_path.iterdir()) == []


def test_export_refuses_a_graph_that_differs_from_the_reference(tmp_path, tiny_openclip, short_corpus):
    from tools.model.adapters.open_clip import OpenClipImage

    model = tiny_openclip.model
    # wrong normalisation constants: the graph no longer matches open_clip's preprocessing
    broken = Wrapped(tiny_openclip, image_module=lambda: OpenClipImage(model.visual, (0.5, 0.5, 0.5),
                                                                       (0.5, 0.5, 0.5), True).eval())
    with pytest.raises(ex.ExportCheckFailed, match="image_embeds"):
        ex.export_pack(broken, tmp_path / "pack", corpus=short_corpus, js_check=False, log=_quiet)
    assert list(tmp_path.iterdir()) == []


def test_export_keeps_an_existing_pack_without_force(tmp_path, tiny_openclip):
    out = tmp_path / "pack"
    out.mkdir()
    (out / "keep").write_text("x")
    with pytest.raises(FileExistsError):
        ex.export_pack(tiny_openclip, out, log=_quiet)
    assert (out / "keep").read_text() == "x"


def test_cli_module_source_and_usage_errors(tmp_path, capsys):
    out = tmp_path / "from-module"
    rc = ex.main(["--source", "module:tiny_factory:make", "--checkpoint", "none.pt", "--out", str(out),
                  "--no-js-check", "--corpus", str(ROOT / "tools" / "model" / "corpus.txt")])
    assert rc == 0, capsys.readouterr().err
    assert json.loads((out / "model.json").read_text())["name"] == "tiny-from-module"
    assert "image_embeds min cosine" in capsys.readouterr().out
    assert ex.main(["--source", "nonsense", "--out", str(tmp_path / "x")]) == 2
    assert ex.main(["--source", "open_clip:ViT-B-32", "--out", str(tmp_path / "x")]) == 2  # no weights given
    assert not (tmp_path / "x").exists()


def test_hf_tiny_export(tmp_path):
    from tools.model.adapters import hf_clip

    folder = hf_clip.make_tiny(str(tmp_path / "hf"), merges_limit=2000)
    adapter = ex.load_adapter(f"hf:{folder}")
    out = tmp_path / "pack"
    manifest = ex.export_pack(adapter, out, log=_quiet)
    c = manifest["provenance"]["checks"]
    assert c["tokenizer"]["identical"] == len(CORPUS)
    for key in ("image_embeds", "patch_embeds", "text_embeds", "token_embeds"):
        assert c[key]["min_cosine"] >= 0.9999, key
    # HF pads with the end token
    assert manifest["text"]["padId"] == manifest["text"]["endId"] == 512 + 2000 + 1


# -- fixtures ----------------------------------------------------------------------------------


def test_parity_fixtures(tmp_path, tiny_pack):
    pack, manifest = tiny_pack
    out = tmp_path / "fx"
    fx = write_pack_fixtures(pack, out)
    assert fx["pack"]["name"] == manifest["name"]
    total = sum(f.stat().st_size for f in out.iterdir())
    assert total < 1_000_000
    frames = np.frombuffer((out / "frames.u8").read_bytes(), np.uint8).reshape(4, 32, 32, 3)
    image = json.loads((out / "image.json").read_text())
    assert image["shape"] == [4, 32, 32, 3] and len(image["image_embeds"]) == 4
    import onnxruntime as ort

    sess = ort.InferenceSession(str(pack / "image.onnx"), providers=["CPUExecutionProvider"])
    emb = sess.run(None, {"pixels": frames})[0]
    assert np.allclose(emb, np.asarray(image["image_embeds"]), atol=1e-6)
    tokens = json.loads((out / "tokens.json").read_text())
    assert [t["text"] for t in tokens] == CORPUS
    ids, masks = runtime_ids((pack / "tokenizer.json").read_text(), CORPUS, 16, 0)
    assert [t["ids"] for t in tokens] == ids and [t["mask"] for t in tokens] == masks
    text = json.loads((out / "text.json").read_text())
    for case in text:
        assert len(case["token_embeds"]) == sum(case["mask"])
        assert abs(np.linalg.norm(case["text_embeds"]) - 1) < 1e-5
    # a pack whose files do not match model.json is refused
    bad = tmp_path / "bad"
    bad.mkdir()
    for f in pack.iterdir():
        (bad / f.name).write_bytes(f.read_bytes())
    (bad / "tokenizer.json").write_text("{}")
    with pytest.raises(ValueError, match="sha256"):
        write_pack_fixtures(bad, tmp_path / "fx2")
