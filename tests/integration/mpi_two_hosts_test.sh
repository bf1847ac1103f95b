#!/usr/bin/env bash
# MPI mode across two hosts, for real: two network namespaces (algo-1 at 10.223.0.1, algo-2 at
# 10.223.0.2, each with its own eth0 and its own sshd on port 22), one `train` in each. The master
# starts sshd, passes its pre-flight (port 22 answers as sshd on algo-2), runs mpirun over ssh;
# each rank gets its own host's SM_CURRENT_HOST; the worker host waits for and reports the
# master's verdict, for a success, a failure and a stop (SIGTERM to both hosts, as a spot
# interruption: every rank gets SIGTERM and the time it needs; both exit 0 without success).
# Needs root, iproute2, openssh-server and OpenMPI (scripts/setup.sh installs them); exits 77
# (skipped) without them.
# usage: mpi_two_hosts_test.sh TRAIN PYTHON
set -euo pipefail
train=$1 python=$2
programs=$(cd "$(dirname "$0")" && pwd)/programs
if [ "$(id -u)" != 0 ] || ! command -v ip >/dev/null || [ ! -x /usr/sbin/sshd ] || ! command -v mpirun >/dev/null; then
  echo "skipped: needs root, ip, /usr/sbin/sshd and mpirun"; exit 77
fi
tmp=$(mktemp -d)
ns1=trt-a1-$$ ns2=trt-a2-$$
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  ip netns del "$ns1" 2>/dev/null || true
  ip netns del "$ns2" 2>/dev/null || true
  rm -rf "$tmp"
}
trap cleanup EXIT
fail() { echo "FAIL: $*"; exit 1; }

ip netns add "$ns1" || { echo "skipped: cannot create network namespaces"; exit 77; }
ip netns add "$ns2"
ip link add "v$$a" type veth peer name "v$$b"
ip link set "v$$a" netns "$ns1"
ip link set "v$$b" netns "$ns2"
for i in 1 2; do
  ns=$([ $i = 1 ] && echo "$ns1" || echo "$ns2")
  dev=$([ $i = 1 ] && echo "v$$a" || echo "v$$b")
  ip netns exec "$ns" ip link set "$dev" name eth0
  ip netns exec "$ns" ip addr add "10.223.0.$i/24" dev eth0
  ip netns exec "$ns" ip link set eth0 up
  ip netns exec "$ns" ip link set lo up
done

ssh-keygen -q -t ed25519 -N '' -f "$tmp/key"
ssh-keygen -q -t ed25519 -N '' -f "$tmp/hostkey"
mkdir -p "$tmp/out"
hps='{"sagemaker_program":"\"ddp_check.py\"","sagemaker_mpi_enabled":"true","out_dir":"\"'$tmp/out'\""}'
for i in 1 2; do
  base=$tmp/host$i/opt/ml
  mkdir -p "$base/input/config" "$base/code" "$base/model"
  echo "{\"current_host\":\"algo-$i\",\"hosts\":[\"algo-1\",\"algo-2\"],\"network_interface_name\":\"eth0\"}" \
    >"$base/input/config/resourceconfig.json"
  echo '{}' >"$base/input/config/inputdataconfig.json"
  printf '%s' "$hps" >"$base/input/config/hyperparameters.json"
  cp "$programs/ddp_check.py" "$base/code/"
  # Each host's sshd gives ssh sessions (mpirun's remote daemons) that host's /opt/ml.
  cat >"$tmp/sshd_config$i" <<CFG
Port 22
ListenAddress 10.223.0.$i
HostKey $tmp/hostkey
AuthorizedKeysFile $tmp/key.pub
PermitRootLogin yes
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
StrictModes no
PidFile $tmp/sshd$i.pid
SetEnv SAGEMAKER_BASE_DIR=$base
CFG
done

