#!/usr/bin/env python3
"""kill -9 trials: a fine-tuning run that checkpoints every step (tiny BERT, CPU) is killed with
SIGKILL at random moments, many of them in the middle of a checkpoint write, and started again
with the same command each time. Every restart must resume from the newest checkpoint that is
complete on disk (checked here independently: a manifest whose files all have the sizes it
lists), and the last restart must run to the end and export a model.

usage: checkpoint_kill_trials.py [--trials 100] [--finetune build/bin/trainrt-finetune] [--seed S]
"""
import argparse
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def newest_complete(folder):
    """The newest checkpoint-<n> whose manifest lists files of the sizes it says; None if none."""
    best = None
    for name in os.listdir(folder) if os.path.isdir(folder) else []:
        if not name.startswith("checkpoint-") or not name[11:].isdigit():
            continue
        path = os.path.join(folder, name)
        try:
            manifest = json.load(open(os.path.join(path, "trainrt_manifest.json")))
            ok = all(os.path.getsize(os.path.join(path, f)) == e["bytes"] for f, e in manifest["files"].items())
        except (OSError, ValueError, KeyError):
            ok = False
        if ok and (best is None or int(name[11:]) > int(best[11:])):
            best = name
    return best


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=100)
    parser.add_argument("--finetune", default=os.path.join(ROOT, "build", "bin", "trainrt-finetune"))
    parser.add_argument("--seed", type=int, default=int(time.time()))
    args = parser.parse_args()
    rng = random.Random(args.seed)
    work = tempfile.mkdtemp(prefix="trainrt-kill-")
    data, model, ckpts = (os.path.join(work, n) for n in ("data", "model", "checkpoints"))
    subprocess.run([sys.executable, os.path.join(ROOT, "examples/sentiment/make_data.py"), data, "--train", "64",
                    "--test", "8", "--seed", "1"], check=True)
    subprocess.run([sys.executable, os.path.join(ROOT, "tests/integration/programs/make_tiny_model.py"), model, data],
                   check=True, capture_output=True)
    cmd = [os.path.abspath(args.finetune), "--model_name_or_path", model, "--training_dir", data + "/train",
           "--per_device_train_batch_size", "4", "--gradient_accumulation_steps", "2", "--max_seq_length", "32",
           "--save_steps", "1", "--save_total_limit", "3", "--logging_steps", "25", "--output_dir", ckpts,
           "--model_dir", work + "/model-out", "--output_data_dir", work + "/out"]
    mid_write = resumed = 0
    for trial in range(args.trials):
        expected = newest_complete(ckpts)
        log = os.path.join(work, "stderr.log")
        with open(log, "w") as err:
            proc = subprocess.Popen(cmd + ["--epochs", "100000"], stdout=subprocess.DEVNULL, stderr=err)
            # Once it has said where it starts from (load-independent), kill it at a random moment
            # of the next half second: about 50 steps, each with a checkpoint write.
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline and proc.poll() is None:
                text = open(log).read()
                if "resuming from" in text or "starting fresh" in text:
                    break
                time.sleep(0.01)
            time.sleep(rng.uniform(0.0, 0.5))
            proc.send_signal(signal.SIGKILL)
            proc.wait()
        text = open(log).read()
        want = f"resuming from {ckpts}/{expected} " if expected else "starting fresh"
        if want not in text:
            sys.exit(f"trial {trial}: expected '{want}' after the previous kill, got:\n{text}")
        resumed += expected is not None
        leftovers = [n for n in os.listdir(ckpts) if n.startswith(".staging")] if os.path.isdir(ckpts) else []
        incomplete = newest_complete(ckpts) != max((n for n in os.listdir(ckpts) if n.startswith("checkpoint-")),
                                                   key=lambda n: int(n[11:]), default=None) if os.path.isdir(ckpts) else False
        mid_write += bool(leftovers) or incomplete
    expected = newest_complete(ckpts)
    step = int(expected[11:])
    final = subprocess.run(cmd + ["--epochs", "100000", "--max_steps", str(step + 3)], capture_output=True, text=True)
    if final.returncode != 0 or f"resuming from {ckpts}/{expected} " not in final.stderr:
        sys.exit(f"final run: exit {final.returncode}\n{final.stderr}")
    if not os.path.isfile(work + "/model-out/model.safetensors"):
        sys.exit("final run exported no model")
    print(f"ok: {args.trials} kill -9 trials (seed {args.seed}), {mid_write} of them during a checkpoint write; every "
          f"restart resumed from the newest complete checkpoint ({resumed} resumes); the last reached step {step + 3}")
    shutil.rmtree(work)


if __name__ == "__main__":
    main()
