#!/usr/bin/env python3
"""`trainrt local`: SageMaker local mode without Docker, with real processes.

- a 2-host job of the built-in fine-tuner (tiny BERT, CPU): the per-host /opt/ml trees and config
  files are the SDK's, both hosts train (data parallel across them), only one writes the model,
  and model.tar.gz / output.tar.gz hold what SageMaker would upload;
- --interrupt-after stops the job as a spot interruption does and starts it again on the same
  checkpoints until it completes; --max-run stops it at the limit (exit 124, MaxRuntimeExceeded);
- script mode from a folder and from a git repository (the SDK's git_config); a failing script's
  reason lands in OUTPUT/failure.

usage: local_mode_test.py TRAINRT SOURCE_DIR
"""
import json
import os
import re
import subprocess
import sys
import tarfile
import tempfile
import time

trainrt, src = (os.path.abspath(a) for a in sys.argv[1:3])
work = tempfile.mkdtemp(prefix="trainrt-localmode-")
data = os.path.join(work, "data")
subprocess.run([sys.executable, os.path.join(src, "examples/sentiment/make_data.py"), data, "--train", "48", "--test",
                "12", "--seed", "3"], check=True)
model = os.path.join(work, "model")
subprocess.run([sys.executable, os.path.join(src, "tests/integration/programs/make_tiny_model.py"), model, data],
               check=True, capture_output=True)
CHANNELS = ["--channel", f"train={data}/train", "--channel", f"test=file://{data}/test", "--channel", f"model={model}"]


def local(args, expect_rc=0, timeout=300):
    p = subprocess.run([trainrt, "local"] + args, capture_output=True, text=True, timeout=timeout)
    assert p.returncode == expect_rc, f"exit {p.returncode}\n{p.stderr}\n{p.stdout}"
    return p


# ---- 2 hosts, built-in fine-tuner ----
out = os.path.join(work, "two-hosts")
p = local(CHANNELS + ["--hp", "epochs=2", "--hp", "train_batch_size=4", "--hp", "max_seq_length=32", "--hp",
                      "logging_steps=3", "--hp", "learning_rate=1e-3", "--hp", "text_column=text",
                      "--instance-count", "2", "--output-path", out, "--keep", "--job-name", "sentiment-job"])
log = p.stdout + p.stderr
hosts = sorted(set(re.findall(r"\[(algo-\d-[a-z0-9]{5})\]", log)))
assert len(hosts) == 2 and hosts[0][7:] == hosts[1][7:], hosts
assert "===== Job Complete =====" in p.stdout
assert log.count("model saved to") == 1, "one host exports the model"
assert "data parallel over 2 ranks" in log
tree = re.search(r"host trees kept in (\S+)", log).group(1)
config = os.path.join(tree, "attempt-1", hosts[1], "input", "config")
resource = open(os.path.join(config, "resourceconfig.json")).read()
assert resource == json.dumps({"current_host": hosts[1], "hosts": hosts, "network_interface_name": "eth0",
                               "current_instance_type": "local"}), resource
hps = json.load(open(os.path.join(config, "hyperparameters.json")))
assert hps == {"epochs": "2", "train_batch_size": "4", "max_seq_length": "32", "logging_steps": "3",
               "learning_rate": "0.001", "text_column": "\"text\""}, hps
assert json.load(open(os.path.join(config, "inputdataconfig.json"))) == \
    {c: {"TrainingInputMode": "File"} for c in ("train", "test", "model")}
with tarfile.open(os.path.join(out, "model.tar.gz")) as t:
    names = t.getnames()
for f in ("config.json", "model.safetensors", "vocab.txt", "tokenizer_config.json"):
    assert f in names, names
with tarfile.open(os.path.join(out, "output.tar.gz")) as t:
    names = t.getnames()
    logs = {h: t.extractfile(f"data/trainrt-logs/{h}/attempt_0/rank_{i}.log").read().decode()
            for i, h in enumerate(hosts)}
assert "success" in names and "data/eval_results.txt" in names, names
assert "no checkpoint to resume from" in logs[hosts[0]] and "data parallel" in logs[hosts[0]], "host 1 trained"
assert os.path.getsize(os.path.join(tree, "attempt-1", hosts[1], "output", "data", "trainrt-logs", hosts[1],
                                    "attempt_0", "rank_1.log")) >= 0
print(f"ok: 2-host local job ({', '.join(hosts)}): SDK config files, one model writer, model.tar.gz and output.tar.gz")

# ---- spot interruption and max_run ----
LONG = ["--hp", "epochs=200", "--hp", "train_batch_size=4", "--hp", "max_seq_length=32", "--hp", "logging_steps=500",
        "--hp", "save_steps=1000"]
