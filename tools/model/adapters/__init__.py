"""Export adapters for the model families tools/model supports (see tools/model/adapter.py)."""
