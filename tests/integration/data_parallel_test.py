#!/usr/bin/env python3
"""Data-parallel fine-tuning with real processes (trainrt launch, Gloo on CPU, tiny BERT):

- N ranks with per-rank batch b end with the weights of one process with batch N*b, and log the
  same losses (float tolerance), for N = 2 and 3, and with gradient accumulation;
- only rank 0 writes the model and the checkpoints, which hold every rank's RNG state;
- resume under data parallel is exact (bit for bit, dropout on), and SIGTERM to the launcher
  stops every rank after the same step with a complete checkpoint, exit 0;
- a rank that stops answering (SIGSTOP) ends the job within the collective timeout, with an
  error naming the collective and the rank that did not report.

- `train` runs the built-in fine-tuner as 2 ranks per host natively and under mpirun (SageMaker's
  MPI mode), with the job's channels and hyperparameters; rank 0 alone writes the model.

usage: data_parallel_test.py TRAINRT TRAINRT_FINETUNE SOURCE_DIR
"""
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

import torch
from safetensors.torch import load_file

trainrt, finetune, src = (os.path.abspath(a) for a in sys.argv[1:4])
work = tempfile.mkdtemp(prefix="trainrt-dp-")
data = os.path.join(work, "data")
subprocess.run([sys.executable, os.path.join(src, "examples/sentiment/make_data.py"), data, "--train", "48", "--test",
                "13", "--seed", "3"], check=True)
make_model = os.path.join(src, "tests/integration/programs/make_tiny_model.py")
for name, dropout in (("model0", "0.0"), ("model", "0.1")):
    subprocess.run([sys.executable, make_model, os.path.join(work, name), data, "--dropout", dropout], check=True,
                   capture_output=True)


def args(name, model, extra):
    out = os.path.join(work, name)
    return ["--model_name_or_path", os.path.join(work, model), "--training_dir", data + "/train", "--test_dir",
            data + "/test", "--learning_rate", "1e-3", "--max_seq_length", "32", "--warmup_steps", "2",
            "--weight_decay", "0.01", "--model_dir", out + "/model", "--output_data_dir", out + "/data",
            "--output_dir", out + "/checkpoints"] + extra


def single(name, model, extra):
    p = subprocess.run([finetune] + args(name, model, extra), capture_output=True, text=True)
    assert p.returncode == 0, f"{name}: exit {p.returncode}\n{p.stderr}"
    return p


def launch(name, model, nproc, extra, expect_rc=0, **popen):
    cmd = [trainrt, "launch", "--nproc-per-node", str(nproc), "--master-port", "0", "--failure-stop", "2", "--",
           finetune] + args(name, model, extra)
    p = subprocess.run(cmd, capture_output=True, text=True)
    assert p.returncode == expect_rc, f"{name}: exit {p.returncode}\n{p.stderr}\n{p.stdout}"
    return p


def history(name):
    h = json.load(open(os.path.join(work, name, "data", "trainer_state.json")))["log_history"]
    return [{k: v for k, v in e.items() if "runtime" not in k and "per_second" not in k} for e in h]


def weights(name):
    return load_file(os.path.join(work, name, "model", "model.safetensors"))


def close_runs(a, b, tol=2e-5):
    wa, wb = weights(a), weights(b)
    assert wa.keys() == wb.keys()
    worst = max((wa[k] - wb[k]).abs().max().item() for k in wa)
    assert worst < tol, f"{a} vs {b}: weights differ by {worst}"
    ha, hb = history(a), history(b)
    assert len(ha) == len(hb), (ha, hb)
    for x, y in zip(ha, hb):
        assert x.keys() == y.keys() and x["step"] == y["step"], (x, y)
        for k in ("loss", "eval_loss", "train_loss", "learning_rate"):
            if k in x:
                assert abs(x[k] - y[k]) <= 1e-5 * max(1.0, abs(x[k])), (k, x, y)
    return worst


