#!/usr/bin/env bash
# The GPU path in one run, under 8 minutes on a GPU node (docs/performance.md, "GPU path"):
# embed rate at batch 1/16/64 on the CUDA provider, NVDEC decode + sample rate, end to end with
# four videos at once, and the fp16/fp32 cosine when an fp16 image encoder is at hand.
#
#   bench/gpu-check.sh                 # on a GPU node
#   bench/gpu-check.sh --cpu --quick   # CPU dry run, under a minute (CI runs it as a test)
#   bench/gpu-check.sh --fp16 FILE     # an fp16 image encoder (tools/model export --fp16)
#
# Builds what it needs: node_modules (with onnxruntime-node's CUDA 12 libraries unless --cpu)
# and dist/. One JSON object per line on stdout; errors on stderr, non-zero exit.
set -euo pipefail
cd "$(dirname "$0")/.."

cpu=0
for a in "$@"; do [ "$a" = "--cpu" ] && cpu=1; done

if [ ! -d node_modules ]; then
  npm ci --no-audit --no-fund
fi
cuda_lib=node_modules/onnxruntime-node/bin/napi-v6/linux/x64/libonnxruntime_providers_cuda.so
if [ "$cpu" = 0 ] && [ ! -f "$cuda_lib" ]; then
  echo "gpu-check: fetching onnxruntime-node's CUDA 12 provider libraries" >&2
  (cd node_modules/onnxruntime-node && ONNXRUNTIME_NODE_INSTALL=cuda12 node script/install) >&2
fi
if [ ! -f dist/bench/gpu-check.js ] || [ "${GPU_CHECK_BUILD:-0}" = 1 ]; then
  npm run build >&2
fi
exec timeout --kill-after=10 470 node dist/bench/gpu-check.js "$@"
