#!/usr/bin/env python3
"""Supervised fine-tuning throughput: trainrt-finetune against TRL's SFTTrainer, in the same run.

A random Llama-architecture causal LM of about 100M parameters (14 layers, 768 wide, grouped-query
attention, untied head) with a byte-level BPE tokenizer of 8192 ids trained by `tokenizers` on the
data; the data are generated sentences of 10-120 words in a `text` column (JSON Lines). Both sides
get the same weights, data, seed, batch size, max_length, steps, learning rate and thread count, in
fp32 on CPU, so they train on the same batches and the same tokens (the loss parity tests prove it
for these settings). Each repeat runs, one after the other: TRL unpacked, trainrt unpacked, TRL
packed (packing=True, bfd: padding-free rows of max_length), trainrt packed. Reported: tokens/s,
the batches' non-padding tokens over each side's own train_runtime, and the ratio to TRL's.

    .venv/bin/python scripts/bench/sft_vs_trl.py [--steps 10] [--batch 4] [--max_length 128] [--threads 2]
        [--repeat 1] [--finetune BIN] [--memory] [--data text|prompt_completion]

--data prompt_completion splits each sentence into a prompt (its first two thirds) and a
completion: both sides then learn the completions only (TRL's completion_only_loss).

With --memory, it measures gradient checkpointing instead: each side unpacked (packed into rows of
max_length with --packed, where activations dominate), without and with
gradient_checkpointing, reporting each process's peak resident memory (wait4's ru_maxrss) beside
its tokens/s.
"""
import argparse
import ast
import json
import os
import random
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
LLAMA3 = (r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|"
          r"\s+(?!\S)|\s+")


def make_model_and_data(work, rows, data="text"):
    from tokenizers import Regex, Tokenizer, decoders, models, pre_tokenizers, processors, trainers
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    rng = random.Random(5)
    words = [("".join(rng.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(rng.randint(2, 9))))
             for _ in range(3000)]
    texts = [" ".join(rng.choice(words) for _ in range(rng.randint(10, 120))) + "." for _ in range(rows)]
    os.makedirs(os.path.join(work, "data", "train"))
    with open(os.path.join(work, "data", "train", "data.jsonl"), "w") as f:
        for t in texts:
            if data == "prompt_completion":  # the first two thirds of the words are the prompt
                w = t.split(" ")
                cut = max(1, 2 * len(w) // 3)
                f.write(json.dumps({"prompt": " ".join(w[:cut]), "completion": " " + " ".join(w[cut:])}) + "\n")
            else:
                f.write(json.dumps({"text": t}) + "\n")
    model_dir = os.path.join(work, "model")
    os.makedirs(model_dir)
    specials = ["<|begin_of_text|>", "<|end_of_text|>"]
    tok = Tokenizer(models.BPE(ignore_merges=True))
    tok.pre_tokenizer = pre_tokenizers.Sequence([pre_tokenizers.Split(Regex(LLAMA3), behavior="isolated"),
                                                 pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False)])
    tok.decoder = decoders.ByteLevel()
    tok.train_from_iterator(texts, trainers.BpeTrainer(vocab_size=8192, special_tokens=specials, show_progress=False,
                                                       initial_alphabet=pre_tokenizers.ByteLevel.alphabet()))
    bos, eos = tok.token_to_id(specials[0]), tok.token_to_id(specials[1])
    tok.post_processor = processors.TemplateProcessing(single=f"{specials[0]} $A", special_tokens=[(specials[0], bos)])
    tok.save(os.path.join(model_dir, "tokenizer.json"))
    with open(os.path.join(model_dir, "tokenizer_config.json"), "w") as f:
        json.dump({"tokenizer_class": "PreTrainedTokenizerFast", "bos_token": specials[0], "eos_token": specials[1],
                   "pad_token": specials[1], "model_max_length": 2048}, f)
    torch.manual_seed(0)
    config = LlamaConfig(vocab_size=tok.get_vocab_size(), hidden_size=768, intermediate_size=2048, num_hidden_layers=14,
                         num_attention_heads=12, num_key_value_heads=4, max_position_embeddings=2048,
                         bos_token_id=bos, eos_token_id=eos, tie_word_embeddings=False)
    model = LlamaForCausalLM(config)
    model.save_pretrained(model_dir)
    return model_dir, sum(p.numel() for p in model.parameters())


def run(cmd, env):
    """cmd's exit status, stdout, stderr and peak resident memory in MiB."""
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        child = subprocess.Popen(cmd, stdout=out, stderr=err, text=True, env=env)
        _, status, usage = os.wait4(child.pid, 0)
        child.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        return child.returncode, out.read(), err.read(), usage.ru_maxrss / 1024


