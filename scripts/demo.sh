#!/usr/bin/env bash
# The embedded default, end to end: render a sample shapes-world video (TypeScript + ffmpeg, no
# Python), then `clipstream run` it with the bundled model, a few queries and a caption bank.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
[[ -f dist/src/cli/main.js ]] || npm run --silent build
out="${DEMO_DIR:-.cache/demo}"
mkdir -p "$out"
if [[ ! -f "$out/sample.mp4" ]]; then
  node dist/eval/shapes/render-cli.js --demo --out "$out/sample.mp4" --truth "$out/sample.truth.json" >&2
fi
echo "demo: ground truth: red circle 0-4 s | blue square + yellow triangle 4-9 s | nothing 9-12 s |" \
  "green triangle 12-16 s | yellow triangle + red circle 16-20 s | blue circle 20-24 s" >&2
exec node bin/clipstream.js run "$out/sample.mp4" \
  --query "a red circle" \
  --query "a blue square and a yellow triangle" \
  --query "a yellow square and a blue triangle" \
  --query "a green triangle" \
  --query "a green circle" \
  --captions-file eval/shapes/captions.txt \
  --fps 2 --format "${DEMO_FORMAT:-table}" "$@"
