"""clipstream model tooling: export CLIP-style dual encoders into model packs.

See tools/README.md ("Exporting a checkpoint") and docs/model-pack.md.
"""

__version__ = "0.1.0"
