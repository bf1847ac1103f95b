#!/usr/bin/env bash
# GPU checks for a machine with NVIDIA GPUs and PyTorch (python3 with torch 2.11): what CI, which
# has no GPU, cannot run. Uses binaries built elsewhere (BIN) or in build/bin, and the machine's
# own libtorch for trainrt-finetune. Writes a report to OUT (default ./gpu-check-out).
#   [TOKENIZER_DIR=dir with tokenizer.json, vocab.txt, tokenizer_config.json] scripts/gpu-check.sh [BIN_DIR] [EXTRA_LIB_DIR]
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
bin=${1:-$root/build/bin}
extra_lib=${2:-}
out=${OUT:-$root/gpu-check-out}
mkdir -p "$out"
python=${PYTHON:-python3}
site=$("$python" -c 'import torch, os; print(os.path.dirname(os.path.dirname(torch.__file__)))')
torch_libs=$site/torch/lib
for d in "$site"/nvidia/*/lib "$site"/nvidia/cu13/lib; do torch_libs=$torch_libs:$d; done
export LD_LIBRARY_PATH=${extra_lib:+$extra_lib:}$torch_libs${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
failures=0
check() {  # name command...
  local name=$1; shift
  echo "== $name" | tee -a "$out/report.txt"
  if "$@" >"$out/$name.log" 2>&1; then echo "PASS $name" | tee -a "$out/report.txt"
  else echo "FAIL $name (exit $?)" | tee -a "$out/report.txt"; tail -20 "$out/$name.log" | tee -a "$out/report.txt"; failures=$((failures+1)); fi
}

nvidia-smi --list-gpus | tee "$out/nvidia-smi.txt"
want_gpus=$(nvidia-smi --list-gpus | grep -c '^GPU ')

# 1. GPU count through NVML equals the toolkit's nvidia-smi count.
tree=$(mktemp -d)
mkdir -p "$tree/input/config"
echo '{"current_host":"algo-1","hosts":["algo-1"]}' >"$tree/input/config/resourceconfig.json"
echo '{}' >"$tree/input/config/inputdataconfig.json"; echo '{}' >"$tree/input/config/hyperparameters.json"
check nvml_gpu_count sh -c "SAGEMAKER_BASE_DIR=$tree '$bin/trainrt' env | tee /dev/stderr | grep -qx \"export SM_NUM_GPUS='$want_gpus'\""

# 2. trainrt-finetune links the machine's CUDA libtorch and sees the GPUs.
check finetune_sees_gpu sh -c "'$bin/trainrt-finetune' --version | tee /dev/stderr | grep -q '$want_gpus GPU(s)'"

# 3. NCCL through the launcher's rendezvous store, one worker per GPU.
check nccl_allreduce_via_trainrt_launch "$bin/trainrt" launch --nproc-per-node gpu --master-port 0 -- \
  "$python" "$root/tests/integration/programs/nccl_check.py"

# 4. The fine-tuner on the GPU, fp32, bf16 and fp16 (loss scaling) autocast: a small random BERT
#    with the real uncased WordPiece tokenizer (TOKENIZER_DIR), the demo's sentiment data; the
#    export must load in transformers.
finetune_gpu() {  # fp32 | bf16 | fp16
  local dir=$tmp_ft/$1 precision=()
  [ "$1" != fp32 ] && precision=(--"$1" True)
  "$bin/trainrt-finetune" --model_name_or_path "$tmp_ft/model" --epochs 2 --train_batch_size 32 --max_seq_length 64 \
    --learning_rate 0.0005 --logging_steps 20 "${precision[@]}" --training_dir "$tmp_ft/data/train" \
    --test_dir "$tmp_ft/data/test" --model_dir "$dir/model" --output_data_dir "$dir" --output_dir "$dir/checkpoints" \
    --save_steps 10 --save_total_limit 2 || return 1
  local tolerances=()
  [ "$1" != fp32 ] && tolerances=(0.02 0.02)
  "$python" "$root/tests/integration/programs/check_export.py" "$dir/model" "$tmp_ft/data/test/data.jsonl" \
    "$dir/eval_results.txt" 64 "${tolerances[@]}"
}
if [ -n "${TOKENIZER_DIR:-}" ]; then
  tmp_ft=$(mktemp -d)
  "$python" "$root/examples/sentiment/make_data.py" "$tmp_ft/data"
  "$python" - "$tmp_ft/model" "$TOKENIZER_DIR" <<'PY'
import shutil, sys, torch
from transformers import BertConfig, BertForSequenceClassification
torch.manual_seed(0)
BertForSequenceClassification(BertConfig(hidden_size=128, num_hidden_layers=2, num_attention_heads=4,
                                         intermediate_size=256, num_labels=2)).save_pretrained(sys.argv[1])
for name in ("tokenizer.json", "vocab.txt", "tokenizer_config.json"):
    shutil.copy(f"{sys.argv[2]}/{name}", sys.argv[1])
PY
  check finetune_gpu_fp32 finetune_gpu fp32
  check finetune_gpu_bf16 finetune_gpu bf16
  check finetune_gpu_fp16 finetune_gpu fp16
  grep -h "train_samples_per_second\|on cuda" "$out"/finetune_gpu_*.log | tee -a "$out/report.txt"
  # 4b. Autocast against Trainer's on the same model and data: is the bf16/fp16 cost ours or the
  #     model's (a tiny BERT is launch-bound)?
  for precision in fp32 bf16 fp16; do
    check "versus_trainer_$precision" "$python" "$root/scripts/bench/finetune_vs_hf.py" --model "$tmp_ft/model" \
      --precision "$precision" --repeat 1 --train 2000 --test 200 --finetune "$bin/trainrt-finetune"
    tail -4 "$out/versus_trainer_$precision.log" >>"$out/report.txt"
  done
fi

# 5. The CPU suites and multi-process integration tests on this machine too.
check runtime_tests env TRAINRT_TEST_DATA_DIR="$root/tests/data" "$bin/runtime_tests"
check launcher_tests "$bin/launcher_tests"
check launch_torch_test "$root/tests/integration/launch_torch_test.sh" "$bin/trainrt" "$python"
check train_distributed_test "$root/tests/integration/train_distributed_test.sh" "$bin/train" "$python"
echo "failures: $failures" | tee -a "$out/report.txt"
exit $failures
