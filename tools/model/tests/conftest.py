"""pytest setup for tools/model: run from the repository root with
`tools/.venv/bin/python -m pytest tools/model/tests`."""

import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

TINY_CONFIG = ROOT / "tools" / "model" / "configs" / "tiny-openclip.json"


@pytest.fixture(scope="session")
def tiny_openclip():
    """The tiny random open_clip adapter (built once; tokenizer.json cached in it)."""
    import torch

    torch.set_num_threads(2)
    from tools.model.adapters import open_clip as oc

    return oc.load(str(TINY_CONFIG), random_init=True)


@pytest.fixture(scope="session")
def short_corpus():
    from tools.model.tokenizer import load_corpus

    texts = load_corpus(ROOT / "tools" / "model" / "corpus.txt")
    # a quick but still tricky subset for the refusal tests
    return texts[:12] + [t for t in texts if len(t) > 200][:1]
