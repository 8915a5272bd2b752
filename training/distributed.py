"""Process-group setup for ``torchrun`` (DistributedDataParallel), or a single process.

Under ``torchrun`` (``WORLD_SIZE`` > 1 in the environment) each process joins the default
group: NCCL on CUDA, one GPU per process (``cuda:LOCAL_RANK``); gloo on the CPU.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import torch
import torch.distributed as dist
from torch import nn
from torch.nn.parallel import DistributedDataParallel

from sr_core.devices import resolve_device


@dataclass(frozen=True)
class Context:
    rank: int
    world: int
    device: torch.device

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    @property
    def distributed(self) -> bool:
        return self.world > 1


def launched() -> bool:
    """Whether this process is one of several that ``torchrun`` started."""
    return int(os.environ.get("WORLD_SIZE", "1")) > 1


def setup(device: str = "auto") -> Context:
    """The device and rank of this process, joining the process group under ``torchrun``."""
    if not launched():
        return Context(0, 1, resolve_device(device))
    world = int(os.environ["WORLD_SIZE"])
    rank, local_rank = int(os.environ["RANK"]), int(os.environ.get("LOCAL_RANK", "0"))
    base = resolve_device(device)
    if base.type == "cuda":
        target = torch.device("cuda", local_rank)
        torch.cuda.set_device(target)
        dist.init_process_group("nccl")
    elif base.type == "cpu":
        target = base
        dist.init_process_group("gloo")
    else:
        raise ValueError(f"distributed training supports CUDA and CPU devices, not {base}")
    return Context(rank, world, target)


def teardown(ctx: Context) -> None:
    if ctx.distributed and dist.is_initialized():
        dist.destroy_process_group()


def wrap(module: nn.Module, ctx: Context, find_unused: bool = False) -> nn.Module:
    """``module`` in DistributedDataParallel when there are several processes."""
    if not ctx.distributed:
        return module
    ids = [ctx.device.index] if ctx.device.type == "cuda" else None
    return DistributedDataParallel(module, device_ids=ids, find_unused_parameters=find_unused)
