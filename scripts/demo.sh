#!/usr/bin/env bash
# The main job, locally: a real training run through trainrt's `train` entry point on a generated
# /opt/ml tree (build/demo/opt/ml), exactly as SageMaker would start it in a container.
#   - data: a generated sentiment dataset in the `train` and `test` channels;
#   - program: examples/pytorch_script/train.py, an unmodified SageMaker script-mode program,
#     named by the sagemaker_program hyperparameter and run with the project venv's PyTorch.
# Installs and builds what is missing first. Prints eval metrics; leaves the model in
# build/demo/opt/ml/model and output/success.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
scripts/setup.sh
scripts/build.sh

base=$root/build/demo/opt/ml
rm -rf "$root/build/demo"
mkdir -p "$base/input/config" "$base/code" "$base/model" "$base/output/data"
.venv/bin/python examples/sentiment/make_data.py "$base/input/data"
cp examples/pytorch_script/train.py "$base/code/"
cat >"$base/input/config/hyperparameters.json" <<'JSON'
{"epochs": "5", "learning_rate": "0.5", "sagemaker_program": "\"train.py\"", "sagemaker_job_name": "\"trainrt-demo\""}
JSON
echo '{"current_host": "algo-1", "hosts": ["algo-1"], "current_instance_type": "local", "network_interface_name": "eth0"}' \
  >"$base/input/config/resourceconfig.json"
echo '{"train": {"TrainingInputMode": "File"}, "test": {"TrainingInputMode": "File"}}' \
  >"$base/input/config/inputdataconfig.json"

echo "== train (SAGEMAKER_BASE_DIR=$base) =="
SAGEMAKER_BASE_DIR=$base TRAINRT_PYTHON=$root/.venv/bin/python build/bin/train
echo "== result =="
ls -l "$base/model" "$base/output"
