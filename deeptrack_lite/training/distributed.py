"""Training on several processes: what ``torchrun --nproc_per_node N`` sets up, read once.

``torchrun`` starts N copies of a command and gives each ``RANK``, ``LOCAL_RANK``, ``WORLD_SIZE`` and a rendezvous
address in its environment. :func:`process_group` joins them into one process group (gloo on CPUs, NCCL on CUDA
GPUs) and says which process this is; without torchrun it describes the one process and joins nothing, so a
trainer runs unchanged either way. The trainer decides what is split (MDNet: its domains) and what is shared
(MDNet: the layers under DistributedDataParallel).
"""
from __future__ import annotations

import os
from contextlib import contextmanager
from dataclasses import dataclass

import torch

from ..errors import DataError


@dataclass(frozen=True)
class ProcessGroup:
    """This process's place among ``world`` processes (rank 0 writes the files), and its device."""

    rank: int
    world: int
    device: torch.device
    backend: str | None = None

    @property
    def distributed(self) -> bool:
        return self.world > 1

    @property
    def writes(self) -> bool:
        """Whether this process writes checkpoints, logs and weights (only rank 0 does)."""
        return self.rank == 0

    def all_gather(self, value) -> list:
        """``value`` of every process, by rank (picklable objects; tensors travel on the CPU)."""
        if not self.distributed:
            return [value]
        out = [None] * self.world
        torch.distributed.all_gather_object(out, value)
        return out

    def broadcast_(self, tensors, src: int) -> None:
        """Overwrite ``tensors`` on every process with those of process ``src``."""
        if self.distributed:
            for t in tensors:
                torch.distributed.broadcast(t.data, src=src)


@contextmanager
def process_group(device: torch.device):
    """Join torchrun's processes for the duration (a group already joined by the caller is used and left open);
    outside torchrun, the one process on ``device``. CUDA processes each take the GPU of their local rank."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world <= 1:
        yield ProcessGroup(0, 1, device)
        return
    import torch.distributed as dist

    if not dist.is_available():
        raise DataError("this torch build has no torch.distributed: train in one process")
    local_rank = int(os.environ.get("LOCAL_RANK", "0"))
    if device.type == "cuda":
        device = torch.device("cuda", local_rank)
        torch.cuda.set_device(device)
    backend = "nccl" if device.type == "cuda" else "gloo"
    joined_here = not dist.is_initialized()
    if joined_here:
        # torch.distributed.nn.functional binds the default group into its functions' default arguments when it is
        # first imported, and DistributedDataParallel imports it (through torch._dynamo). Imported after joining, it
        # would keep the group, and gloo's threads, alive after destroy_process_group until the interpreter exits,
        # where those threads now and then abort the process ("terminate called without an active exception").
        import torch.distributed.nn.functional  # noqa: F401

        dist.init_process_group(backend=backend)
    try:
        yield ProcessGroup(dist.get_rank(), dist.get_world_size(), device, dist.get_backend())
        if joined_here:
            dist.barrier()  # leave together: no process closes its connections while another still works
    finally:
        if joined_here:
            dist.destroy_process_group()


__all__ = ["ProcessGroup", "process_group"]
