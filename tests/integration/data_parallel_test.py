#!/usr/bin/env python3
"""Data-parallel fine-tuning with real processes (trainrt launch, Gloo on CPU, tiny BERT):

- N ranks with per-rank batch b end with the weights of one process with batch N*b, and log the
  same losses (float tolerance), for N = 2 and 3, and with gradient accumulation (the word
  embeddings' gradient travels as the rows some rank looked up: the tiny vocabulary has rows one
  rank looks up and rows none does);
- only rank 0 writes the model and the checkpoints, which hold every rank's RNG state;
- resume under data parallel is exact (bit for bit, dropout on), and SIGTERM to the launcher
  stops every rank after the same step with a complete checkpoint, exit 0;
- a rank that stops answering (SIGSTOP) ends the job within the collective timeout, with an
  error naming the collective and the rank that did not report, or sooner through the stall
  watchdog (--stall_timeout), with the stalled thread's stack; a stop that cannot finish ends at
  the stop deadline;
- `train` runs the built-in fine-tuner as 2 ranks per host natively and under mpirun (SageMaker's
  MPI mode), with the job's channels and hyperparameters; rank 0 alone writes the model.

usage: data_parallel_test.py TRAINRT TRAINRT_FINETUNE SOURCE_DIR
"""
import os
import shutil
import signal
import subprocess
import sys
import time

from finetune_harness import Runs, free_port, rank_pids, sagemaker_job

trainrt, finetune, src = (os.path.abspath(a) for a in sys.argv[1:4])
runs = Runs(src, finetune, trainrt, prefix="trainrt-dp-")
work = runs.work

COMMON = ["--epochs", "2", "--logging_steps", "2", "--eval_strategy", "epoch", "--save_strategy", "no"]
for nproc, batch, ga in ((2, 4, 1), (3, 4, 1), (2, 2, 2)):
    one, many = f"one_{nproc}x{batch}x{ga}", f"dp_{nproc}x{batch}x{ga}"
    runs.single(one, "model0", COMMON + ["--per_device_train_batch_size", str(nproc * batch * ga)])
    p = runs.launch(many, "model0", nproc, COMMON + ["--per_device_train_batch_size", str(batch),
                                                     "--gradient_accumulation_steps", str(ga)])
    assert f"data parallel over {nproc} ranks" in p.stderr, p.stderr
    assert "the word embeddings' as the rows some rank looked up" in p.stderr, p.stderr
    assert p.stdout.count("'eval_accuracy'") == 3, "rank 0 alone prints the metric lines"
    worst = runs.close_runs(one, many)
    print(f"ok: {nproc} ranks x batch {batch} x accumulation {ga} = 1 process x batch {nproc * batch * ga} "
          f"(weights within {worst:.1e})")

# Exact resume and checkpoints under data parallel (dropout on: every rank's RNG must come back).
STEPS = ["--epochs", "2", "--logging_steps", "3", "--save_steps", "1", "--per_device_train_batch_size", "4",
         "--eval_strategy", "steps", "--eval_steps", "4"]
runs.launch("dp_full", "model", 2, STEPS)
ck = runs.path("dp_full", "checkpoints", "checkpoint-4")
for f in ("rng_state_0.safetensors", "rng_state_1.safetensors", "model.safetensors", "optimizer.safetensors"):
    assert os.path.isfile(os.path.join(ck, f)), f"checkpoint lacks {f}"
assert not os.path.exists(os.path.join(ck, "rng_state.safetensors"))
for k in (4, 7):
    name = f"dp_resume{k}"
    shutil.copytree(runs.path("dp_full", "checkpoints", f"checkpoint-{k}"),
                    runs.path(name, "checkpoints", f"checkpoint-{k}"))
    p = runs.launch(name, "model", 2, STEPS)
    assert f"resuming from {work}/{name}/checkpoints/checkpoint-{k} " in p.stderr, p.stderr
    runs.same_run("dp_full", name)
print("ok: 2-rank resume from checkpoints 4 and 7 is bit-for-bit the uninterrupted run; rank 0 wrote every rank's RNG")
# Another world size cannot resume the data position.
shutil.copytree(ck, runs.path("dp_world", "checkpoints", "checkpoint-4"))
p = runs.launch("dp_world", "model", 3, STEPS, expect_rc=1)
assert "world_size 2, this run has 3" in p.stderr, p.stderr
print("ok: a checkpoint of 2 ranks is refused by 3 ranks, naming world_size")

# SIGTERM to the launcher: every rank stops after the same step; the checkpoint is complete.
LONG = ["--epochs", "300", "--logging_steps", "50", "--save_steps", "500", "--per_device_train_batch_size", "4"]
proc = subprocess.Popen(runs.launch_command("dp_sigterm", "model", 2, LONG), stdout=subprocess.DEVNULL,
                        stderr=subprocess.PIPE, text=True)
