#!/usr/bin/env bash
# Installs everything trainrt needs on Debian 12, idempotently:
#   - Debian packages (compilers, OpenMPI, CLI11, nlohmann_json, GoogleTest, utf8proc, PCRE2, libarchive, gloo);
#   - a project-local virtual environment (.venv) holding the pinned torch wheel (libtorch) and the
#     Python peers that the parity tests run;
#   - llama.cpp's C++ Jinja engine for chat templates (scripts/fetch_jinja.sh, into .third_party/).
# Re-running it is cheap: it installs only what is missing. TRAINRT_VENV moves the venv.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
venv=${TRAINRT_VENV:-$root/.venv}

debian_packages=(
  build-essential cmake ninja-build ccache pkg-config git
  python3 python3-venv python3-pip python3-dev
  openmpi-bin libopenmpi-dev openssh-client openssh-server iproute2
  libcli11-dev nlohmann-json3-dev libgtest-dev libgmock-dev
  libutf8proc-dev libarchive-dev libgloo-dev libcurl4-openssl-dev libxxhash-dev libpcre2-dev
)

missing=()
for p in "${debian_packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing Debian packages: ${missing[*]}"
  sudo_cmd=""; [ "$(id -u)" -eq 0 ] || sudo_cmd=sudo
  $sudo_cmd apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

if [ ! -x "$venv/bin/python" ]; then
  echo "setup: creating $venv"
  python3 -m venv "$venv"
fi
stamp="$venv/.trainrt-requirements"
want=$(cat "$root"/requirements/*.txt | sha256sum | cut -d' ' -f1)
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  echo "setup: installing Python requirements into $venv (pip caches downloads)"
  "$venv/bin/python" -m pip install -q --upgrade pip
  "$venv/bin/python" -m pip install -q -r "$root/requirements/torch.txt" -r "$root/requirements/test.txt"
  "$venv/bin/python" -m pip install -q --no-deps -r "$root/requirements/nodeps.txt"
  echo "$want" >"$stamp"
fi
TRAINRT_JINJA_DIR=${TRAINRT_JINJA_DIR:-$root/.third_party/llama-jinja}
"$root/scripts/fetch_jinja.sh" "$TRAINRT_JINJA_DIR" "$venv/bin/python"
echo "setup: ok ($("$venv/bin/python" -c 'import torch; print("torch", torch.__version__)'))"
