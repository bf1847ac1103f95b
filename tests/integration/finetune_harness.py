"""What the multi-process fine-tuning tests share: a work folder with the sentiment data and tiny
BERT models (dropout 0 as "model0", 0.1 as "model"), runs of trainrt-finetune as one process or
under `trainrt launch`, and comparisons of their results (final weights, log_history)."""
import json
import os
import socket
import subprocess
import sys
import tempfile

from safetensors.torch import load_file


class Runs:
    def __init__(self, src, finetune, trainrt=None, prefix="trainrt-test-", train=48, test=13):
        self.src, self.finetune, self.trainrt = src, finetune, trainrt
        self.work = tempfile.mkdtemp(prefix=prefix)
        self.data = os.path.join(self.work, "data")
        subprocess.run([sys.executable, os.path.join(src, "examples/sentiment/make_data.py"), self.data, "--train",
                        str(train), "--test", str(test), "--seed", "3"], check=True)
        make_model = os.path.join(src, "tests/integration/programs/make_tiny_model.py")
        for name, dropout in (("model0", "0.0"), ("model", "0.1")):
            subprocess.run([sys.executable, make_model, os.path.join(self.work, name), self.data, "--dropout", dropout],
                           check=True, capture_output=True)

    def path(self, *parts):
        return os.path.join(self.work, *parts)

    def args(self, name, model, extra):
        out = self.path(name)
        return ["--model_name_or_path", self.path(model), "--training_dir", self.data + "/train", "--test_dir",
                self.data + "/test", "--learning_rate", "1e-3", "--max_seq_length", "32", "--warmup_steps", "2",
                "--weight_decay", "0.01", "--model_dir", out + "/model", "--output_data_dir", out + "/data",
                "--output_dir", out + "/checkpoints"] + extra

    def single(self, name, model, extra, expect_rc=0):
        p = subprocess.run([self.finetune] + self.args(name, model, extra), capture_output=True, text=True)
        assert p.returncode == expect_rc, f"{name}: exit {p.returncode}\n{p.stderr}"
        return p

    def launch_command(self, name, model, nproc, extra):
        return [self.trainrt, "launch", "--nproc-per-node", str(nproc), "--master-port", "0", "--failure-stop", "2",
                "--", self.finetune] + self.args(name, model, extra)

    def launch(self, name, model, nproc, extra, expect_rc=0, env=None):
        p = subprocess.run(self.launch_command(name, model, nproc, extra), capture_output=True, text=True, env=env)
        assert p.returncode == expect_rc, f"{name}: exit {p.returncode}\n{p.stderr}\n{p.stdout}"
        return p

    def history(self, name):
        """log_history without the timing entries (they differ from run to run)."""
        h = json.load(open(self.path(name, "data", "trainer_state.json")))["log_history"]
        return [{k: v for k, v in e.items() if "runtime" not in k and "per_second" not in k} for e in h]

    def weights(self, name):
        return load_file(self.path(name, "model", "model.safetensors"))

    def model_bytes(self, name):
        return open(self.path(name, "model", "model.safetensors"), "rb").read()

    def same_run(self, a, b):
        """Bit for bit: the final weights' file and every log_history entry."""
        assert self.model_bytes(a) == self.model_bytes(b), f"{b}: final weights differ from {a}"
        assert self.history(a) == self.history(b), f"{b}: log history differs from {a}"

    def close_runs(self, a, b, tol=2e-5):
        """To float tolerance: weights within `tol`, losses and learning rates within 1e-5 relative."""
        wa, wb = self.weights(a), self.weights(b)
        assert wa.keys() == wb.keys()
        worst = max((wa[k] - wb[k]).abs().max().item() for k in wa)
        assert worst < tol, f"{a} vs {b}: weights differ by {worst}"
        ha, hb = self.history(a), self.history(b)
        assert len(ha) == len(hb), (ha, hb)
        for x, y in zip(ha, hb):
            assert x.keys() == y.keys() and x["step"] == y["step"], (x, y)
            for k in ("loss", "eval_loss", "train_loss", "learning_rate"):
                if k in x:
                    assert abs(x[k] - y[k]) <= 1e-5 * max(1.0, abs(x[k])), (k, x, y)
        return worst


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def rank_pids(parent):
    """{rank: pid} of the workers a launcher started."""
    pids = subprocess.run(["pgrep", "-P", str(parent)], capture_output=True, text=True).stdout.split()
    ranks = {}
    for pid in pids:
        env = open(f"/proc/{pid}/environ", "rb").read().split(b"\0")
        rank = next((e[5:] for e in env if e.startswith(b"RANK=")), None)
        if rank is not None:
            ranks[int(rank)] = int(pid)
    return ranks


def sagemaker_job(root, data, model, hyperparameters, hosts=("algo-1",), current="algo-1"):
    """An /opt/ml tree under `root` with train/test/model channels, as SageMaker lays it out."""
    import shutil
    base = os.path.join(root, "opt", "ml")
    os.makedirs(base + "/input/config")
    shutil.copytree(data, base + "/input/data")
    shutil.copytree(model, base + "/input/data/model")
    json.dump({"current_host": current, "hosts": list(hosts), "network_interface_name": "lo"},
              open(base + "/input/config/resourceconfig.json", "w"))
    json.dump({c: {"TrainingInputMode": "File"} for c in ("train", "test", "model")},
              open(base + "/input/config/inputdataconfig.json", "w"))
    json.dump(hyperparameters, open(base + "/input/config/hyperparameters.json", "w"))
    return base
