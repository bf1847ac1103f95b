"""One NCCL all_reduce per GPU through the launcher's store (the NCCL unique id travels through it)."""
import os

import torch
import torch.distributed as dist

local_rank = int(os.environ["LOCAL_RANK"])
torch.cuda.set_device(local_rank)
dist.init_process_group("nccl")
t = torch.full((1024,), float(dist.get_rank() + 1), device="cuda")
dist.all_reduce(t)
world = dist.get_world_size()
assert t[0].item() == world * (world + 1) / 2
dist.barrier()
print(f"nccl ok: rank {dist.get_rank()}/{world} on {torch.cuda.get_device_name(local_rank)} sum {t[0].item()}", flush=True)
dist.destroy_process_group()
