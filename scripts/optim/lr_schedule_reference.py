"""transformers' learning-rate schedule lambdas (optimization.py) at every step of a few
(warmup, total) settings, for the schedule unit test. Writes expected.json into the folder given.

usage: lr_schedule_reference.py OUT_DIR
"""
import json
import os
import sys

from transformers import optimization as o

cases = []
for warmup, total in ((0, 10), (3, 10), (7, 50), (10, 10)):
    for step in range(total + 2):
        cases.append({"warmup": warmup, "total": total, "step": step,
                      "linear": o._get_linear_schedule_with_warmup_lr_lambda(
                          step, num_warmup_steps=warmup, num_training_steps=total),
                      "cosine": o._get_cosine_schedule_with_warmup_lr_lambda(
                          step, num_warmup_steps=warmup, num_training_steps=total, num_cycles=0.5),
                      "constant_with_warmup": o._get_constant_schedule_with_warmup_lr_lambda(
                          step, num_warmup_steps=warmup),
                      "constant": o._get_constant_lambda(step)})
json.dump(cases, open(os.path.join(sys.argv[1], "expected.json"), "w"))