out = os.path.join(work, "spot")
start = time.monotonic()
p = local(CHANNELS + LONG + ["--output-path", out, "--interrupt-after", "3"])
log = p.stderr
assert "attempt 1 stopped: simulated spot interruption after 3 s" in log, log
step = int(re.search(r"stopped by SIGTERM after step (\d+)", log).group(1))
assert f"resuming from {out}/checkpoints/checkpoint-{step} " in log, log
assert "===== Job Complete =====" in p.stdout and "attempt 2: starting" in log
print(f"ok: --interrupt-after: stopped at step {step}, restarted on the same checkpoints, completed")

out = os.path.join(work, "maxrun")
p = local(CHANNELS + LONG + ["--output-path", out, "--max-run", "3"], expect_rc=124)
assert "max run of 3 s reached (MaxRuntimeExceeded)" in p.stderr, p.stderr
assert open(os.path.join(out, "failure")).read().startswith("MaxRuntimeExceeded")
assert any(n.startswith("checkpoint-") for n in os.listdir(os.path.join(out, "checkpoints")))
print("ok: --max-run: SIGTERM at the limit, a checkpoint, exit 124 and MaxRuntimeExceeded")

# ---- script mode: a folder, a git repository, a failure ----
code = os.path.join(work, "code")
os.makedirs(code)
with open(os.path.join(code, "job.py"), "w") as f:
    f.write("import json, os, sys\n"
            "assert sys.argv[1:] == ['--lr', '0.1', '--name', 'x y'], sys.argv\n"
            "open(os.path.join(os.environ['SM_MODEL_DIR'], os.environ['SM_CURRENT_HOST'] + '.json'), 'w').write(\n"
            "    json.dumps({k: os.environ.get(k) for k in ('SM_HOSTS', 'SM_CHANNEL_TRAIN', 'SM_MODULE_NAME',\n"
            "                                               'CUDA_VISIBLE_DEVICES')}))\n"
            "sys.exit(int(os.environ.get('FAIL', '0')))\n")
with open(os.path.join(work, "hp.json"), "w") as f:
    json.dump({"lr": 0.1, "name": "x y"}, f)
SCRIPT = ["--channel", f"train={data}/train", "--hyperparameters", os.path.join(work, "hp.json"),
          "--entry-point", "job.py"]
out = os.path.join(work, "script")
p = local(SCRIPT + ["--source-dir", code, "--output-path", out, "--instance-count", "2",
                    "--env", f"TRAINRT_PYTHON={sys.executable}"])
with tarfile.open(os.path.join(out, "model.tar.gz")) as t:
    written = sorted(n for n in t.getnames() if n.endswith(".json"))
    first = json.loads(t.extractfile(written[0]).read())
assert len(written) == 2 and first["SM_MODULE_NAME"] == "job" and first["SM_CHANNEL_TRAIN"].endswith("/input/data/train")
assert first["CUDA_VISIBLE_DEVICES"] == "", "instance type local hides the GPUs, as the SDK's container has none"
print("ok: script mode on 2 hosts: both hosts ran job.py with the SDK's arguments, shared model dir, no GPUs")
# Without --source-dir the entry point file alone is the code (the SDK uploads just that file).
out = os.path.join(work, "single-file")
p = local(["--channel", f"train={data}/train", "--hyperparameters", os.path.join(work, "hp.json"), "--entry-point",
           os.path.join(code, "job.py"), "--output-path", out, "--env", f"TRAINRT_PYTHON={sys.executable}"])
assert "===== Job Complete =====" in p.stdout
print("ok: --entry-point without --source-dir runs that file alone")

repo = os.path.join(work, "repo")
os.makedirs(os.path.join(repo, "src"))
os.replace(os.path.join(code, "job.py"), os.path.join(repo, "src", "job.py"))
git = ["git", "-C", repo, "-c", "user.name=t", "-c", "user.email=t@t"]
subprocess.run(["git", "init", "-q", "-b", "main", repo], check=True)
subprocess.run(git + ["add", "."], check=True)
subprocess.run(git + ["commit", "-q", "-m", "job"], check=True)
subprocess.run(git + ["branch", "release"], check=True)
out = os.path.join(work, "git")
p = local(SCRIPT + ["--git-repo", f"file://{repo}", "--git-branch", "release", "--source-dir", "src",
                    "--output-path", out, "--env", f"TRAINRT_PYTHON={sys.executable}"])
assert "===== Job Complete =====" in p.stdout
out = os.path.join(work, "fail")
p = local(SCRIPT + ["--git-repo", f"file://{repo}", "--source-dir", "src", "--output-path", out,
                    "--env", f"TRAINRT_PYTHON={sys.executable}", "--env", "FAIL=3"], expect_rc=3)
assert "exited with code 3" in open(os.path.join(out, "failure")).read()
print("ok: --git-repo with --git-branch runs the checkout's script; a failure's reason lands in OUTPUT/failure")

p = local(["--channel", "train=/nonexistent", "--output-path", out], expect_rc=2)
assert "--channel train=/nonexistent: no such folder" in p.stderr, p.stderr
print("ok: a missing channel folder is refused naming it")
