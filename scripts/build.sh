#!/usr/bin/env bash
# Configures and builds trainrt into build/ (binaries in build/bin). Extra arguments go to cmake,
# e.g. scripts/build.sh -DCMAKE_PREFIX_PATH=/path/to/libtorch to build against another libtorch.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${TRAINRT_BUILD_DIR:-$root/build}
mkdir -p "$build"
# The configure log stays inside the build folder (ignored), never beside the sources.
cmake -S "$root" -B "$build" -G Ninja "$@" >"$build/configure.log" 2>&1 || { cat "$build/configure.log"; exit 1; }
cmake --build "$build" --parallel "$(nproc)"
