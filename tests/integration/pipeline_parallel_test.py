#!/usr/bin/env python3
"""Pipeline model parallelism with real processes (trainrt launch / train, Gloo on CPU, tiny BERT):

- 2 stages x 1 (1F1B, 4 microbatches) and 2 stages x 2 replicas (GPipe, spread placement, ddp)
  end with the weights and losses of one process with the same global batch (float tolerance);
- each stage holds only its layers (the stages' parameter counts add up to the model's);
- checkpoints hold one safetensors shard per stage with Hugging Face's index (transformers loads
  them) and resume exactly (dropout on);
- SageMaker's delivery: a job with mp_parameters and MPI runs the pipeline through `train`;
- bad layouts are refused with a line naming the setting.

usage: pipeline_parallel_test.py TRAINRT TRAINRT_FINETUNE SOURCE_DIR
"""
import json
import os
import shutil
import subprocess
import sys

from finetune_harness import Runs, free_port, sagemaker_job
from safetensors.torch import load_file

trainrt, finetune, src = (os.path.abspath(a) for a in sys.argv[1:4])
runs = Runs(src, finetune, trainrt, prefix="trainrt-pp-")
work = runs.work
single, launch, close_runs, history = runs.single, runs.launch, runs.close_runs, runs.history

COMMON = ["--epochs", "2", "--logging_steps", "2", "--eval_strategy", "epoch", "--save_strategy", "no"]
single("one8", "model0", COMMON + ["--per_device_train_batch_size", "8"])
p = launch("pp2x1", "model0", 2, COMMON + ["--per_device_train_batch_size", "8",
                                           "--mp_parameters", "partitions=2,microbatches=4,pipeline=interleaved"])
held = {int(l.split("rank ")[1].split()[0]): int(l.split("holds ")[1].split()[0])
        for l in p.stderr.splitlines() if " holds " in l}
total = sum(v.numel() for v in load_file(runs.path("model0", "model.safetensors")).values())
assert len(held) == 2 and sum(held.values()) == total and max(held.values()) < total, (held, total)
print(f"ok: 2 stages x 1 (1F1B, 4 microbatches) = 1 process (weights within {close_runs('one8', 'pp2x1'):.1e}); "
      f"stages hold {held[0]} + {held[1]} = {total} parameters")

single("one16", "model0", COMMON + ["--per_device_train_batch_size", "16"])
p = launch("pp2x2", "model0", 4, COMMON + ["--per_device_train_batch_size", "8", "--mp_parameters",
                                           "partitions=2,microbatches=2,pipeline=simple,placement_strategy=spread,ddp=True"])
assert "2 stages x 2 replica(s)" in p.stderr and "placement spread" in p.stderr, p.stderr
print(f"ok: 2 stages x 2 replicas (GPipe, spread) = 1 process with twice the batch "
      f"(weights within {close_runs('one16', 'pp2x2'):.1e})")

# Checkpoints: a shard per stage, loadable by transformers; exact resume with dropout on.
STEPS = ["--epochs", "2", "--logging_steps", "3", "--save_steps", "1", "--per_device_train_batch_size", "8",
         "--eval_strategy", "steps", "--eval_steps", "4", "--mp_parameters", "partitions=2,microbatches=2"]
launch("pp_full", "model", 2, STEPS)
ck = os.path.join(work, "pp_full", "checkpoints", "checkpoint-4")
for f in ("model-00001-of-00002.safetensors", "model-00002-of-00002.safetensors", "model.safetensors.index.json",
          "optimizer.safetensors", "rng_state_0.safetensors", "rng_state_1.safetensors"):
    assert os.path.isfile(os.path.join(ck, f)), f"checkpoint lacks {f}"
subprocess.run([sys.executable, "-c", "import sys; from transformers import AutoModelForSequenceClassification as M; "
                "M.from_pretrained(sys.argv[1])", ck], check=True, capture_output=True)
for k in (4, 7):
    name = f"pp_resume{k}"
    shutil.copytree(runs.path("pp_full", "checkpoints", f"checkpoint-{k}"),
                    runs.path(name, "checkpoints", f"checkpoint-{k}"))
    p = launch(name, "model", 2, STEPS)
    assert f"resuming from {work}/{name}/checkpoints/checkpoint-{k} " in p.stderr, p.stderr
    runs.same_run("pp_full", name)
print("ok: pipeline checkpoints are sharded per stage, load in transformers, and resume bit for bit")

# Refusals.
p = launch("bad_div", "model0", 2, COMMON + ["--mp_parameters", "partitions=3"], expect_rc=1)
assert "partitions=3: expected a divisor of the 2 processes" in p.stderr, p.stderr
p = launch("bad_ddp", "model0", 4, COMMON + ["--mp_parameters", "partitions=2"], expect_rc=1)
assert "set ddp=True" in p.stderr, p.stderr
p = single("bad_one", "model0", COMMON + ["--mp_parameters", "partitions=2"], expect_rc=1)
assert "pipeline parallelism needs that many processes" in p.stderr, p.stderr
print("ok: bad pipeline layouts are refused naming the setting")

# As SageMaker delivers it: mp_parameters as a hyperparameter, MPI with 2 processes per host.
if shutil.which("mpirun"):
    base = sagemaker_job(runs.path("job"), runs.data, runs.path("model0"), {
        "epochs": "1", "train_batch_size": "8", "max_seq_length": "32", "logging_steps": "3",
        "mp_parameters": json.dumps({"partitions": 2, "microbatches": 4, "pipeline": "interleaved",
                                     "placement_strategy": "spread", "optimize": "speed", "ddp": True}),
        "sagemaker_mpi_enabled": "true", "sagemaker_mpi_num_of_processes_per_host": "2"})
    env = dict(os.environ, SAGEMAKER_BASE_DIR=base, TRAINRT_NUM_GPUS="0", TRAINRT_FINETUNER=finetune,
               TRAINRT_MASTER_PORT=str(free_port()))
    p = subprocess.run([os.path.join(os.path.dirname(trainrt), "train")], env=env, capture_output=True, text=True)
    out = p.stdout + p.stderr
    assert p.returncode == 0, out
    assert "pipeline of 2 stages x 1 replica(s), 4 microbatches, schedule interleaved" in out, out
    assert "world size 2, mpirun" in out, out
    assert os.path.isfile(base + "/model/model.safetensors") and os.path.isfile(base + "/output/success")
    print("ok: train runs a model-parallel job (mp_parameters + MPI) as a 2-stage pipeline under mpirun")
shutil.rmtree(work)
