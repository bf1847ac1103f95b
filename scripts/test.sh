#!/usr/bin/env bash
# The whole test suite, from a fresh Debian 12 machine or an existing checkout:
#   1. installs what is missing (scripts/setup.sh) and builds (scripts/build.sh);
#   2. runs every test with ctest (unit, multi-process, parity with the Python toolkit);
#   3. rebuilds runtime/ and launcher/ with AddressSanitizer + UBSan and runs their tests again.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
scripts/setup.sh
scripts/build.sh
ctest --test-dir build --output-on-failure --parallel 2

echo "== runtime and launcher under AddressSanitizer + UndefinedBehaviorSanitizer =="
TRAINRT_BUILD_DIR=$root/build-asan scripts/build.sh -DTRAINRT_WITH_TORCH=OFF -DTRAINRT_SANITIZE=ON -DCMAKE_BUILD_TYPE=Debug
ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
  ctest --test-dir build-asan --output-on-failure --parallel 2
