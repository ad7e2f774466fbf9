"""Multi-GPU training: Ultralytics' own DDP launch and the seed's `torch.distributed.run` launch.

`device='0,1,2,3'` in a plain `python train.py` makes Ultralytics write a temporary worker script (it pickles our
trainer class, model and callbacks with cloudpickle, by module path) and start it under
`torch.distributed.run`; every worker re-imports `lrsdetr`, so our blocks, configs and callbacks are there.

Under `python -m torch.distributed.run --nproc_per_node N train.py` (on one machine, or with --nnodes M on each
of M machines) each process runs train.py with RANK, LOCAL_RANK and WORLD_SIZE set. Ultralytics reads them at
import and skips its own launch (it sees LOCAL_RANK); our trainer joins the group of all WORLD_SIZE processes
(LRSDETRTrainer), each process on the GPU at its LOCAL_RANK in `device`, so on each machine `device` must list
its N GPUs, or be 'cpu' (gloo). `device='0'` (the single-GPU habit) with N > 1 would fail deep in Ultralytics'
set-up. `torchrun_device` makes `device` right.
"""

from __future__ import annotations

import os

from ..utils.errors import DataError


def launched_by_torchrun() -> bool:
    """True in a process of a multi-process `torch.distributed.run` launch (Ultralytics' rule: WORLD_SIZE > 1)."""
    return int(os.environ.get("WORLD_SIZE", 1)) > 1 and "LOCAL_RANK" in os.environ


def is_main_process() -> bool:
    """Rank 0, or a process outside any distributed launch: the one that prints summaries."""
    return not launched_by_torchrun() or int(os.environ.get("RANK", 0)) == 0


def torchrun_device(device: str | int | None) -> str | int | None:
    """The `device` Ultralytics needs in this process: unchanged outside torchrun; under it, one GPU per process on
    this machine, or the CPU.

    An empty device becomes '0,...,N-1' (N processes on this machine, indices among CUDA_VISIBLE_DEVICES); a device
    list of another length, or MPS, is a one-line error.
    """
    if not launched_by_torchrun() or str(device).lower() == "cpu":
        return device
    local = int(os.environ.get("LOCAL_WORLD_SIZE", 1))
    if device in (None, ""):
        return ",".join(str(i) for i in range(local))
    gpus = [d for d in str(device).split(",") if d.strip()]
    if str(device).lower() == "mps" or len(gpus) != local:
        raise DataError(
            f"--device {device}: torch.distributed.run started {local} processes, so device must list {local} GPUs "
            f"(e.g. '{','.join(str(i) for i in range(local))}'), be cpu, or be left empty"
        )
    return device
