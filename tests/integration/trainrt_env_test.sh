#!/usr/bin/env bash
# `trainrt env` prints the contract of a container: eval-able shell and JSON.
# usage: trainrt_env_test.sh TRAINRT CONTRACT_DATA_DIR
set -euo pipefail
trainrt=$1
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/input/config"
echo '{"current_host":"algo-1","hosts":["algo-1","algo-2"]}' >"$tmp/input/config/resourceconfig.json"
echo '{"train":{"TrainingInputMode":"File"}}' >"$tmp/input/config/inputdataconfig.json"
echo '{"msg":"\"it'"'"'s a \\\"test\\\"\"","learning-rate":"5e-05"}' >"$tmp/input/config/hyperparameters.json"
out=$(SAGEMAKER_BASE_DIR=$tmp TRAINRT_NUM_GPUS=0 "$trainrt" env)
eval "$out"
[ "$SM_CURRENT_HOST" = algo-1 ] || { echo "FAIL: SM_CURRENT_HOST=$SM_CURRENT_HOST"; exit 1; }
[ "$SM_HP_MSG" = "it's a \"test\"" ] || { echo "FAIL: SM_HP_MSG=$SM_HP_MSG"; exit 1; }
[ "$MASTER_ADDR" = algo-1 ] || { echo "FAIL: MASTER_ADDR"; exit 1; }
echo "$out" | grep -q '^# not a shell variable name.*SM_HP_LEARNING-RATE$' || { echo "FAIL: dash name"; exit 1; }
SAGEMAKER_BASE_DIR=$tmp TRAINRT_NUM_GPUS=0 "$trainrt" env --format json >"$tmp/env.json"
python3 - "$tmp/env.json" <<'PY'
import json, sys
env = json.load(open(sys.argv[1]))
assert env["SM_HOSTS"] == '["algo-1","algo-2"]', env["SM_HOSTS"]
assert env["SM_HP_LEARNING-RATE"] == "5e-05"
assert json.loads(env["SM_TRAINING_ENV"])["master_hostname"] == "algo-1"
PY
set +e; SAGEMAKER_BASE_DIR=$tmp/missing "$trainrt" env 2>"$tmp/err"; rc=$?; set -e
[ $rc -ne 0 ] && grep -q 'resourceconfig.json: No such file' "$tmp/err" || { echo "FAIL: missing config"; exit 1; }
echo "ok: trainrt env"
