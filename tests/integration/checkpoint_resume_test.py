#!/usr/bin/env python3
"""Checkpoints and resume of trainrt-finetune, with real processes and a tiny BERT (dropout on):

- exact resume: from checkpoints mid-epoch, at an epoch boundary and at the end, the final model is
  bit-for-bit the uninterrupted run's and every log_history entry (losses, grad norms, learning
  rates, evaluations) is equal;
- SIGTERM at random moments (so also mid-accumulation): exit 0 with a complete checkpoint, and the
  resumed run ends bit-for-bit as the uninterrupted one; through `train` too (no success file
  while stopped, success after the resume);
- an empty or missing checkpoint folder starts fresh; a corrupted newest checkpoint is skipped;
  another layout is refused with a clear error; --save_total_limit keeps the newest and the best;
  checkpoints are loadable Hugging Face models with Trainer's trainer_state.json keys.

usage: checkpoint_resume_test.py TRAINRT_FINETUNE TRAIN SOURCE_DIR
"""
import json
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import time

from finetune_harness import Runs, sagemaker_job

finetune, train, src = (os.path.abspath(a) for a in sys.argv[1:4])
rng = random.Random(int(os.environ.get("TRAINRT_TEST_SEED", time.time())))
runs = Runs(src, finetune, prefix="trainrt-ckpt-", train=34, test=12)
work, data, model = runs.work, runs.data, runs.path("model")
history, same_run = runs.history, runs.same_run
# 34 examples in batches of 4: 9 batches per epoch, accumulated by 2 -> 5 steps per epoch, the
# last one a single batch. Dropout is on.
BATCHING = ["--per_device_train_batch_size", "4", "--gradient_accumulation_steps", "2"]


def run(name, extra, expect_rc=0):
    return runs.single(name, "model", BATCHING + extra, expect_rc=expect_rc)


def command(name, extra):
    return [finetune] + runs.args(name, "model", BATCHING + extra)


# ---- exact resume from chosen checkpoints ----
STEPS = ["--epochs", "2", "--logging_steps", "3", "--eval_strategy", "steps", "--eval_steps", "4", "--save_steps", "1"]
p = run("full", STEPS)
assert "no checkpoint to resume from" in p.stderr and "starting fresh" in p.stderr, p.stderr
ckpts = os.path.join(work, "full", "checkpoints")
assert sorted(os.listdir(ckpts), key=lambda n: int(n.split("-")[1])) == [f"checkpoint-{i}" for i in range(1, 11)]
for k in (1, 4, 5, 7, 10):  # mid-epoch, before and at the end of epoch 1, mid-epoch 2, the end
    name = f"resume{k}"
    shutil.copytree(os.path.join(ckpts, f"checkpoint-{k}"), os.path.join(work, name, "checkpoints", f"checkpoint-{k}"))
    p = run(name, STEPS)
    assert f"resuming from {work}/{name}/checkpoints/checkpoint-{k} " in p.stderr, p.stderr
    same_run("full", name)
print("ok: resume from checkpoints 1, 4, 5, 7, 10 ends bit-for-bit as the uninterrupted run")

# A checkpoint is a Hugging Face model folder with Trainer's state keys.
c4 = os.path.join(ckpts, "checkpoint-4")
for f in ("config.json", "model.safetensors", "vocab.txt", "tokenizer_config.json", "special_tokens_map.json",
          "trainer_state.json", "optimizer.safetensors", "rng_state.safetensors", "trainrt_state.json",
          "trainrt_manifest.json"):
    assert os.path.isfile(os.path.join(c4, f)), f"checkpoint-4 lacks {f}"
state = json.load(open(os.path.join(c4, "trainer_state.json")))
for key in ("global_step", "epoch", "log_history", "best_metric", "best_model_checkpoint", "max_steps",
            "logging_steps", "eval_steps", "save_steps", "train_batch_size", "num_train_epochs", "total_flos"):
    assert key in state, f"trainer_state.json lacks {key}"
assert state["global_step"] == 4 and [e["step"] for e in state["log_history"]] == [3, 4]
subprocess.run([sys.executable, "-c", "import sys; from transformers import AutoModelForSequenceClassification as M, "
                "AutoTokenizer as T; M.from_pretrained(sys.argv[1]); T.from_pretrained(sys.argv[1])", c4], check=True,
               capture_output=True)
print("ok: checkpoints load in transformers and carry trainer_state.json")

# ---- a damaged newest checkpoint is skipped; another layout is refused ----
damaged = os.path.join(work, "damaged", "checkpoints")
os.makedirs(damaged)
for k in (4, 7):
    shutil.copytree(os.path.join(ckpts, f"checkpoint-{k}"), os.path.join(damaged, f"checkpoint-{k}"))
with open(os.path.join(damaged, "checkpoint-7", "optimizer.safetensors"), "r+b") as f:
    f.seek(200)
    f.write(b"\x7f")
