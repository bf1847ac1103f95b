#!/usr/bin/env bash
# Fetches the C++ Jinja engine that renders chat templates: llama.cpp's common/jinja (MIT), from
# the llama-cpp-python source distribution on PyPI (pinned by version and SHA-256; Debian packages
# no C++ Jinja). Only the engine, its small JSON and UTF-8 helpers, the license and llama.cpp's
# collection of real models' chat templates (test data) are kept, under DEST.
#   usage: fetch_jinja.sh DEST [PYTHON]
# Idempotent: nothing is fetched when DEST already holds this version.
set -euo pipefail
dest=$1
python=${2:-python3}
version=0.3.36
sha256=832db0699007f1be95a7e41ef12e88926b02ba836461e36a36372db2760c1a2e
if [ "$(cat "$dest/VERSION" 2>/dev/null)" = "$version" ]; then exit 0; fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
echo "fetch_jinja: llama-cpp-python $version source from PyPI (llama.cpp's Jinja engine)"
"$python" -m pip download -q --no-deps --no-binary :all: -d "$tmp" "llama-cpp-python==$version"
archive="$tmp/llama_cpp_python-$version.tar.gz"
echo "$sha256  $archive" | sha256sum -c --quiet -
top="llama_cpp_python-$version/vendor/llama.cpp"
tar -xzf "$archive" -C "$tmp" "$top/LICENSE" "$top/common/jinja" "$top/common/json.h" "$top/common/json.cpp" \
  "$top/common/unicode.h" "$top/common/unicode.cpp" "$top/models/templates"
rm -rf "$dest"
mkdir -p "$dest"
cp -r "$tmp/$top/LICENSE" "$tmp/$top/common" "$tmp/$top/models/templates" "$dest/"
echo "$version" >"$dest/VERSION"
