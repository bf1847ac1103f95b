#!/usr/bin/env python3
"""Lay out a SageMaker /opt/ml tree for a supervised fine-tuning job of a small causal LM, as the
SDK would for an Estimator with channels `train`, `test` and `model` and no entry point.

- model: a small random Llama-architecture causal LM (4 layers, 128 wide) with a byte-level BPE
  tokenizer in Llama 3's layout, trained here by Hugging Face `tokenizers` on the data;
- data: generated arithmetic questions and answers in TRL's prompt/completion format (JSON Lines);
- hyperparameters: TRL/TrainingArguments names, json.dumps-encoded as the SDK writes them.

    .venv/bin/python examples/sft/make_sft_job.py BASE_DIR [--train 3000] [--test 200]
"""
import argparse
import json
import os
import random

from tokenizers import Regex, Tokenizer, decoders, models, pre_tokenizers, processors, trainers
from transformers import LlamaConfig, LlamaForCausalLM

LLAMA3 = (r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|"
          r"\s+(?!\S)|\s+")


def example(rng):
    a, b = rng.randint(0, 49), rng.randint(0, 49)
    op = rng.choice(["+", "-"])
    return {"prompt": f"Question: what is {a} {op} {b}?\nAnswer:", "completion": f" {a + b if op == '+' else a - b}"}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("base")
    ap.add_argument("--train", type=int, default=3000)
    ap.add_argument("--test", type=int, default=200)
    args = ap.parse_args()
    rng = random.Random(11)
    data = os.path.join(args.base, "input", "data")
    splits = {"train": [example(rng) for _ in range(args.train)], "test": [example(rng) for _ in range(args.test)]}
    for split, rows in splits.items():
        os.makedirs(os.path.join(data, split), exist_ok=True)
        with open(os.path.join(data, split, "data.jsonl"), "w") as f:
            for r in rows:
                f.write(json.dumps(r) + "\n")

    model_dir = os.path.join(data, "model")
    os.makedirs(model_dir, exist_ok=True)
    specials = ["<|begin_of_text|>", "<|end_of_text|>"]
    tok = Tokenizer(models.BPE(ignore_merges=True))
    tok.pre_tokenizer = pre_tokenizers.Sequence([pre_tokenizers.Split(Regex(LLAMA3), behavior="isolated"),
                                                 pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False)])
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=512, special_tokens=specials, show_progress=False,
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet())
    tok.train_from_iterator([r["prompt"] + r["completion"] for r in splits["train"]], trainer)
    bos, eos = tok.token_to_id(specials[0]), tok.token_to_id(specials[1])
    tok.post_processor = processors.TemplateProcessing(single=f"{specials[0]} $A",
                                                       special_tokens=[(specials[0], bos)])
    tok.save(os.path.join(model_dir, "tokenizer.json"))
    with open(os.path.join(model_dir, "tokenizer_config.json"), "w") as f:
        json.dump({"tokenizer_class": "PreTrainedTokenizerFast", "bos_token": specials[0], "eos_token": specials[1],
                   "pad_token": specials[1], "model_max_length": 256}, f)
    LlamaForCausalLM(LlamaConfig(vocab_size=tok.get_vocab_size(), hidden_size=128, intermediate_size=256,
                                 num_hidden_layers=4, num_attention_heads=4, num_key_value_heads=2,
                                 max_position_embeddings=256, bos_token_id=bos, eos_token_id=eos,
                                 tie_word_embeddings=True)).save_pretrained(model_dir)

    config = os.path.join(args.base, "input", "config")
    os.makedirs(config, exist_ok=True)
    hyperparameters = {"num_train_epochs": 1, "per_device_train_batch_size": 16, "learning_rate": 3e-3,
                       "lr_scheduler_type": "cosine", "warmup_ratio": 0.05, "max_length": 64, "logging_steps": 25,
                       "eval_strategy": "epoch", "save_steps": 100, "sagemaker_job_name": "trainrt-sft-demo",
                       "bf16": False}  # a CPU demo: SFTConfig's bf16 default is for GPUs
    with open(os.path.join(config, "hyperparameters.json"), "w") as f:
        json.dump({k: json.dumps(v) for k, v in hyperparameters.items()}, f)
    with open(os.path.join(config, "resourceconfig.json"), "w") as f:
        json.dump({"current_host": "algo-1", "hosts": ["algo-1"], "current_instance_type": "local",
                   "network_interface_name": "eth0"}, f)
    with open(os.path.join(config, "inputdataconfig.json"), "w") as f:
        json.dump({c: {"TrainingInputMode": "File"} for c in ("train", "test", "model")}, f)
    for d in ("model", "output/data"):
        os.makedirs(os.path.join(args.base, d), exist_ok=True)


if __name__ == "__main__":
    main()