p = run("damaged", STEPS)
assert "ignoring checkpoint" in p.stderr and "checkpoint-7/optimizer.safetensors" in p.stderr, p.stderr
assert f"resuming from {damaged}/checkpoint-4 " in p.stderr, p.stderr
same_run("full", "damaged")
os.makedirs(os.path.join(work, "layout", "checkpoints"))
shutil.copytree(c4, os.path.join(work, "layout", "checkpoints", "checkpoint-4"))
p = run("layout", STEPS + ["--per_device_train_batch_size", "8"], expect_rc=1)
assert "per_device_train_batch_size 4, this run has 8" in p.stderr, p.stderr
print("ok: a damaged newest checkpoint is skipped, another batch layout is refused")

# ---- empty folder: fresh start; resume False ignores checkpoints ----
os.makedirs(os.path.join(work, "empty", "checkpoints"))
p = run("empty", STEPS[:2] + ["--save_strategy", "no"])
assert "starting fresh" in p.stderr and os.listdir(os.path.join(work, "empty", "checkpoints")) == []
p = run("empty", STEPS[:2] + ["--save_strategy", "no", "--resume_from_checkpoint", "True"], expect_rc=1)
assert "no valid checkpoint in" in p.stderr, p.stderr
print("ok: an empty checkpoint folder starts fresh")

# ---- rotation keeps the newest and the best ----
ROT = ["--epochs", "4", "--logging_steps", "5", "--eval_strategy", "steps", "--eval_steps", "2", "--save_steps", "2",
       "--save_total_limit", "2", "--load_best_model_at_end", "True", "--metric_for_best_model", "loss"]
p = run("rotation", ROT)
left = sorted(int(n.split("-")[1]) for n in os.listdir(os.path.join(work, "rotation", "checkpoints")))
evals = [e for e in history("rotation") if "eval_loss" in e]
best = min(evals, key=lambda e: e["eval_loss"])["step"]
assert 20 in left and best in left and len(left) == (1 if best == 20 else 2), (left, best)
final_state = json.load(open(os.path.join(work, "rotation", "data", "trainer_state.json")))
assert final_state["best_global_step"] == best and final_state["best_model_checkpoint"].endswith(f"checkpoint-{best}")
assert "Loading best model from" in p.stderr and "Deleting older checkpoint" in p.stdout
print(f"ok: rotation kept {left} (newest 20, best {best})")

# ---- --save_strategy epoch: a checkpoint at every epoch's end, each write logged with its time and size ----
p = run("per_epoch", ["--epochs", "3", "--logging_steps", "5", "--save_strategy", "epoch"])
folder = os.path.join(work, "per_epoch", "checkpoints")
assert sorted(os.listdir(folder)) == ["checkpoint-10", "checkpoint-15", "checkpoint-5"], os.listdir(folder)
saved = re.findall(r"^trainrt: saved checkpoint-(\d+): checkpoint_seconds = ([0-9.]+), checkpoint_bytes = (\d+)$",
                   p.stdout, re.M)
assert [int(step) for step, _, _ in saved] == [5, 10, 15], p.stdout
for step, seconds, size in saved:
    ck = os.path.join(folder, f"checkpoint-{step}")
    files = sum(os.path.getsize(os.path.join(ck, f)) for f in os.listdir(ck) if f != "trainrt_manifest.json")
    assert int(size) == files and 0 <= float(seconds) < 60, (step, size, files)
print("ok: --save_strategy epoch saves at steps 5, 10, 15; each write logs its seconds and the bytes it wrote")

# ---- SIGTERM at random moments: exit 0, complete checkpoint, exact resume ----
LONG = ["--epochs", "80", "--logging_steps", "7", "--eval_strategy", "epoch", "--save_steps", "200"]
start = time.monotonic()
run("long", LONG)
duration = time.monotonic() - start
for trial in range(3):
    name = f"sigterm{trial}"
    cmd = command(name, LONG)
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    time.sleep(rng.uniform(0.35, 0.85) * duration)
    sent = time.monotonic()
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=60)
    took = time.monotonic() - sent
    if proc.returncode == 0 and "stopped by SIGTERM" not in err:
        continue  # finished before the signal: nothing to test in this trial
    assert proc.returncode == 0, f"SIGTERM: exit {proc.returncode}\n{err}"
    assert took < 10, f"SIGTERM: took {took:.1f} s to checkpoint and exit"
    line = next(l for l in err.splitlines() if "stopped by SIGTERM after step" in l)
    step = int(line.split("after step ")[1].split()[0])
    ck = f"{work}/{name}/checkpoints/checkpoint-{step}"
    assert os.path.isfile(ck + "/trainrt_manifest.json"), line
    assert not os.path.exists(f"{work}/{name}/model/model.safetensors"), "a stopped run exported a model"
    p = run(name, LONG)
    assert f"resuming from {ck} " in p.stderr, p.stderr
    same_run("long", name)
    print(f"ok: SIGTERM {took:.2f} s before exit 0 at step {step}; the resumed run is bit-for-bit the uninterrupted one")