def trl(model_dir, work, out, args, packing, gc=False):
    """SFTTrainer in a child interpreter (clean thread settings): its train metrics and tokens seen."""
    code = f"""
import json, torch
torch.set_num_threads({args.threads})
from datasets import Dataset
from transformers import AutoModelForCausalLM, AutoTokenizer
from trl import SFTConfig, SFTTrainer
rows = [json.loads(l) for l in open({work!r} + "/data/train/data.jsonl")]
cfg = SFTConfig(output_dir={out!r}, max_steps={args.steps}, per_device_train_batch_size={args.batch},
    learning_rate=1e-4, logging_steps=1000, save_strategy="no", report_to="none", seed=42, disable_tqdm=True,
    max_length={args.max_length}, use_cpu=True, bf16=False, gradient_checkpointing={gc},
    include_num_input_tokens_seen="non_padding", packing={packing}, dataloader_num_workers=0)
trainer = SFTTrainer(model=AutoModelForCausalLM.from_pretrained({model_dir!r}), args=cfg,
                     train_dataset=Dataset.from_list(rows), processing_class=AutoTokenizer.from_pretrained({model_dir!r}))
out = trainer.train()
print("SUMMARY " + json.dumps(dict(out.metrics, tokens=trainer.state.num_input_tokens_seen)))
"""
    rc, stdout, stderr, rss = run([sys.executable, "-c", code], dict(os.environ, OMP_NUM_THREADS=str(args.threads)))
    if rc != 0:
        sys.exit("SFTTrainer failed:\n" + stderr[-3000:])
    return dict(json.loads(next(l for l in stdout.splitlines() if l.startswith("SUMMARY "))[8:]), rss_mib=rss)


def ours(model_dir, work, out, args, packing, gc=False):
    cmd = [args.finetune, "--model_name_or_path", model_dir, "--max_steps", str(args.steps),
           "--train_batch_size", str(args.batch), "--learning_rate", "1e-4", "--max_length", str(args.max_length),
           "--logging_steps", "1000", "--seed", "42", "--training_dir", work + "/data/train",
           "--model_dir", out + "/model", "--output_data_dir", out + "/data", "--save_strategy", "no",
           "--output_dir", out + "/checkpoints", "--resume_from_checkpoint", "False", "--packing", str(packing),
           "--bf16", "False", "--gradient_checkpointing", str(gc)]
    rc, stdout, stderr, rss = run(cmd, dict(os.environ, OMP_NUM_THREADS=str(args.threads)))
    if rc != 0:
        sys.exit("trainrt-finetune failed:\n" + stderr[-3000:])
    return dict(ast.literal_eval(next(l for l in stdout.splitlines() if l.startswith("{'train_runtime'"))), rss_mib=rss)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--steps", type=int, default=10)
    p.add_argument("--batch", type=int, default=4)
    p.add_argument("--max_length", type=int, default=128)
    p.add_argument("--rows", type=int, default=400)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--repeat", type=int, default=1)
    p.add_argument("--finetune", default=os.path.join(ROOT, "build", "bin", "trainrt-finetune"))
    p.add_argument("--memory", action="store_true")
    p.add_argument("--data", choices=("text", "prompt_completion"), default="text")
    p.add_argument("--packed", action="store_true", help="--memory with packing: rows of max_length tokens")
    args = p.parse_args()
    if args.memory:
        return memory(args)
    results = []
    with tempfile.TemporaryDirectory() as work:
        model_dir, params = make_model_and_data(work, args.rows, args.data)
        print(f"model: Llama architecture, {params / 1e6:.1f}M parameters; {args.steps} steps of {args.batch} rows, "
              f"max_length {args.max_length}, {args.threads} threads, {args.data} data")
        for r in range(args.repeat):
            for packing in (False, True):
                theirs = trl(model_dir, work, f"{work}/trl{r}{packing}", args, packing)
                mine = ours(model_dir, work, f"{work}/ours{r}{packing}", args, packing)
                results.append((r, packing, theirs, mine))
    print("| repeat | data | tokens | TRL SFTTrainer tokens/s | trainrt tokens/s | ratio |")
    print("|---|---|---|---|---|---|")
    ratios = {False: [], True: []}
    for r, packing, theirs, mine in results:
        tokens = theirs["tokens"]
        a, b = tokens / theirs["train_runtime"], tokens / mine["train_runtime"]
        ratios[packing].append(b / a)
        print(f"| {r + 1} | {'packed (bfd)' if packing else 'unpacked'} | {tokens} | {a:.1f} | {b:.1f} | {b / a:.3f}x |")
    for packing, rs in ratios.items():
        print(f"median ratio, {'packed' if packing else 'unpacked'}: {sorted(rs)[len(rs) // 2]:.3f}x")


def memory(args):
    rows = []
    with tempfile.TemporaryDirectory() as work:
        model_dir, params = make_model_and_data(work, args.rows)
        print(f"model: Llama architecture, {params / 1e6:.1f}M parameters; {args.steps} steps of {args.batch} rows, "
              f"max_length {args.max_length}, {args.threads} threads, {'packed' if args.packed else 'unpacked'}")
        for gc in (False, True):
            theirs = trl(model_dir, work, f"{work}/trl{gc}", args, args.packed, gc)
            mine = ours(model_dir, work, f"{work}/ours{gc}", args, args.packed, gc)
            rows.append((gc, theirs, mine))
    print("| gradient checkpointing | TRL peak RSS MiB | trainrt peak RSS MiB | TRL tokens/s | trainrt tokens/s |")
    print("|---|---|---|---|---|")
    for gc, theirs, mine in rows:
        tokens = theirs["tokens"]
        print(f"| {gc} | {theirs['rss_mib']:.0f} | {mine['rss_mib']:.0f} | {tokens / theirs['train_runtime']:.1f} | "
              f"{tokens / mine['train_runtime']:.1f} |")
    (_, t0, m0), (_, t1, m1) = rows
    print(f"saved by checkpointing: TRL {t0['rss_mib'] - t1['rss_mib']:.0f} MiB, trainrt {m0['rss_mib'] - m1['rss_mib']:.0f} MiB")


if __name__ == "__main__":
    main()
