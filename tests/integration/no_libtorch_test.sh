#!/usr/bin/env bash
# The entry point and the tool must start in milliseconds: they never load libtorch, and
# runtime/ and launcher/ never include its headers.
# usage: no_libtorch_test.sh TRAIN TRAINRT SOURCE_DIR
set -euo pipefail
status=0
for bin in "$1" "$2"; do
  if ldd "$bin" | grep -E 'libtorch|libc10|libcuda|libnccl'; then
    echo "FAIL: $bin links the libraries above"; status=1
  fi
done
if grep -rnE '#\s*include\s*[<"](torch|ATen|c10)/' "$3/runtime" "$3/launcher"; then
  echo "FAIL: runtime/ or launcher/ include libtorch headers (above)"; status=1
fi
[ $status -eq 0 ] && echo "ok: train and trainrt are free of libtorch"
exit $status
