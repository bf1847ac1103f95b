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
import tempfile

from safetensors.torch import load_file

trainrt, finetune, src = (os.path.abspath(a) for a in sys.argv[1:4])
work = tempfile.mkdtemp(prefix="trainrt-pp-")
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


def launch(name, model, nproc, extra, expect_rc=0):
    cmd = [trainrt, "launch", "--nproc-per-node", str(nproc), "--master-port", "0", "--failure-stop", "2", "--",
           finetune] + args(name, model, extra)
    p = subprocess.run(cmd, capture_output=True, text=True)
    assert p.returncode == expect_rc, f"{name}: exit {p.returncode}\n{p.stderr}\n{p.stdout}"
    return p


def history(name):
    h = json.load(open(os.path.join(work, name, "data", "trainer_state.json")))["log_history"]
    return [{k: v for k, v in e.items() if "runtime" not in k and "per_second" not in k} for e in h]


def close_runs(a, b, tol=2e-5):
    wa = load_file(os.path.join(work, a, "model", "model.safetensors"))
    wb = load_file(os.path.join(work, b, "model", "model.safetensors"))
    assert wa.keys() == wb.keys()
    worst = max((wa[k] - wb[k]).abs().max().item() for k in wa)
    assert worst < tol, f"{a} vs {b}: weights differ by {worst}"
    for x, y in zip(history(a), history(b)):
        assert x["step"] == y["step"], (x, y)
        for k in ("loss", "eval_loss", "train_loss", "learning_rate"):
            if k in x:
                assert abs(x[k] - y[k]) <= 1e-5 * max(1.0, abs(x[k])), (k, x, y)
    return worst


COMMON = ["--epochs", "2", "--logging_steps", "2", "--eval_strategy", "epoch", "--save_strategy", "no"]
single("one8", "model0", COMMON + ["--per_device_train_batch_size", "8"])
p = launch("pp2x1", "model0", 2, COMMON + ["--per_device_train_batch_size", "8",
                                           "--mp_parameters", "partitions=2,microbatches=4,pipeline=interleaved"])
held = {int(l.split("rank ")[1].split()[0]): int(l.split("holds ")[1].split()[0])
        for l in p.stderr.splitlines() if " holds " in l}
total = sum(v.numel() for v in load_file(os.path.join(work, "model0", "model.safetensors")).values())
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
    os.makedirs(os.path.join(work, name, "checkpoints"))
    shutil.copytree(os.path.join(work, "pp_full", "checkpoints", f"checkpoint-{k}"),
                    os.path.join(work, name, "checkpoints", f"checkpoint-{k}"))
    p = launch(name, "model", 2, STEPS)
    assert f"resuming from {work}/{name}/checkpoints/checkpoint-{k} " in p.stderr, p.stderr
    assert open(os.path.join(work, name, "model", "model.safetensors"), "rb").read() == \
        open(os.path.join(work, "pp_full", "model", "model.safetensors"), "rb").read(), f"{name}: weights differ"
    assert history(name) == history("pp_full"), f"{name}: history differs"
print("ok: pipeline checkpoints are sharded per stage, load in transformers, and resume bit for bit")

# Refusals.
p = launch("bad_div", "model0", 2, COMMON + ["--mp_parameters", "partitions=3"], expect_rc=1)
assert "partitions=3: expected a divisor of the 2 processes" in p.stderr, p.stderr
p = launch("bad_ddp", "model0", 4, COMMON + ["--mp_parameters", "partitions=2"], expect_rc=1)
assert "set ddp=True" in p.stderr, p.stderr
p = subprocess.run([finetune] + args("bad_one", "model0", COMMON + ["--mp_parameters", "partitions=2"]),
                   capture_output=True, text=True)
assert p.returncode == 1 and "pipeline parallelism needs that many processes" in p.stderr, p.stderr
print("ok: bad pipeline layouts are refused naming the setting")

# As SageMaker delivers it: mp_parameters as a hyperparameter, MPI with 2 processes per host.
if shutil.which("mpirun"):
    base = os.path.join(work, "job", "opt", "ml")
    os.makedirs(base + "/input/config")
    shutil.copytree(data, base + "/input/data")
    shutil.copytree(os.path.join(work, "model0"), base + "/input/data/model")
    json.dump({"current_host": "algo-1", "hosts": ["algo-1"], "network_interface_name": "lo"},
              open(base + "/input/config/resourceconfig.json", "w"))
    json.dump({c: {"TrainingInputMode": "File"} for c in ("train", "test", "model")},
              open(base + "/input/config/inputdataconfig.json", "w"))
    json.dump({"epochs": "1", "train_batch_size": "8", "max_seq_length": "32", "logging_steps": "3",
               "mp_parameters": json.dumps({"partitions": 2, "microbatches": 4, "pipeline": "interleaved",
                                            "placement_strategy": "spread", "optimize": "speed", "ddp": True}),
               "sagemaker_mpi_enabled": "true", "sagemaker_mpi_num_of_processes_per_host": "2"},
              open(base + "/input/config/hyperparameters.json", "w"))
    free = subprocess.run([sys.executable, "-c", "import socket; s=socket.socket(); s.bind(('127.0.0.1', 0)); "
                           "print(s.getsockname()[1])"], capture_output=True, text=True).stdout.strip()
    env = dict(os.environ, SAGEMAKER_BASE_DIR=base, TRAINRT_NUM_GPUS="0", TRAINRT_FINETUNER=finetune,
               TRAINRT_MASTER_PORT=free)
    p = subprocess.run([os.path.join(os.path.dirname(trainrt), "train")], env=env, capture_output=True, text=True)
    out = p.stdout + p.stderr
    assert p.returncode == 0, out
    assert "pipeline of 2 stages x 1 replica(s), 4 microbatches, schedule interleaved" in out, out
    assert os.path.isfile(base + "/model/model.safetensors") and os.path.isfile(base + "/output/success")
    print("ok: train runs a model-parallel job (mp_parameters + MPI) as a 2-stage pipeline")
shutil.rmtree(work)