COMMON = ["--epochs", "2", "--logging_steps", "2", "--eval_strategy", "epoch", "--save_strategy", "no"]
for nproc, batch, ga in ((2, 4, 1), (3, 4, 1), (2, 2, 2)):
    one, many = f"one_{nproc}x{batch}x{ga}", f"dp_{nproc}x{batch}x{ga}"
    single(one, "model0", COMMON + ["--per_device_train_batch_size", str(nproc * batch * ga)])
    p = launch(many, "model0", nproc, COMMON + ["--per_device_train_batch_size", str(batch),
                                                 "--gradient_accumulation_steps", str(ga)])
    assert f"data parallel over {nproc} ranks" in p.stderr, p.stderr
    assert p.stdout.count("'eval_accuracy'") == 3, "rank 0 alone prints the metric lines"
    worst = close_runs(one, many)
    print(f"ok: {nproc} ranks x batch {batch} x accumulation {ga} = 1 process x batch {nproc * batch * ga} "
          f"(weights within {worst:.1e})")

# Exact resume and checkpoints under data parallel (dropout on: every rank's RNG must come back).
STEPS = ["--epochs", "2", "--logging_steps", "3", "--save_steps", "1", "--per_device_train_batch_size", "4",
         "--eval_strategy", "steps", "--eval_steps", "4"]
launch("dp_full", "model", 2, STEPS)
ck = os.path.join(work, "dp_full", "checkpoints", "checkpoint-4")
for f in ("rng_state_0.safetensors", "rng_state_1.safetensors", "model.safetensors", "optimizer.safetensors"):
    assert os.path.isfile(os.path.join(ck, f)), f"checkpoint lacks {f}"
assert not os.path.exists(os.path.join(ck, "rng_state.safetensors"))
for k in (4, 7):
    name = f"dp_resume{k}"
    os.makedirs(os.path.join(work, name, "checkpoints"))
    shutil.copytree(os.path.join(work, "dp_full", "checkpoints", f"checkpoint-{k}"),
                    os.path.join(work, name, "checkpoints", f"checkpoint-{k}"))
    p = launch(name, "model", 2, STEPS)
    assert f"resuming from {work}/{name}/checkpoints/checkpoint-{k} " in p.stderr, p.stderr
    assert open(os.path.join(work, name, "model", "model.safetensors"), "rb").read() == \
        open(os.path.join(work, "dp_full", "model", "model.safetensors"), "rb").read(), f"{name}: weights differ"
    assert history(name) == history("dp_full"), f"{name}: history differs"
print("ok: 2-rank resume from checkpoints 4 and 7 is bit-for-bit the uninterrupted run; rank 0 wrote every rank's RNG")
# Another world size cannot resume the data position.
os.makedirs(os.path.join(work, "dp_world", "checkpoints"))
shutil.copytree(ck, os.path.join(work, "dp_world", "checkpoints", "checkpoint-4"))
p = launch("dp_world", "model", 3, STEPS, expect_rc=1)
assert "world_size 2, this run has 3" in p.stderr, p.stderr
print("ok: a checkpoint of 2 ranks is refused by 3 ranks, naming world_size")

# SIGTERM to the launcher: every rank stops after the same step; the checkpoint is complete.
LONG = ["--epochs", "300", "--logging_steps", "50", "--save_steps", "500", "--per_device_train_batch_size", "4"]
name = "dp_sigterm"
cmd = [trainrt, "launch", "--nproc-per-node", "2", "--master-port", "0", "--", finetune] + args(name, "model", LONG)
proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
time.sleep(2.5)
proc.send_signal(signal.SIGTERM)
_, err = proc.communicate(timeout=60)
assert proc.returncode == 0, f"exit {proc.returncode}\n{err}"
lines = [l for l in err.splitlines() if "stopped by SIGTERM after step" in l]
assert len(lines) == 2, err
steps = {int(l.split("after step ")[1].split()[0]) for l in lines}
assert len(steps) == 1, f"ranks stopped at different steps: {lines}"
step = steps.pop()
assert os.path.isfile(os.path.join(work, name, "checkpoints", f"checkpoint-{step}", "trainrt_manifest.json"))
print(f"ok: SIGTERM to the launcher: both ranks stopped after step {step}, checkpoint complete, exit 0")

# A rank that stops answering: the collective timeout ends the job and names it.
name = "dp_hang"
cmd = [trainrt, "launch", "--nproc-per-node", "2", "--master-port", "0", "--failure-stop", "2", "--", finetune] + \
    args(name, "model", LONG + ["--ddp_timeout", "3"])
proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
time.sleep(2.0)
children = subprocess.run(["pgrep", "-P", str(proc.pid)], capture_output=True, text=True).stdout.split()
rank1 = next(pid for pid in children
             if b"RANK=1\0" in open(f"/proc/{pid}/environ", "rb").read().replace(b"LOCAL_RANK", b"LOCAL_X"))
os.kill(int(rank1), signal.SIGSTOP)
start = time.monotonic()
_, err = proc.communicate(timeout=120)
took = time.monotonic() - start
assert proc.returncode != 0, err
assert "timeout 3 s" in err and "rank(s) 1 did not report" in err and "all_reduce" in err, err
assert took < 30, f"took {took:.0f} s"
print(f"ok: a stopped rank ended the job after {took:.1f} s: " +
      next(l for l in err.splitlines() if "did not report" in l)[:200])

# A stop that cannot finish (a peer hung during shutdown) ends at the stop deadline.
name = "dp_deadline"
env = dict(os.environ, TRAINRT_STOP_DEADLINE_SECONDS="2")
cmd = [trainrt, "launch", "--nproc-per-node", "2", "--master-port", "0", "--failure-stop", "2", "--", finetune] + \
    args(name, "model", LONG)
proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env=env)
time.sleep(2.0)
children = subprocess.run(["pgrep", "-P", str(proc.pid)], capture_output=True, text=True).stdout.split()
ranks = {b"RANK=1\0" in open(f"/proc/{pid}/environ", "rb").read().replace(b"LOCAL_RANK", b"LOCAL_X"): int(pid)
         for pid in children}
os.kill(ranks[True], signal.SIGSTOP)
os.kill(ranks[False], signal.SIGTERM)
start = time.monotonic()
_, err = proc.communicate(timeout=120)
assert "stop deadline reached" in err, err
assert time.monotonic() - start < 20, "the deadline did not end rank 0"
print("ok: a stop that cannot complete (peer hung) ends at TRAINRT_STOP_DEADLINE_SECONDS with a message")

# Through `train`, as SageMaker runs the job: natively (2 processes per host) and under mpirun.
def job(name, hyperparameters, extra_env):
    base = os.path.join(work, name, "opt", "ml")
    os.makedirs(base + "/input/config")
    shutil.copytree(data, base + "/input/data")
    shutil.copytree(os.path.join(work, "model0"), base + "/input/data/model")
    json.dump({"current_host": "algo-1", "hosts": ["algo-1"], "network_interface_name": "lo"},
              open(base + "/input/config/resourceconfig.json", "w"))
    json.dump({c: {"TrainingInputMode": "File"} for c in ("train", "test", "model")},
              open(base + "/input/config/inputdataconfig.json", "w"))
    json.dump(hyperparameters, open(base + "/input/config/hyperparameters.json", "w"))
    free = subprocess.run([sys.executable, "-c", "import socket; s=socket.socket(); s.bind(('127.0.0.1', 0)); "
                           "print(s.getsockname()[1])"], capture_output=True, text=True).stdout.strip()
    env = dict(os.environ, SAGEMAKER_BASE_DIR=base, TRAINRT_NUM_GPUS="0", TRAINRT_FINETUNER=finetune,
               TRAINRT_MASTER_PORT=free, **extra_env)
    p = subprocess.run([os.path.join(os.path.dirname(trainrt), "train")], env=env, capture_output=True, text=True)
    assert p.returncode == 0, f"{name}: exit {p.returncode}\n{p.stderr}\n{p.stdout}"
    assert "data parallel over 2 ranks" in p.stdout + p.stderr, p.stderr
    assert os.path.isfile(base + "/output/success") and os.path.isfile(base + "/model/model.safetensors")
    assert (p.stdout + p.stderr).count("model saved to") == 1, "only rank 0 exports"
    return p


HP = {"epochs": "1", "train_batch_size": "4", "learning_rate": "1e-3", "max_seq_length": "32", "logging_steps": "3"}
job("train_native", HP, {"TRAINRT_NPROC_PER_HOST": "2"})
print("ok: train runs the built-in fine-tuner as 2 data-parallel ranks")
if shutil.which("mpirun"):
    job("train_mpi", dict(HP, sagemaker_mpi_enabled="true", sagemaker_mpi_num_of_processes_per_host="2"), {})
    print("ok: train runs the built-in fine-tuner as 2 data-parallel ranks under mpirun")
shutil.rmtree(work)
