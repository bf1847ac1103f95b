#!/usr/bin/env bash
# The supervised fine-tuning job, locally: a causal LM fine-tuned through trainrt's `train` entry
# point on a generated /opt/ml tree (build/demo-sft/opt/ml), as SageMaker starts a container whose
# job names no program:
#   - model: a small random Llama-architecture causal LM with a byte-level BPE tokenizer, made by
#     examples/sft/make_sft_job.py, in the `model` channel;
#   - data: generated arithmetic questions and answers in TRL's prompt/completion format, in the
#     `train` and `test` channels (the loss on the answers only, as TRL's SFTTrainer);
#   - hyperparameters: TRL's and TrainingArguments' names, as an Estimator passes them.
# Installs and builds what is missing first; leaves a folder that transformers' AutoModelForCausalLM
# loads in build/demo-sft/opt/ml/model, and shows one greedy answer from it.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
scripts/setup.sh
scripts/build.sh

base=$root/build/demo-sft/opt/ml
rm -rf "$root/build/demo-sft"
.venv/bin/python examples/sft/make_sft_job.py "$base"
echo "== train (SAGEMAKER_BASE_DIR=$base) =="
SAGEMAKER_BASE_DIR=$base build/bin/train
echo "== the exported model, in transformers =="
.venv/bin/python - "$base/model" <<'PY'
import sys
from transformers import AutoModelForCausalLM, AutoTokenizer
tok = AutoTokenizer.from_pretrained(sys.argv[1])
model = AutoModelForCausalLM.from_pretrained(sys.argv[1])
prompt = "Question: what is 12 + 7?\nAnswer:"
out = model.generate(**tok(prompt, return_tensors="pt"), max_new_tokens=4, do_sample=False)
print(repr(prompt), "->", repr(tok.decode(out[0][len(tok(prompt).input_ids):], skip_special_tokens=True)))
PY
