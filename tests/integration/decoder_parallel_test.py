#!/usr/bin/env python3
"""Data and pipeline parallelism for decoder LMs, with real processes (trainrt launch, Gloo on CPU):

- a tiny Qwen3 with its output layer tied to the input embedding, 2 data-parallel ranks of 4 rows
  each, ends with the weights and losses of one process with 8 rows (the tied embedding's gradient,
  dense, is all-reduced whole);
- a tiny Llama as a 2-stage pipeline (decoder layers split between the stages, 1F1B, 4
  microbatches) ends as one process does, each stage holding only its part, and the export's
  shards load in transformers.

usage: decoder_parallel_test.py TRAINRT TRAINRT_FINETUNE SOURCE_DIR
"""
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile

import torch
from safetensors.torch import load_file
from transformers import LlamaConfig, LlamaForCausalLM, Qwen3Config, Qwen3ForCausalLM

trainrt, finetune, src = (os.path.abspath(a) for a in sys.argv[1:4])
work = tempfile.mkdtemp(prefix="trainrt-decoder-parallel-")
toks = os.path.join(work, "toks")
subprocess.run([sys.executable, os.path.join(src, "scripts/tokenizer/make_bpe_tokenizers.py"), toks], check=True)

rng = random.Random(11)
words = "the a cat dog sat ran on under mat tree quickly slowly big small red blue 12 345 , . ! ?".split()
os.makedirs(os.path.join(work, "data", "train"))
os.makedirs(os.path.join(work, "data", "test"))
for split, n in (("train", 48), ("test", 8)):
    with open(os.path.join(work, "data", split, "data.jsonl"), "w") as f:
        for _ in range(n):
            f.write(json.dumps({"text": " ".join(rng.choice(words) for _ in range(rng.randint(3, 20)))}) + "\n")


def make_model(name, cls, config_cls, **extra):
    path = os.path.join(work, name)
    os.makedirs(path)
    for f in ("tokenizer.json", "tokenizer_config.json"):
        shutil.copy(os.path.join(toks, "llama3", f), path)
    vocab = json.load(open(os.path.join(path, "tokenizer.json")))
    size = max(max(vocab["model"]["vocab"].values()), max(t["id"] for t in vocab["added_tokens"])) + 1
    torch.manual_seed(0)
    cls(config_cls(vocab_size=size, hidden_size=32, intermediate_size=64, num_hidden_layers=4, num_attention_heads=4,
                   num_key_value_heads=2, max_position_embeddings=128, attention_dropout=0.0, **extra)).save_pretrained(path)
    return path


def args(name, model, extra):
    out = os.path.join(work, name)
    return ["--model_name_or_path", model, "--training_dir", work + "/data/train", "--test_dir", work + "/data/test",
            "--epochs", "2", "--learning_rate", "1e-3", "--warmup_steps", "2", "--weight_decay", "0.01",
            "--logging_steps", "2", "--eval_strategy", "epoch", "--save_strategy", "no", "--max_length", "32",
            "--bf16", "False", "--gradient_checkpointing", "False", "--model_dir", out + "/model",
            "--output_data_dir", out + "/data", "--output_dir", out + "/checkpoints"] + extra


def single(name, model, extra):
    p = subprocess.run([finetune] + args(name, model, extra), capture_output=True, text=True)
    assert p.returncode == 0, f"{name}: exit {p.returncode}\n{p.stderr}"
    return p


def launch(name, model, nproc, extra):
    p = subprocess.run([trainrt, "launch", "--nproc-per-node", str(nproc), "--master-port", "0", "--failure-stop", "2",
                        "--", finetune] + args(name, model, extra), capture_output=True, text=True)
    assert p.returncode == 0, f"{name}: exit {p.returncode}\n{p.stderr}\n{p.stdout}"
    return p


def weights(name):
    folder = os.path.join(work, name, "model")
    out = {}
    for f in sorted(os.listdir(folder)):
        if f.endswith(".safetensors"):
            out.update(load_file(os.path.join(folder, f)))
    return out


def history(name):
    h = json.load(open(os.path.join(work, name, "data", "trainer_state.json")))["log_history"]
    return [{k: v for k, v in e.items() if "runtime" not in k and "per_second" not in k} for e in h]


def close(a, b, tol=2e-5):
    wa, wb = weights(a), weights(b)
    assert wa.keys() == wb.keys(), (sorted(wa), sorted(wb))
    worst = max((wa[k] - wb[k]).abs().max().item() for k in wa)
    assert worst < tol, f"{a} vs {b}: weights differ by {worst}"
    ha, hb = history(a), history(b)
    assert len(ha) == len(hb) > 0, (ha, hb)
    for x, y in zip(ha, hb):
        assert x["step"] == y["step"], (x, y)
        for k in ("loss", "eval_loss", "train_loss", "learning_rate"):
            if k in x:
                assert abs(x[k] - y[k]) <= 1e-5 * max(1.0, abs(x[k])), (k, x, y)
    return worst


tied = make_model("qwen3_tied", Qwen3ForCausalLM, Qwen3Config, head_dim=8, tie_word_embeddings=True)
# No evaluation here: a token-level eval loss is the row-weighted mean of batch means, as Trainer
# computes it, and the ranks' eval batches are not the single process's.
single("tied_one8", tied, ["--per_device_train_batch_size", "8", "--eval_strategy", "no"])
p = launch("tied_dp2", tied, 2, ["--per_device_train_batch_size", "4", "--eval_strategy", "no"])
assert "2 data-parallel replica(s)" in p.stderr, p.stderr
print(f"ok: tied Qwen3, 2 data-parallel ranks x 4 = 1 process x 8 (weights within {close('tied_one8', 'tied_dp2'):.1e})")

llama = make_model("llama", LlamaForCausalLM, LlamaConfig, tie_word_embeddings=False)
single("llama_one8", llama, ["--per_device_train_batch_size", "8"])
p = launch("llama_pp2", llama, 2, ["--per_device_train_batch_size", "8",
                                   "--mp_parameters", "partitions=2,microbatches=4,pipeline=interleaved"])
held = {int(l.split("rank ")[1].split()[0]): int(l.split("holds ")[1].split()[0])
        for l in p.stderr.splitlines() if " holds " in l}
total = sum(v.numel() for v in weights("llama_one8").values())
assert len(held) == 2 and sum(held.values()) == total and max(held.values()) < total, (held, total)
print(f"ok: Llama as a 2-stage pipeline (1F1B, 4 microbatches) = 1 process (weights within "
      f"{close('llama_one8', 'llama_pp2'):.1e}); stages hold {held[0]} + {held[1]} = {total} parameters")
subprocess.run([sys.executable, "-c", "import sys; from transformers import AutoModelForCausalLM as M; "
                "M.from_pretrained(sys.argv[1])", os.path.join(work, "llama_pp2", "model")], check=True)
print("ok: the pipeline's export loads in transformers")
shutil.rmtree(work)
