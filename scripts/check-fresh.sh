#!/usr/bin/env bash
# Proves the fresh-machine path: clones this repository (its committed HEAD) into a temporary
# folder and runs the README's two quick-start commands there.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
git clone --quiet "$root" "$tmp/trainrt"
cd "$tmp/trainrt"
echo "== scripts/demo.sh (in $tmp/trainrt) =="
scripts/demo.sh
echo "== scripts/test.sh =="
scripts/test.sh
echo "check-fresh: both README commands passed on a clean clone"
