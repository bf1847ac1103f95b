"""torch.optim.AdamW (fused, as Trainer's adamw_torch_fused) on fixed parameters and gradients, for
the AdamW unit test: two parameter groups (weight decay 0.01 and 0), three steps at changing
learning rates. Writes expected.json into the folder given as the argument.

usage: adamw_reference.py OUT_DIR
"""
import json
import os
import sys

import torch

out = sys.argv[1]
torch.manual_seed(0)
init = [torch.randn(3, 4), torch.randn(5)]
grads = [[torch.randn(3, 4), torch.randn(5)] for _ in range(3)]
lrs = [1e-3, 5e-4, 2.5e-4]
params = [p.clone().requires_grad_() for p in init]
opt = torch.optim.AdamW([{"params": [params[0]], "weight_decay": 0.01}, {"params": [params[1]], "weight_decay": 0.0}],
                        lr=lrs[0], betas=(0.9, 0.999), eps=1e-8, fused=True)
after = []
for lr, step_grads in zip(lrs, grads):
    for group in opt.param_groups:
        group["lr"] = lr
    for p, g in zip(params, step_grads):
        p.grad = g.clone()
    opt.step()
    after.append([p.detach().flatten().tolist() for p in params])
state = opt.state[params[0]]
json.dump({"init": [p.flatten().tolist() for p in init], "shapes": [list(p.shape) for p in init],
           "grads": [[g.flatten().tolist() for g in s] for s in grads], "lrs": lrs, "after": after,
           "exp_avg": state["exp_avg"].flatten().tolist(), "exp_avg_sq": state["exp_avg_sq"].flatten().tolist(),
           "step": float(state["step"])}, open(os.path.join(out, "expected.json"), "w"))
