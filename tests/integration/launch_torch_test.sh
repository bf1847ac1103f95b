#!/usr/bin/env bash
# `trainrt launch` with real, unmodified PyTorch programs: they rendezvous through the launcher's
# own store (TORCHELASTIC_USE_AGENT_STORE=True), see torchrun's variables, and failures, restarts,
# multi-host meetings and rendezvous timeouts behave as promised.
# usage: launch_torch_test.sh TRAINRT PYTHON
set -euo pipefail
trainrt=$1 python=$2
prog=$(cd "$(dirname "$0")" && pwd)/programs/ddp_check.py
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
free_port() { "$python" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# 1. Two workers on one host, Gloo all_reduce through the launcher's store.
mkdir "$tmp/one"
"$trainrt" launch --nproc-per-node 2 --master-port 0 --host testhost -- "$python" "$prog" "$tmp/one" >"$tmp/one.log" 2>&1 ||
  { cat "$tmp/one.log"; fail "2-worker launch"; }
grep -q 'RANK=1 LOCAL_RANK=1 WORLD_SIZE=2 LOCAL_WORLD_SIZE=2 GROUP_RANK=0 GROUP_WORLD_SIZE=1 ROLE_NAME=default TORCHELASTIC_RESTART_COUNT=0 TORCHELASTIC_USE_AGENT_STORE=True SUM=3.0' "$tmp/one/rank1.txt" ||
  fail "rank 1 saw: $(cat "$tmp/one/rank1.txt")"
grep -q '^\[testhost:0\] rank 0 ok$' "$tmp/one.log" || { cat "$tmp/one.log"; fail "no [host:rank] prefix"; }

# 2. A failing rank: its exit code is the launcher's, the others are stopped, the reason names it.
mkdir "$tmp/fail"
set +e
FAIL_RANK=1 FAIL_CODE=7 "$trainrt" launch --nproc-per-node 2 --master-port 0 --host testhost -- \
  "$python" "$prog" "$tmp/fail" >"$tmp/fail.log" 2>&1
rc=$?
set -e
[ $rc -eq 7 ] || { cat "$tmp/fail.log"; fail "failing rank: exit $rc, want 7"; }
grep -q 'rank 1 (local rank 1) on host testhost exited with code 7' "$tmp/fail.log" || fail "reason: $(tail -5 "$tmp/fail.log")"
grep -q 'rank 1 failing on purpose' "$tmp/fail.log" || fail "stderr tail missing from the reason"

# 3. --max-restarts: rank 0 fails in attempt 0 only; attempt 1 succeeds.
mkdir "$tmp/restart"
FAIL_RANK=0 FAIL_ATTEMPTS=1 "$trainrt" launch --nproc-per-node 2 --master-port 0 --max-restarts 1 -- \
  "$python" "$prog" "$tmp/restart" >"$tmp/restart.log" 2>&1 || { cat "$tmp/restart.log"; fail "restart"; }
grep -q 'TORCHELASTIC_RESTART_COUNT=1' "$tmp/restart/rank0.txt" || fail "restart count: $(cat "$tmp/restart/rank0.txt")"

# 4. Two hosts (two launchers) meet over TCP: world size 4.
mkdir "$tmp/multi"
port=$(free_port)
"$trainrt" launch --nnodes 2 --node-rank 1 --nproc-per-node 2 --master-port "$port" --host hostb -- \
  "$python" "$prog" "$tmp/multi" >"$tmp/multi1.log" 2>&1 & pid1=$!
"$trainrt" launch --nnodes 2 --node-rank 0 --nproc-per-node 2 --master-port "$port" --host hosta -- \
  "$python" "$prog" "$tmp/multi" >"$tmp/multi0.log" 2>&1 || { cat "$tmp/multi0.log" "$tmp/multi1.log"; fail "node 0"; }
wait $pid1 || { cat "$tmp/multi1.log"; fail "node 1"; }
grep -q 'RANK=3 LOCAL_RANK=1 WORLD_SIZE=4 LOCAL_WORLD_SIZE=2 GROUP_RANK=1 GROUP_WORLD_SIZE=2.*SUM=10.0' "$tmp/multi/rank3.txt" ||
  fail "rank 3 saw: $(cat "$tmp/multi/rank3.txt")"

# 5. A failure on one host stops the other host's workers and both report it.
mkdir "$tmp/multifail"
port=$(free_port)
FAIL_RANK=3 FAIL_CODE=5 "$trainrt" launch --nnodes 2 --node-rank 1 --nproc-per-node 2 --master-port "$port" --host hostb -- \
  "$python" "$prog" "$tmp/multifail" >"$tmp/mf1.log" 2>&1 & pid1=$!
set +e
FAIL_RANK=3 FAIL_CODE=5 "$trainrt" launch --nnodes 2 --node-rank 0 --nproc-per-node 2 --master-port "$port" --host hosta -- \
  "$python" "$prog" "$tmp/multifail" >"$tmp/mf0.log" 2>&1
rc0=$?
wait $pid1; rc1=$?
set -e
[ $rc0 -eq 5 ] && [ $rc1 -eq 5 ] || { cat "$tmp/mf0.log" "$tmp/mf1.log"; fail "multi-host failure: exits $rc0 $rc1"; }
grep -q 'rank 3 (local rank 1) on host hostb exited with code 5' "$tmp/mf0.log" || fail "master does not name the failing host"

# 6. A host that never comes: bounded rendezvous naming it.
set +e
"$trainrt" launch --nnodes 2 --node-rank 0 --master-port "$(free_port)" --rdzv-timeout 2 -- /bin/true >"$tmp/rdzv.log" 2>&1
rc=$?
set -e
[ $rc -ne 0 ] && grep -q '1 host(s) never joined: node 1' "$tmp/rdzv.log" || { cat "$tmp/rdzv.log"; fail "rendezvous timeout"; }

# 7. A failure, and a host that never reports (frozen, as a host that vanished): the others still
#    exit, with the failure, within the longer of --failure-stop and --kill-grace + 20 s, naming
#    the silent host.
port=$(free_port)
"$trainrt" launch --nnodes 2 --node-rank 1 --master-port "$port" --host hostb -- \
  sh -c "touch $tmp/hostb.started; exec sleep 60" >"$tmp/frozen1.log" 2>&1 & pid1=$!
"$trainrt" launch --nnodes 2 --node-rank 0 --master-port "$port" --host hosta --failure-stop 1 --kill-grace 1 -- \
  sh -c "sleep 2; exit 7" >"$tmp/frozen0.log" 2>&1 & pid0=$!
for _ in $(seq 100); do [ -f "$tmp/hostb.started" ] && break; sleep 0.1; done
kill -STOP $pid1
start=$(date +%s)
set +e; wait $pid0; rc0=$?; set -e
took=$(( $(date +%s) - start ))
kill -KILL $pid1; wait $pid1 2>/dev/null || true
[ $rc0 -eq 7 ] || { cat "$tmp/frozen0.log"; fail "with a silent host: exit $rc0"; }
grep -q '1 host(s) did not report within 21 s: node 1' "$tmp/frozen0.log" || { cat "$tmp/frozen0.log"; fail "silent host not named"; }
[ $took -lt 40 ] || fail "took $took s to give up on a silent host"
echo "ok: trainrt launch with PyTorch workers"
