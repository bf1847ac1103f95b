#!/usr/bin/env bash
# `train` as SageMaker runs it, with real PyTorch workers: the built-in fine-tuner slot on every
# GPU, torch_distributed jobs, two hosts meeting over TCP, code from sagemaker_submit_directory,
# requirements that fail to install, MPI mode on one host.
# usage: train_distributed_test.sh TRAIN PYTHON   (TRAIN's folder also holds the trainrt tool)
set -euo pipefail
train=$1 python=$2
programs=$(cd "$(dirname "$0")" && pwd)/programs
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
free_port() { "$python" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

make_tree() {  # base current_host hosts-json hyperparameters-json
  mkdir -p "$1/input/config" "$1/input/data/train" "$1/model"
  echo "{\"current_host\":\"$2\",\"hosts\":$3,\"network_interface_name\":\"lo\"}" >"$1/input/config/resourceconfig.json"
  echo '{"train":{"TrainingInputMode":"File"}}' >"$1/input/config/inputdataconfig.json"
  printf '%s' "$4" >"$1/input/config/hyperparameters.json"
}

# 1. No program: the built-in fine-tuner runs once per GPU (TRAINRT_NUM_GPUS=2 here), data parallel.
base=$tmp/builtin
make_tree "$base" algo-1 '["algo-1"]' '{"epochs":"1"}'
mkdir -p "$tmp/builtin-out"
printf '#!/bin/sh\nexec "%s" "%s" "%s"\n' "$python" "$programs/ddp_check.py" "$tmp/builtin-out" >"$tmp/fake-finetune"
chmod +x "$tmp/fake-finetune"
SAGEMAKER_BASE_DIR=$base TRAINRT_NUM_GPUS=2 TRAINRT_FINETUNER=$tmp/fake-finetune TRAINRT_MASTER_PORT=$(free_port) \
  "$train" >"$tmp/builtin.log" 2>&1 || { cat "$tmp/builtin.log"; fail "built-in path"; }
grep -q 'WORLD_SIZE=2 .*SUM=3.0 HOST=algo-1' "$tmp/builtin-out/rank1.txt" || fail "built-in: $(cat "$tmp/builtin-out/rank1.txt")"
grep -q '1 host(s) x 2 process(es) = world size 2, native rendezvous, NCCL' "$tmp/builtin.log" || fail "summary line"
[ -f "$base/output/success" ] || fail "no success file"
[ -f "$base/output/data/trainrt-logs/algo-1/attempt_0/rank_1.log" ] || fail "no per-rank log file"

# 2. Two hosts, torch_distributed, 2 processes per host: world size 4, each rank sees its own host.
port=$(free_port)
hps='{"sagemaker_program":"\"ddp_check.py\"","sagemaker_torch_distributed_enabled":"true","sagemaker_mpi_num_of_processes_per_host":"2","out_dir":"\"'$tmp/multi-out'\""}'
mkdir -p "$tmp/multi-out"
for h in 1 2; do
  make_tree "$tmp/host$h" "algo-$h" '["algo-1","algo-2"]' "$hps"
  mkdir -p "$tmp/host$h/code" && cp "$programs/ddp_check.py" "$tmp/host$h/code/"
done
export TRAINRT_HOST_ADDRESSES=algo-1=127.0.0.1,algo-2=127.0.0.1 TRAINRT_MASTER_PORT=$port TRAINRT_PYTHON=$python
SAGEMAKER_BASE_DIR=$tmp/host2 TRAINRT_NUM_GPUS=0 "$train" >"$tmp/host2.log" 2>&1 & pid2=$!
SAGEMAKER_BASE_DIR=$tmp/host1 TRAINRT_NUM_GPUS=0 "$train" >"$tmp/host1.log" 2>&1 || { cat "$tmp/host1.log" "$tmp/host2.log"; fail "host 1"; }
wait $pid2 || { cat "$tmp/host2.log"; fail "host 2"; }
grep -q 'RANK=3 LOCAL_RANK=1 WORLD_SIZE=4 .*SUM=10.0 HOST=algo-2' "$tmp/multi-out/rank3.txt" || fail "rank 3: $(cat "$tmp/multi-out/rank3.txt")"
grep -q 'HOST=algo-1' "$tmp/multi-out/rank0.txt" || fail "rank 0 host"
grep -q '^\[algo-2:3\] rank 3 ok$' "$tmp/host2.log" || fail "host 2 prefix"
[ -f "$tmp/host1/output/success" ] && [ -f "$tmp/host2/output/success" ] || fail "success files"
# ...and when algo-2 never comes, algo-1 gives up within TRAINRT_RENDEZVOUS_TIMEOUT, naming it in the failure file.
rm -rf "$tmp/host1/output"
set +e; SAGEMAKER_BASE_DIR=$tmp/host1 TRAINRT_NUM_GPUS=0 TRAINRT_MASTER_PORT=$(free_port) TRAINRT_RENDEZVOUS_TIMEOUT=2 \
  "$train" >"$tmp/alone.log" 2>&1; rc=$?; set -e
[ $rc -ne 0 ] && grep -q 'rendezvous timed out after [0-9]* s: 1 host(s) never joined: algo-2' "$tmp/host1/output/failure" ||
  { cat "$tmp/alone.log"; fail "missing host: exit $rc, failure: $(cat "$tmp/host1/output/failure" 2>/dev/null)"; }
unset TRAINRT_HOST_ADDRESSES TRAINRT_MASTER_PORT

# 3. Code from a sagemaker_submit_directory tarball; a requirements.txt that cannot install fails clearly.
base=$tmp/code
make_tree "$base" algo-1 '["algo-1"]' '{"sagemaker_program":"\"train.py\"","sagemaker_submit_directory":"\"file://'$tmp/src.tar.gz'\""}'
mkdir -p "$tmp/src" && echo 'print("from the tarball")' >"$tmp/src/train.py"
tar -czf "$tmp/src.tar.gz" -C "$tmp/src" train.py
SAGEMAKER_BASE_DIR=$base TRAINRT_NUM_GPUS=0 "$train" >"$tmp/code.log" 2>&1 || { cat "$tmp/code.log"; fail "tarball code"; }
grep -q 'from the tarball' "$tmp/code.log" || fail "program from tarball did not run"
rm -rf "$base/code" "$base/output"
echo 'print("never")' >"$tmp/src/train.py"; echo 'this is not a requirement!!' >"$tmp/src/requirements.txt"
tar -czf "$tmp/src.tar.gz" -C "$tmp/src" train.py requirements.txt
set +e; SAGEMAKER_BASE_DIR=$base TRAINRT_NUM_GPUS=0 "$train" >"$tmp/req.log" 2>&1; rc=$?; set -e
[ $rc -eq 1 ] || { cat "$tmp/req.log"; fail "bad requirements: exit $rc"; }
grep -q '^InstallRequirementsError: .* -m pip install -r requirements.txt on host algo-1 exited with code' "$base/output/failure" ||
  fail "failure file: $(cat "$base/output/failure")"
grep -q never "$tmp/req.log" && fail "program ran although its requirements failed"

# 4. `train`'s own settings from the environment: TRAINRT_MAX_RESTARTS restarts the whole group
#    (a rank fails twice, then succeeds), TRAINRT_LOG_PREFIX shapes the line prefixes,
#    TRAINRT_KILL_GRACE_SECONDS bounds a stop that the program ignores, and a bad value is named.
base=$tmp/settings
make_tree "$base" algo-1 '["algo-1"]' '{"sagemaker_program":"\"flaky.py\"","sagemaker_torch_distributed_enabled":"true","sagemaker_mpi_num_of_processes_per_host":"2"}'
mkdir -p "$base/code"
cat >"$base/code/flaky.py" <<'PY'
import os, signal, sys, time
attempt = int(os.environ["TORCHELASTIC_RESTART_COUNT"])
print(f"attempt {attempt}", flush=True)
if os.environ.get("FLAKY") and os.environ["RANK"] == "1" and attempt < 2:
    sys.exit(4)
if os.environ.get("IGNORE_TERM"):
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    open(os.environ["IGNORE_TERM"] + os.environ["RANK"], "w").close()
    time.sleep(600)
PY
FLAKY=1 SAGEMAKER_BASE_DIR=$base TRAINRT_NUM_GPUS=0 TRAINRT_PYTHON=$python TRAINRT_MASTER_PORT=$(free_port) \
  TRAINRT_MAX_RESTARTS=2 TRAINRT_LOG_PREFIX='<{rank}> ' "$train" >"$tmp/settings.log" 2>&1 ||
  { cat "$tmp/settings.log"; fail "TRAINRT_MAX_RESTARTS=2: a job failing twice did not succeed"; }
grep -q '^<1> attempt 2$' "$tmp/settings.log" || { cat "$tmp/settings.log"; fail "third attempt or prefix missing"; }
[ -f "$base/output/success" ] || fail "no success after the restarts"
rm -rf "$base/output"
set +e; FLAKY=1 SAGEMAKER_BASE_DIR=$base TRAINRT_NUM_GPUS=0 TRAINRT_PYTHON=$python TRAINRT_MASTER_PORT=$(free_port) \
  TRAINRT_MAX_RESTARTS=1 "$train" >"$tmp/settings1.log" 2>&1
rc=$?; set -e
[ $rc -eq 4 ] || { cat "$tmp/settings1.log"; fail "TRAINRT_MAX_RESTARTS=1: exit $rc, want the rank's 4"; }
rm -rf "$base/output"
SAGEMAKER_BASE_DIR=$base TRAINRT_NUM_GPUS=0 TRAINRT_PYTHON=$python TRAINRT_MASTER_PORT=$(free_port) \
  TRAINRT_KILL_GRACE_SECONDS=1 IGNORE_TERM=$tmp/ignoring "$train" >"$tmp/grace.log" 2>&1 & pid=$!
for _ in $(seq 300); do [ -f "$tmp/ignoring0" ] && [ -f "$tmp/ignoring1" ] && break; sleep 0.1; done
start=$(date +%s%N); kill -TERM $pid
set +e; wait $pid; rc=$?; set -e
took_ms=$(( ($(date +%s%N) - start) / 1000000 ))
[ $rc -eq 137 ] && [ $took_ms -lt 5000 ] || { cat "$tmp/grace.log"; fail "TRAINRT_KILL_GRACE_SECONDS=1: exit $rc after $took_ms ms"; }
rm -rf "$base/output"
set +e; SAGEMAKER_BASE_DIR=$base TRAINRT_NUM_GPUS=0 TRAINRT_PYTHON=$python TRAINRT_KILL_GRACE_SECONDS=soon "$train" >/dev/null 2>&1
rc=$?; set -e
[ $rc -eq 1 ] && grep -q "TRAINRT_KILL_GRACE_SECONDS='soon': expected a non-negative integer" "$base/output/failure" ||
  fail "bad TRAINRT_KILL_GRACE_SECONDS: exit $rc, failure: $(cat "$base/output/failure" 2>/dev/null)"

# 5. An MPI job on one host: mpirun with the toolkit's options, 2 ranks through `trainrt mpi-rank`,
#    each with torchrun's variables and its host's SM_* (init_process_group works through our store).
if ! command -v mpirun >/dev/null; then
  echo "ok: train with distributed PyTorch workers (MPI case skipped: no mpirun on this machine)"; exit 0
fi
base=$tmp/mpi
mkdir -p "$tmp/mpi-out"
make_tree "$base" algo-1 '["algo-1"]' '{"sagemaker_program":"\"ddp_check.py\"","sagemaker_mpi_enabled":"true","sagemaker_mpi_num_of_processes_per_host":"2","out_dir":"\"'$tmp/mpi-out'\""}'
mkdir -p "$base/code" && cp "$programs/ddp_check.py" "$base/code/"
SAGEMAKER_BASE_DIR=$base TRAINRT_NUM_GPUS=0 TRAINRT_PYTHON=$python TRAINRT_MASTER_PORT=$(free_port) \
  "$train" >"$tmp/mpi.log" 2>&1 || { cat "$tmp/mpi.log"; fail "MPI job"; }
grep -q 'RANK=1 LOCAL_RANK=1 WORLD_SIZE=2 LOCAL_WORLD_SIZE=2 .*SUM=3.0 HOST=algo-1' "$tmp/mpi-out/rank1.txt" ||
  fail "MPI rank 1: $(cat "$tmp/mpi-out/rank1.txt")"
grep -q "\[1,1\]<stdout>:rank 1 ok" "$tmp/mpi.log" || { cat "$tmp/mpi.log"; fail "mpirun --tag-output lines"; }
[ -f "$base/output/success" ] || fail "MPI success file"
# ...and a failing rank fails the job with mpirun's verdict.
rm -rf "$base/output"
set +e; FAIL_RANK=1 SAGEMAKER_BASE_DIR=$base TRAINRT_NUM_GPUS=0 TRAINRT_PYTHON=$python TRAINRT_MASTER_PORT=$(free_port) \
  "$train" >"$tmp/mpifail.log" 2>&1; rc=$?; set -e
[ $rc -ne 0 ] || fail "failing MPI rank: exit 0"
grep -q '^mpirun on host algo-1 exited with code' "$base/output/failure" || fail "MPI failure file: $(cat "$base/output/failure")"
[ ! -e "$base/output/success" ] || fail "success after a failed MPI job"
# ...and a SIGTERM (a spot interruption) reaches every rank as SIGTERM and leaves it the time it
# needs (mpirun alone would SIGKILL the ranks 2 s later): exit 0, neither success nor failure.
base=$tmp/mpistop
mkdir -p "$tmp/mpistop-out"
make_tree "$base" algo-1 '["algo-1"]' '{"sagemaker_program":"\"slow_stop.py\"","sagemaker_mpi_enabled":"true","sagemaker_mpi_num_of_processes_per_host":"2","out_dir":"\"'$tmp/mpistop-out'\""}'
mkdir -p "$base/code" && cp "$programs/slow_stop.py" "$base/code/"
SAGEMAKER_BASE_DIR=$base TRAINRT_NUM_GPUS=0 TRAINRT_PYTHON=$python TRAINRT_MASTER_PORT=$(free_port) \
  "$train" >"$tmp/mpistop.log" 2>&1 &
pid=$!
for _ in $(seq 300); do
  [ -f "$tmp/mpistop-out/rank0.started" ] && [ -f "$tmp/mpistop-out/rank1.started" ] && break
  sleep 0.1
done
kill -TERM $pid
set +e; wait $pid; rc=$?; set -e
[ $rc -eq 0 ] || { cat "$tmp/mpistop.log"; fail "stopped MPI job: exit $rc"; }
for r in 0 1; do
  [ "$(cat "$tmp/mpistop-out/rank$r.stopped" 2>/dev/null)" = SIGTERM ] || { cat "$tmp/mpistop.log"; fail "MPI rank $r did not stop cleanly"; }
done
[ ! -e "$base/output/success" ] && [ ! -e "$base/output/failure" ] || fail "a stopped MPI job wrote $(ls "$base/output")"
echo "ok: train with distributed PyTorch workers"