time.sleep(2.5)
proc.send_signal(signal.SIGTERM)
_, err = proc.communicate(timeout=60)
assert proc.returncode == 0, f"exit {proc.returncode}\n{err}"
lines = [l for l in err.splitlines() if "stopped by SIGTERM after step" in l]
assert len(lines) == 2, err
steps = {int(l.split("after step ")[1].split()[0]) for l in lines}
assert len(steps) == 1, f"ranks stopped at different steps: {lines}"
step = steps.pop()
assert os.path.isfile(runs.path("dp_sigterm", "checkpoints", f"checkpoint-{step}", "trainrt_manifest.json"))
print(f"ok: SIGTERM to the launcher: both ranks stopped after step {step}, checkpoint complete, exit 0")

def stop_rank_1(name, extra):
    """Runs 2 ranks, SIGSTOPs rank 1 after 2 s; the job's stderr and how long it took to end."""
    proc = subprocess.Popen(runs.launch_command(name, "model", 2, LONG + extra), stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True)
    time.sleep(2.0)
    os.kill(rank_pids(proc.pid)[1], signal.SIGSTOP)
    start = time.monotonic()
    _, err = proc.communicate(timeout=120)
    assert proc.returncode != 0, err
    return err, time.monotonic() - start


# A rank that stops answering: the collective timeout ends the job and names it.
err, took = stop_rank_1("dp_hang", ["--ddp_timeout", "3"])
assert "timeout 3 s" in err and "rank(s) 1 did not report" in err and "all_reduce" in err, err
assert took < 30, f"took {took:.0f} s"
print(f"ok: a stopped rank ended the job after {took:.1f} s: " +
      next(l for l in err.splitlines() if "did not report" in l)[:200])

# The same with a long collective timeout: the stall watchdog ends the job first, with the stalled
# thread's stack and "stalled" in the failure report.
err, took = stop_rank_1("dp_stall", ["--ddp_timeout", "600", "--stall_timeout", "4"])
assert "trainrt-finetune: error: rank 0: stalled: no progress for " in err and " in training after step " in err, err
assert "the stalled thread's stack:" in err and "libtorch" in err, err
assert took < 20, f"took {took:.0f} s"
print(f"ok: a stall (a peer stopped, collective timeout 600 s) ended the job after {took:.1f} s: " +
      next(l for l in err.splitlines() if "error: rank 0: stalled" in l)[:200])

# A stop that cannot finish (a peer hung during shutdown) ends at the stop deadline.
proc = subprocess.Popen(runs.launch_command("dp_deadline", "model", 2, LONG), stdout=subprocess.DEVNULL,
                        stderr=subprocess.PIPE, text=True, env=dict(os.environ, TRAINRT_STOP_DEADLINE_SECONDS="2"))
time.sleep(2.0)
pids = rank_pids(proc.pid)
os.kill(pids[1], signal.SIGSTOP)
os.kill(pids[0], signal.SIGTERM)
start = time.monotonic()
_, err = proc.communicate(timeout=120)
assert "stop deadline reached" in err, err
assert time.monotonic() - start < 20, "the deadline did not end rank 0"
print("ok: a stop that cannot complete (peer hung) ends at TRAINRT_STOP_DEADLINE_SECONDS with a message")


# Through `train`, as SageMaker runs the job: natively (2 processes per host) and under mpirun.
def job(name, hyperparameters, extra_env, how):
    base = sagemaker_job(runs.path(name), runs.data, runs.path("model0"), hyperparameters)
    env = dict(os.environ, SAGEMAKER_BASE_DIR=base, TRAINRT_NUM_GPUS="0", TRAINRT_FINETUNER=finetune,
               TRAINRT_MASTER_PORT=str(free_port()), **extra_env)
    p = subprocess.run([os.path.join(os.path.dirname(trainrt), "train")], env=env, capture_output=True, text=True)
    assert p.returncode == 0, f"{name}: exit {p.returncode}\n{p.stderr}\n{p.stdout}"
    assert "data parallel over 2 ranks" in p.stdout + p.stderr, p.stderr
    assert how in p.stdout + p.stderr, (how, p.stderr)
    assert os.path.isfile(base + "/output/success") and os.path.isfile(base + "/model/model.safetensors")
    assert (p.stdout + p.stderr).count("model saved to") == 1, "only rank 0 exports"


HP = {"epochs": "1", "train_batch_size": "4", "learning_rate": "1e-3", "max_seq_length": "32", "logging_steps": "3"}
job("train_native", HP, {"TRAINRT_NPROC_PER_HOST": "2"}, "world size 2, native rendezvous, Gloo")
print("ok: train runs the built-in fine-tuner as 2 data-parallel ranks")
if shutil.which("mpirun"):
    job("train_mpi", dict(HP, sagemaker_mpi_enabled="true", sagemaker_mpi_num_of_processes_per_host="2"), {},
        "world size 2, mpirun")
    print("ok: train runs the built-in fine-tuner as 2 data-parallel ranks under mpirun")
shutil.rmtree(work)
