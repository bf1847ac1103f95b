"""An unmodified torch.distributed program: env:// rendezvous, one Gloo all_reduce, then checks.

Writes OUT_DIR/rank<RANK>.txt with what it saw. Fails on purpose when FAIL_RANK == RANK and
TORCHELASTIC_RESTART_COUNT < FAIL_ATTEMPTS (used by the restart test).
"""
import os
import sys

import torch
import torch.distributed as dist

out_dir = sys.argv[sys.argv.index("--out_dir") + 1] if "--out_dir" in sys.argv else sys.argv[1]
rank = int(os.environ["RANK"])
if os.environ.get("FAIL_RANK") == str(rank) and int(os.environ["TORCHELASTIC_RESTART_COUNT"]) < int(
        os.environ.get("FAIL_ATTEMPTS", "99")):
    print(f"rank {rank} failing on purpose", file=sys.stderr, flush=True)
    raise SystemExit(int(os.environ.get("FAIL_CODE", "3")))
dist.init_process_group("gloo")
world = dist.get_world_size()
t = torch.tensor([float(rank + 1)])
dist.all_reduce(t)
assert t.item() == world * (world + 1) / 2, t
assert world == int(os.environ["WORLD_SIZE"])
with open(os.path.join(out_dir, f"rank{rank}.txt"), "w") as f:
    f.write(" ".join(f"{k}={os.environ[k]}" for k in (
        "RANK", "LOCAL_RANK", "WORLD_SIZE", "LOCAL_WORLD_SIZE", "GROUP_RANK", "GROUP_WORLD_SIZE", "ROLE_NAME",
        "TORCHELASTIC_RESTART_COUNT", "TORCHELASTIC_USE_AGENT_STORE")) + f" SUM={t.item()}"
            + f" HOST={os.environ.get('SM_CURRENT_HOST', '-')}\n")
dist.destroy_process_group()
print(f"rank {rank} ok", flush=True)
