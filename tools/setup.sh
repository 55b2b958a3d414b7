#!/usr/bin/env bash
# Create tools/.venv with the pinned tool-time dependencies (tools/requirements.txt).
#
#   bash tools/setup.sh            # python3 by default; PYTHON=python3.11 bash tools/setup.sh
#
# Note: torch from PyPI's default index is the CUDA build; it pulls the NVIDIA CUDA libraries
# and triton: about 3 GB to download and 7 GB installed. The tools run on the CPU.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
venv="$here/.venv"
python="${PYTHON:-python3}"
if [ ! -x "$venv/bin/python" ]; then
  "$python" -m venv "$venv"
fi
"$venv/bin/python" -m pip install --upgrade --quiet pip
"$venv/bin/python" -m pip install --requirement "$here/requirements.txt"
"$venv/bin/python" -c 'import torch, open_clip, transformers, onnx, onnxruntime, tokenizers; print("tools/.venv ready: torch", torch.__version__, "onnxruntime", onnxruntime.__version__)'
