#!/usr/bin/env python3
"""Regenerate tests/data/contract/: job configurations and what the real toolkit makes of them.

For every case in corpus.py this writes <case>/case.json (the config files' exact text, the
environment variables and device counts) and <case>/expected.json (the SM_* variables, in order,
that sagemaker-training's Environment().to_env_vars() returns, plus SAGEMAKER_JOB_NAME,
SAGEMAKER_REGION and CURRENT_HOST). The base directory is written as @BASE@ so that the C++
parity test can run anywhere. Needs sagemaker-training in the interpreter running it
(scripts/setup.sh installs it into .venv):

    .venv/bin/python scripts/contract/gen_golden.py
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
OUT = os.path.join(ROOT, "tests", "data", "contract")
BASE = "@BASE@"

sys.path.insert(0, HERE)
import corpus  # noqa: E402

# Variables that the toolkit reads and that must not leak from the generating machine.
CONTROLLED = ("SAGEMAKER_PROGRAM", "SAGEMAKER_SUBMIT_DIRECTORY", "SAGEMAKER_TRAINING_MODULE",
              "TRAINING_JOB_NAME", "SM_HP_MP_PARAMETERS", "AWS_REGION", "AWS_DEFAULT_REGION",
              "AWS_PROFILE", "AWS_CONFIG_FILE", "SAGEMAKER_CONTAINER_LOG_LEVEL", "CURRENT_HOST")


def run_case(case):
    with tempfile.TemporaryDirectory() as tmp:
        base = os.path.join(tmp, "opt", "ml")
        config = os.path.join(base, "input", "config")
        os.makedirs(config)
        for name, text in case["files"].items():
            with open(os.path.join(config, name), "w", encoding="utf-8") as f:
                f.write(text)
        env = {k: v for k, v in os.environ.items() if k not in CONTROLLED}
        env.update(case["env"])
        env["SAGEMAKER_BASE_DIR"] = base
        env["AWS_CONFIG_FILE"] = os.path.join(tmp, "no-aws-config")
        out = subprocess.run(
            [sys.executable, os.path.join(HERE, "toolkit_env.py"), json.dumps(case["devices"])],
            env=env, check=True, capture_output=True, text=True).stdout
        return json.loads(out.replace(base, BASE))


def main():
    check = "--check" in sys.argv[1:]
    cases = corpus.cases()
    if check:
        return compare(cases)
    if os.path.isdir(OUT):
        shutil.rmtree(OUT)
    os.makedirs(OUT)
    for name, case in cases.items():
        expected = run_case(case)
        folder = os.path.join(OUT, name)
        os.makedirs(folder)
        with open(os.path.join(folder, "case.json"), "w", encoding="utf-8") as f:
            json.dump(case, f, indent=1, ensure_ascii=True, sort_keys=True)
            f.write("\n")
        with open(os.path.join(folder, "expected.json"), "w", encoding="utf-8") as f:
            json.dump(expected, f, indent=1, ensure_ascii=True)
            f.write("\n")
        print(f"{name}: {len(expected['sm_env'])} variables")
    print(f"wrote {len(cases)} cases to {os.path.relpath(OUT, ROOT)}")


def compare(cases):
    """--check: rerun the toolkit on the committed cases and compare with the committed goldens."""
    stale = []
    for name, case in cases.items():
        with open(os.path.join(OUT, name, "expected.json"), encoding="utf-8") as f:
            committed = json.load(f)
        if run_case(case) != committed:
            stale.append(name)
    if stale:
        print("golden files differ from the installed toolkit's output: " + ", ".join(stale))
        return 1
    print(f"{len(cases)} golden files match the installed sagemaker-training toolkit")
    return 0


if __name__ == "__main__":
    sys.exit(main())
