#!/usr/bin/env bash
# A worker killed by the kernel's OOM killer: `train` runs in a memory cgroup with a small limit,
# its program allocates past it, and the failure file says the rank was likely out of memory, with
# its peak resident memory.
# Needs root and a writable memory cgroup (v1 or v2); exits 77 (skipped) without them.
# usage: oom_test.sh TRAIN PYTHON
set -euo pipefail
train=$1 python=$2
[ "$(id -u)" = 0 ] || { echo "skipped: needs root"; exit 77; }
cg=""
if [ -w /sys/fs/cgroup/memory ]; then  # cgroup v1
  cg=/sys/fs/cgroup/memory/trainrt-oom-$$
  mkdir "$cg" 2>/dev/null && echo 96M >"$cg/memory.limit_in_bytes" && echo 0 >"$cg/memory.swappiness" 2>/dev/null || true
elif [ -f /sys/fs/cgroup/cgroup.controllers ] && grep -qw memory /sys/fs/cgroup/cgroup.controllers; then  # v2
  cg=/sys/fs/cgroup/trainrt-oom-$$
  mkdir "$cg" 2>/dev/null && echo 96M >"$cg/memory.max" && echo 0 >"$cg/memory.swap.max" 2>/dev/null || true
fi
[ -n "$cg" ] && [ -d "$cg" ] || { echo "skipped: no writable memory cgroup"; exit 77; }
tmp=$(mktemp -d)
trap 'rmdir "$cg" 2>/dev/null; rm -rf "$tmp"' EXIT
base=$tmp/opt/ml
mkdir -p "$base/input/config" "$base/code"
echo '{"current_host":"algo-1","hosts":["algo-1"]}' >"$base/input/config/resourceconfig.json"
echo '{}' >"$base/input/config/inputdataconfig.json"
echo '{"sagemaker_program":"\"hog.py\""}' >"$base/input/config/hyperparameters.json"
printf 'blocks = []\nwhile True:\n    blocks.append(bytearray(16 * 1024 * 1024))\n' >"$base/code/hog.py"
set +e
sh -c "echo \$\$ > '$cg/cgroup.procs' && exec env SAGEMAKER_BASE_DIR='$base' TRAINRT_NUM_GPUS=0 TRAINRT_PYTHON='$python' '$train'" \
  >"$tmp/log" 2>&1
rc=$?
set -e
[ $rc -eq 137 ] || { cat "$tmp/log"; echo "FAIL: exit $rc, want 137 (SIGKILL)"; exit 1; }
grep -q 'was killed by signal 9 (SIGKILL), likely out of memory (the container.s OOM killer fired), peak RSS [0-9.]* MiB' \
  "$base/output/failure" || { echo "FAIL: failure file: $(cat "$base/output/failure")"; exit 1; }
echo "ok: an OOM-killed worker is reported as likely out of memory"
