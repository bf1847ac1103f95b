"""Print, as JSON, the environment the real sagemaker-training toolkit builds for one job.

Run by gen_golden.py in a fresh interpreter per case, with SAGEMAKER_BASE_DIR pointing at the
case's /opt/ml tree (the toolkit computes its paths at import time). Device counts are stubbed the
way the toolkit's own unit tests stub them. Reads the case's stub settings from argv[1] (JSON).
"""
import json
import os
import sys

stub = json.loads(sys.argv[1])

from sagemaker_training import environment  # noqa: E402  (import after SAGEMAKER_BASE_DIR is set)

environment.num_gpus = lambda: stub["gpus"]
environment.num_cpus = lambda: stub["cpus"]

env = environment.Environment()
sm_vars = env.to_env_vars()
extra = {k: os.environ.get(k) for k in ("SAGEMAKER_JOB_NAME", "SAGEMAKER_REGION", "CURRENT_HOST")}
json.dump({"sm_env": [[k, v] for k, v in sm_vars.items()], "extra": extra}, sys.stdout, ensure_ascii=True)
