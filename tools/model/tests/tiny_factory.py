"""A `module:` adapter factory for the tests: `module:tiny_factory:make` (the tests folder is
on sys.path under pytest). Mirrors how tools/shapes plugs into the exporter."""

from pathlib import Path

CONFIG = Path(__file__).resolve().parents[1] / "configs" / "tiny-openclip.json"


def make(checkpoint):
    from tools.model.adapters import open_clip as oc

    adapter = oc.load(str(CONFIG), random_init=True)
    adapter.name = "tiny-from-module"
    adapter.provenance["checkpoint_arg"] = checkpoint
    return adapter
