#!/usr/bin/env bash
# `train` end to end on generated /opt/ml trees: a user program gets the contract (SM_* variables,
# exact argv, code dir as cwd) and its verdict becomes the job's (exit code, success/failure files).
# usage: train_entry_point_test.sh TRAIN
set -euo pipefail
train=$1
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

make_tree() {  # base hyperparameters-json
  mkdir -p "$1/input/config" "$1/input/data/train" "$1/code" "$1/model"
  echo '{"current_host":"algo-1","hosts":["algo-1"],"current_instance_type":"local"}' >"$1/input/config/resourceconfig.json"
  echo '{"train":{"TrainingInputMode":"File"}}' >"$1/input/config/inputdataconfig.json"
  printf '%s' "$2" >"$1/input/config/hyperparameters.json"
}

# 1. A succeeding program sees the contract and its argv byte for byte.
base=$tmp/ok
make_tree "$base" '{"sagemaker_program":"\"check.sh\"","msg":"\"hello world $HOME *\"","epochs":"2"}'
cat >"$base/code/check.sh" <<'SH'
[ "$PWD" = "$SM_MODULE_DIR_EXPECTED" ] || { echo "cwd $PWD"; exit 10; }
[ "$#" -eq 4 ] || { echo "argc $#: $*"; exit 11; }
[ "$1 $2" = "--epochs 2" ] || exit 12
[ "$3" = "--msg" ] && [ "$4" = 'hello world $HOME *' ] || { echo "argv: $4"; exit 13; }
[ "$SM_CHANNEL_TRAIN" = "$SAGEMAKER_BASE_DIR/input/data/train" ] || exit 14
[ "$SM_HP_EPOCHS" = 2 ] && [ "$SM_CURRENT_HOST" = algo-1 ] && [ "$SM_NUM_GPUS" = 0 ] || exit 15
echo weights >"$SM_MODEL_DIR/model.bin"
SH
SM_MODULE_DIR_EXPECTED=$base/code SAGEMAKER_BASE_DIR=$base TRAINRT_NUM_GPUS=0 "$train" train >"$tmp/ok.log" 2>&1 ||
  { cat "$tmp/ok.log"; fail "succeeding program: train exited $?"; }
[ -f "$base/output/success" ] || fail "no output/success"
[ ! -e "$base/output/failure" ] || fail "failure file after success"
[ "$(cat "$base/model/model.bin")" = weights ] || fail "model not written"

# 2. A failing program: its exit code is the job's, and the failure file says who and how.
base=$tmp/fail
make_tree "$base" '{"sagemaker_program":"\"fail.sh\""}'
printf 'echo "CUDA out of memory" >&2\nexit 3\n' >"$base/code/fail.sh"
set +e; SAGEMAKER_BASE_DIR=$base TRAINRT_NUM_GPUS=0 "$train" >"$tmp/fail.log" 2>&1; rc=$?; set -e
[ $rc -eq 3 ] || fail "failing program: exit $rc, want 3"
grep -q 'on host algo-1 exited with code 3' "$base/output/failure" || fail "failure file: $(cat "$base/output/failure")"
[ ! -e "$base/output/success" ] || fail "success file after failure"

# 3. A program that wrote its own failure reason keeps it.
base=$tmp/own
make_tree "$base" '{"sagemaker_program":"\"own.sh\""}'
printf 'echo "my reason" > "$SAGEMAKER_BASE_DIR/output/failure"\nexit 4\n' >"$base/code/own.sh"
mkdir -p "$base/output"
set +e; SAGEMAKER_BASE_DIR=$base TRAINRT_NUM_GPUS=0 "$train" >/dev/null 2>&1; rc=$?; set -e
[ $rc -eq 4 ] && [ "$(cat "$base/output/failure")" = "my reason" ] || fail "user's failure file overwritten"

# 4. A broken config file: one line naming file and key, also in the failure file, non-zero exit.
base=$tmp/bad
make_tree "$base" '{}'
echo '{"current_host":"algo-9","hosts":["algo-1"]}' >"$base/input/config/resourceconfig.json"
set +e; SAGEMAKER_BASE_DIR=$base "$train" >"$tmp/bad.log" 2>&1; rc=$?; set -e
[ $rc -eq 1 ] || fail "bad config: exit $rc"
grep -q "resourceconfig.json: key 'current_host': 'algo-9' is not one of 'hosts'" "$base/output/failure" ||
  fail "bad config failure file: $(cat "$base/output/failure")"
[ "$(wc -l <"$tmp/bad.log")" -eq 1 ] || fail "bad config printed more than one line"

# 5. SIGTERM reaches the program; it exits 0 and the job succeeds.
base=$tmp/term
make_tree "$base" '{"sagemaker_program":"\"term.sh\""}'
printf 'trap "echo saved > \\"$SM_MODEL_DIR/ckpt\\"; exit 0" TERM\ntouch "$SM_MODEL_DIR/ready"\nwhile :; do sleep 0.05; done\n' \
  >"$base/code/term.sh"
SAGEMAKER_BASE_DIR=$base TRAINRT_NUM_GPUS=0 "$train" >"$tmp/term.log" 2>&1 & pid=$!
for _ in $(seq 200); do [ -e "$base/model/ready" ] && break; sleep 0.05; done
kill -TERM $pid
set +e; wait $pid; rc=$?; set -e
[ $rc -eq 0 ] && [ "$(cat "$base/model/ckpt")" = saved ] || { cat "$tmp/term.log"; fail "SIGTERM: exit $rc"; }

echo "ok: train entry point end to end"