port=$("$python" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
run_host() {  # i extra-env... : runs host i's train in its namespace (replacing the shell if exec_it=exec)
  local i=$1; shift
  local ns; ns=$([ "$i" = 1 ] && echo "$ns1" || echo "$ns2")
  ${exec_it:-} ip netns exec "$ns" env SAGEMAKER_BASE_DIR="$tmp/host$i/opt/ml" TRAINRT_NUM_GPUS=0 TRAINRT_PYTHON="$python" \
    TRAINRT_HOST_ADDRESSES=algo-1=10.223.0.1,algo-2=10.223.0.2 TRAINRT_MASTER_PORT="$port" \
    TRAINRT_SSHD_ARGS="-f $tmp/sshd_config$i" TRAINRT_RENDEZVOUS_TIMEOUT=60 GLOO_SOCKET_IFNAME=eth0 \
    OMPI_MCA_plm_rsh_args="-i $tmp/key -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR" \
    "$@" "$train"
}

# 1. A job that succeeds: two ranks, one per host, each with its own host's contract.
run_host 2 >"$tmp/w.log" 2>&1 & pids+=($!)
run_host 1 >"$tmp/m.log" 2>&1 || { cat "$tmp/m.log" "$tmp/w.log"; fail "master exited $?"; }
wait "${pids[-1]}" || { cat "$tmp/w.log"; fail "worker host exited non-zero after a successful job"; }
grep -q 'RANK=1 LOCAL_RANK=0 WORLD_SIZE=2 .*SUM=3.0 HOST=algo-2' "$tmp/out/rank1.txt" || fail "rank 1: $(cat "$tmp/out/rank1.txt")"
grep -q 'HOST=algo-1' "$tmp/out/rank0.txt" || fail "rank 0: $(cat "$tmp/out/rank0.txt")"
[ -f "$tmp/host1/opt/ml/output/success" ] && [ -f "$tmp/host2/opt/ml/output/success" ] || fail "success files"

# 2. A rank fails: the worker host exits non-zero too, with the master's verdict (not a blind success).
rm -rf "$tmp"/host*/opt/ml/output
port=$("$python" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
run_host 2 FAIL_RANK=0 >"$tmp/w2.log" 2>&1 & pids+=($!)
set +e
run_host 1 FAIL_RANK=0 >"$tmp/m2.log" 2>&1; rc1=$?
wait "${pids[-1]}"; rc2=$?
set -e
[ $rc1 -ne 0 ] && [ $rc1 = $rc2 ] || { cat "$tmp/m2.log" "$tmp/w2.log"; fail "exit codes $rc1 / $rc2"; }
for i in 1 2; do
  grep -q '^mpirun on host algo-1 exited with code' "$tmp/host$i/opt/ml/output/failure" ||
    fail "host $i failure file: $(cat "$tmp/host$i/opt/ml/output/failure" 2>/dev/null)"
done

# 3. The worker host never comes up: the pre-flight names it and what failed, within its bound.
rm -rf "$tmp"/host*/opt/ml/output
set +e
run_host 1 TRAINRT_RENDEZVOUS_TIMEOUT=3 >"$tmp/m3.log" 2>&1; rc=$?
set -e
[ $rc -ne 0 ] || fail "pre-flight passed without a worker host"
grep -q 'MPI pre-flight failed after 3 s: 10.223.0.2: port 22 refuses connections' "$tmp/host1/opt/ml/output/failure" ||
  fail "pre-flight failure file: $(cat "$tmp/host1/opt/ml/output/failure")"

# 4. SageMaker stops the job (SIGTERM to every container): the ranks on both hosts get SIGTERM and
#    the time they need (slow_stop.py takes 4 s; mpirun alone would SIGKILL them after 2 s); the
#    worker host holds its SIGTERM until the master's verdict; both exit 0, neither success nor failure.
rm -rf "$tmp"/host*/opt/ml/output "$tmp/out"/*
for i in 1 2; do
  printf '%s' '{"sagemaker_program":"\"slow_stop.py\"","sagemaker_mpi_enabled":"true","out_dir":"\"'$tmp/out'\""}' \
    >"$tmp/host$i/opt/ml/input/config/hyperparameters.json"
  cp "$programs/slow_stop.py" "$tmp/host$i/opt/ml/code/"
done
port=$("$python" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
exec_it=exec run_host 2 >"$tmp/w4.log" 2>&1 & worker=$!; pids+=($worker)  # $! is train itself
exec_it=exec run_host 1 >"$tmp/m4.log" 2>&1 & master=$!; pids+=($master)
for _ in $(seq 300); do
  [ -f "$tmp/out/rank0.started" ] && [ -f "$tmp/out/rank1.started" ] && break
  sleep 0.1
done
kill -TERM "$worker" "$master"
set +e
wait "$master"; rc1=$?
wait "$worker"; rc2=$?
set -e
[ $rc1 = 0 ] && [ $rc2 = 0 ] || { cat "$tmp/m4.log" "$tmp/w4.log"; fail "stopped job: exit codes $rc1 / $rc2"; }
for r in 0 1; do
  [ "$(cat "$tmp/out/rank$r.stopped" 2>/dev/null)" = SIGTERM ] || { cat "$tmp/m4.log" "$tmp/w4.log"; fail "rank $r did not stop cleanly"; }
done
for i in 1 2; do
  [ ! -e "$tmp/host$i/opt/ml/output/success" ] && [ ! -e "$tmp/host$i/opt/ml/output/failure" ] ||
    fail "host $i wrote $(ls "$tmp/host$i/opt/ml/output") after a stop"
done
grep -q "the MPI master stops the ranks" "$tmp/w4.log" || { cat "$tmp/w4.log"; fail "worker host's stop line"; }
for r in 0 1; do  # what the ranks started went with them (on algo-2 no launcher adopts orphans)
  ! kill -0 "$(cat "$tmp/out/rank$r.child")" 2>/dev/null || fail "rank $r's child outlived the job"
done
echo "ok: MPI job across two hosts (network namespaces)"
