#!/usr/bin/env python3
"""Launcher overhead: trainrt against its Python peers, measured in the same run.

  1. `trainrt launch` vs `torchrun` starting 2 workers of /bin/true (pure launcher cost);
  2. `trainrt launch` vs `torchrun` running 2 real Gloo workers (init_process_group + all_reduce);
  3. `train` vs the sagemaker-training toolkit's `train` running a script-mode job whose entry
     point is a shell script that exits at once (contract + supervisor cost).
Reports the median of --runs wall-clock times for each and the peer/trainrt ratio.

    .venv/bin/python scripts/bench/launch_overhead.py [--runs 10]
"""
import argparse
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BIN = os.path.join(ROOT, "build", "bin")
VENV_BIN = os.path.dirname(sys.executable)


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def timed(cmd, env=None, runs=10):
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(cmd, env=env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def job_tree(tmp):
    base = os.path.join(tmp, "opt", "ml")
    os.makedirs(os.path.join(base, "input", "config"))
    os.makedirs(os.path.join(base, "code"))
    with open(os.path.join(base, "code", "noop.sh"), "w") as f:
        f.write("exit 0\n")
    files = {
        "resourceconfig.json": {"current_host": "localhost", "hosts": ["localhost"], "current_instance_type": "local"},
        "inputdataconfig.json": {"train": {"TrainingInputMode": "File"}},
        "hyperparameters.json": {"sagemaker_program": json.dumps("noop.sh"), "epochs": "1"},
    }
    for name, content in files.items():
        with open(os.path.join(base, "input", "config", name), "w") as f:
            json.dump(content, f)
    return base


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=10)
    args = parser.parse_args()
    torchrun = os.path.join(VENV_BIN, "torchrun")
    ddp = os.path.join(ROOT, "tests", "integration", "programs", "ddp_check.py")
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        env = dict(os.environ, OMP_NUM_THREADS="1")
        rows.append(("2 x /bin/true",
                     timed([os.path.join(BIN, "trainrt"), "launch", "--nproc-per-node", "2", "--master-port", "0", "--",
                            "/bin/true"], env, args.runs),
                     timed([torchrun, "--nproc-per-node", "2", "--master-port", str(free_port()), "--no-python",
                            "/bin/true"], env, args.runs), "torchrun"))
        out = os.path.join(tmp, "ddp")
        os.makedirs(out)
        rows.append(("2 Gloo workers: init + all_reduce",
                     timed([os.path.join(BIN, "trainrt"), "launch", "--nproc-per-node", "2", "--master-port", "0", "--",
                            sys.executable, ddp, out], env, args.runs),
                     timed([torchrun, "--nproc-per-node", "2", "--master-port", str(free_port()), ddp, out], env,
                           args.runs), "torchrun"))
        base = job_tree(tmp)
        job_env = dict(env, SAGEMAKER_BASE_DIR=base, TRAINRT_NUM_GPUS="0")
        rows.append(("script-mode job, entry point exits at once",
                     timed([os.path.join(BIN, "train")], job_env, args.runs),
                     timed([os.path.join(VENV_BIN, "train")], job_env, args.runs), "sagemaker-training train"))
    print(f"| case | trainrt (s) | peer (s) | peer | peer / trainrt |")
    print(f"|---|---|---|---|---|")
    for name, ours, peer, peer_name in rows:
        print(f"| {name} | {ours:.3f} | {peer:.3f} | {peer_name} | {peer / ours:.1f}x |")


if __name__ == "__main__":
    main()