# ---- a second signal ends the process at once, without a checkpoint ----
name = "twice"
cmd = command(name, LONG)
proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
time.sleep(0.5 * duration)
proc.send_signal(signal.SIGTERM)
proc.send_signal(signal.SIGINT)
_, err = proc.communicate(timeout=60)
# Both arrive before the step ends; the kernel delivers pending signals lowest number first.
assert proc.returncode in (128 + signal.SIGINT, 128 + signal.SIGTERM) and "second stop signal" in err, \
    (proc.returncode, err)
print(f"ok: a second stop signal ends the process at once (exit {proc.returncode})")

# ---- a crash says where: the signal and the crashing thread's stack, then death by that signal ----
proc = subprocess.Popen(command("crash", LONG), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
time.sleep(0.5 * duration)
proc.send_signal(signal.SIGSEGV)  # as a bad pointer in the main thread would raise it
_, err = proc.communicate(timeout=60)
assert proc.returncode == -signal.SIGSEGV, (proc.returncode, err)
assert "trainrt-finetune: fatal signal SIGSEGV (Segmentation fault); the crashing thread's stack" in err, err
assert "libtorch" in err or "trainrt-finetune(" in err, err
assert err.rstrip().endswith("trainrt-finetune: error: crashed with SIGSEGV"), err[-300:]
print("ok: a crash prints its signal and stack, and the process dies of that signal")

# ---- not enough room for the next checkpoint: a clear error, the complete ones kept ----
small = os.path.join(work, "small")
os.makedirs(small)
if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=400k", "tmpfs", small], capture_output=True).returncode == 0:
    try:
        p = run("full_disk", STEPS + ["--output_dir", small], expect_rc=1)
        assert "not enough free space in " + small in p.stderr and "bytes free" in p.stderr, p.stderr
        kept = [n for n in os.listdir(small) if n.startswith("checkpoint-")]
        assert kept and all(os.path.isfile(os.path.join(small, n, "trainrt_manifest.json")) for n in kept), kept
        print(f"ok: a full disk stops training with a clear error before the next checkpoint ({len(kept)} kept)")
    finally:
        subprocess.run(["umount", small])
    # Too small for even the first checkpoint: refused before training starts.
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", small], check=True)
    try:
        p = run("no_room", STEPS + ["--output_dir", small], expect_rc=1)
        assert "not enough free space in " + small in p.stderr and "AdamW's two moments" in p.stderr, p.stderr
        assert "'loss'" not in p.stdout and os.listdir(small) == [], (p.stdout, os.listdir(small))
        print("ok: no room for the first checkpoint: a clear error before training starts")
    finally:
        subprocess.run(["umount", small])
else:
    print("skip: cannot mount a small tmpfs here (not root)")

# ---- the same through `train` (what SageMaker runs): stopped, then resumed to success ----
base = sagemaker_job(runs.path("job"), data, model, {
    "epochs": "80", "train_batch_size": "4", "gradient_accumulation_steps": "2", "learning_rate": "1e-3",
    "max_seq_length": "32", "save_steps": "200", "logging_steps": "50"})
json.dump({"LocalPath": base + "/spot-checkpoints"}, open(base + "/input/config/checkpointconfig.json", "w"))
env = dict(os.environ, SAGEMAKER_BASE_DIR=base, TRAINRT_NUM_GPUS="0", TRAINRT_FINETUNER=finetune)
proc = subprocess.Popen([train], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
# The stop lands in training, however busy the machine: after the fine-tuner's start-up line (the
# last before its first step), well before its 400 steps can be done.
seen = []
for line in proc.stderr:
    seen.append(line)
    if " steps (80 epochs x " in line:
        break
time.sleep(0.3)
proc.send_signal(signal.SIGTERM)
_, rest = proc.communicate(timeout=60)
err = "".join(seen) + rest
assert proc.returncode == 0, err
assert "job stopped by SIGTERM" in err, err
assert not os.path.exists(base + "/output/success") and not os.path.exists(base + "/output/failure")
assert any(n.startswith("checkpoint-") for n in os.listdir(base + "/spot-checkpoints")), "no checkpoint in LocalPath"
p = subprocess.run([train], env=env, capture_output=True, text=True)
assert p.returncode == 0 and "resuming from " + base + "/spot-checkpoints/checkpoint-" in p.stderr, p.stderr
assert os.path.exists(base + "/output/success") and os.path.exists(base + "/model/model.safetensors")
print("ok: train stopped by SIGTERM exits 0 without a success file; the rerun resumes from LocalPath and succeeds")
shutil.rmtree(work)
