#!/usr/bin/env bash
# The built-in fine-tuner through `train`, as SageMaker runs a job with no program: a real
# pretrained model (all-MiniLM-L6-v2) in the `model` channel, a small sentiment dataset, metric
# lines the SageMaker regexes read, and an export that transformers loads and agrees with.
# usage: finetune_end_to_end_test.sh TRAIN PYTHON MODEL_DIR SOURCE_DIR
set -euo pipefail
train=$1 python=$2 model=$3 src=$4
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
base=$tmp/opt/ml
mkdir -p "$base/input/config" "$base/input/data" "$base/model" "$base/output/data"
"$python" "$src/examples/sentiment/make_data.py" "$base/input/data" --train 160 --test 64 --seed 7
cp -r "$model" "$base/input/data/model"
echo '{"current_host":"algo-1","hosts":["algo-1"]}' >"$base/input/config/resourceconfig.json"
echo '{"train":{"TrainingInputMode":"File"},"test":{"TrainingInputMode":"File"},"model":{"TrainingInputMode":"File"}}' \
  >"$base/input/config/inputdataconfig.json"
echo '{"epochs":"1","train_batch_size":"16","learning_rate":"0.0001","logging_steps":"5","max_seq_length":"48","seed":"3"}' \
  >"$base/input/config/hyperparameters.json"
SAGEMAKER_BASE_DIR=$base TRAINRT_NUM_GPUS=0 "$train" >"$tmp/out.log" 2>"$tmp/err.log" ||
  { cat "$tmp/err.log" "$tmp/out.log"; fail "train exited $?"; }
[ -f "$base/output/success" ] || fail "no success file"
for f in config.json model.safetensors tokenizer.json tokenizer_config.json special_tokens_map.json vocab.txt; do
  [ -s "$base/model/$f" ] || fail "model dir lacks $f"
done
# The SageMaker metric regexes of the Hugging Face examples and guide read the stdout lines.
"$python" - "$tmp/out.log" <<'PY'
import re, sys
log = open(sys.argv[1]).read()
dict_regexes = {"loss": r"'loss': ([0-9]+(.|e\-)[0-9]+),?", "learning_rate": r"'learning_rate': ([0-9]+(.|e\-)[0-9]+),?",
                "epoch": r"'epoch': ([0-9]+(.|e\-)[0-9]+),?", "eval_accuracy": r"'eval_accuracy': ([0-9]+(.|e\-)[0-9]+),?"}
for name, rx in dict_regexes.items():
    found = re.findall(rx, log)
    assert found, f"no {name} line"
    float(found[-1][0])
for name, rx in {"train_runtime": r"train_runtime.*=\D*(.*?)$", "eval_accuracy": r"eval_accuracy.*=\D*(.*?)$",
                 "eval_loss": r"eval_loss.*=\D*(.*?)$"}.items():
    found = re.findall(rx, log, re.M)
    assert found, f"no {name} = line"
    float(found[-1])
print("metric regexes ok")
PY
"$python" "$src/tests/integration/programs/check_export.py" "$base/model" "$base/input/data/test/data.jsonl" \
  "$base/output/data/eval_results.txt" 48 || fail "transformers disagrees with the export"
echo "ok: built-in fine-tuner end to end"
