"""Weightless graphs (tools.model.weightless) and --distinct-initializers, on the tiny random
open_clip model; a few seconds.

Run from the repository root: tools/.venv/bin/python -m pytest tools/model/tests/test_weightless.py
"""

import json

import numpy as np
import onnx
import pytest

from tools.model import export as ex
from tools.model import weightless as wl


def _quiet(_msg):
    pass


@pytest.fixture(scope="module")
def distinct_pack(tmp_path_factory, tiny_openclip):
    out = tmp_path_factory.mktemp("wl") / "tiny"
    ex.export_pack(tiny_openclip, out, quantize="int8", distinct_initializers=True, js_check=False, log=_quiet)
    return out


def _params(path):
    m = onnx.load(str(path), load_external_data=False)
    inputs = [v.name for v in m.graph.input]
    return m, inputs


def test_distinct_initializers_keep_every_parameter(distinct_pack, tiny_openclip):
    import torch

    m = onnx.load(str(distinct_pack / "image.onnx"), load_external_data=False)
    assert [v.name for v in m.graph.input] == ["pixels"]
    # random init: every LayerNorm gain is 1; merged, every LayerNormalization would read one
    gains = {n.input[1] for n in m.graph.node if n.op_type == "LayerNormalization"}
    lns = sum(1 for x in tiny_openclip.model.visual.modules() if isinstance(x, torch.nn.LayerNorm))
    assert len(gains) == lns > 1
    manifest = json.loads((distinct_pack / "model.json").read_text())
    assert manifest["provenance"]["distinctInitializers"] is True


def test_weightless_graphs_describe_the_export(tmp_path, distinct_pack):
    out = tmp_path / "wl"
    w = wl.convert(distinct_pack, out, threshold=64, reference=True, log=_quiet)
    assert set(w["graphs"]) == {"image.onnx", "text.onnx", "image.int8.onnx", "reference.onnx"}
    for name in ("image.onnx", "text.onnx", "image.int8.onnx"):
        m = onnx.load(str(out / name), load_external_data=False)
        ext = {t.name for t in m.graph.initializer if t.data_location == onnx.TensorProto.EXTERNAL}
        assert ext == {t["name"] for t in w["graphs"][name]["tensors"]}
        assert not (out / f"{name}.data").exists()
    kinds = {t["init"]["kind"] for t in w["graphs"]["image.int8.onnx"]["tensors"]}
    assert {"quantized", "scale", "same"} <= kinds
    # the causal mask (-inf) of the text tower stays in the graph
    m = onnx.load(str(out / "text.onnx"), load_external_data=False)
    inline = [onnx.numpy_helper.to_array(t) for t in m.graph.initializer if t.data_location != onnx.TensorProto.EXTERNAL]
    inline += [onnx.numpy_helper.to_array(a.t) for n in m.graph.node if n.op_type == "Constant" for a in n.attribute
               if a.name == "value"]
    assert any(a.dtype == np.float32 and np.isinf(a).any() for a in inline)


def test_weightless_refuses_an_int8_tensor_it_cannot_derive(tmp_path, distinct_pack):
    src = tmp_path / "pack"
    import shutil

    shutil.copytree(distinct_pack, src)
    m = onnx.load(str(src / "image.int8.onnx"))
    t = next(t for t in m.graph.initializer if t.name.endswith("_quantized"))
    a = onnx.numpy_helper.to_array(t).copy()
    a.flat[0] = -a.flat[0] if a.flat[0] != 0 else 5
    t.CopyFrom(onnx.numpy_helper.from_array(a, t.name))
    onnx.save(m, str(src / "image.int8.onnx"))
    with pytest.raises(wl.WeightlessError, match="not the per-channel symmetric int8"):
        wl.convert(src, tmp_path / "out", threshold=64, log=_quiet)
    assert not (tmp_path / "out").exists()
