"""Multi-GPU training: Ultralytics' own DDP launch and the seed's `torch.distributed.run` launch.

`device='0,1,2,3'` in a plain `python train.py` makes Ultralytics write a temporary worker script (it pickles our
trainer class, model and callbacks with cloudpickle, by module path) and start it under
`torch.distributed.run`; every worker re-imports `lrsdetr`, so our blocks, configs and callbacks are there.

Under `python -m torch.distributed.run --nproc_per_node N train.py` each of the N processes runs train.py with
RANK, LOCAL_RANK and WORLD_SIZE set. Ultralytics reads them at import, skips its own launch (it sees LOCAL_RANK)
and joins the process group in `_setup_ddp`, but it takes the group's size and each process's GPU from
`device`: device must list exactly N GPUs, one node only. With `device='0'` (the single-GPU habit) the N
processes would each train alone and fail in the distributed sampler. `torchrun_device` makes `device` right.
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
    """The `device` Ultralytics needs in this process: unchanged outside torchrun; under it, one GPU per process.

    An empty device becomes '0,...,N-1' (indices among CUDA_VISIBLE_DEVICES); a device list of the wrong
    length, CPU, or more than one node is a one-line error.
    """
    if not launched_by_torchrun():
        return device
    local, world = int(os.environ.get("LOCAL_WORLD_SIZE", 1)), int(os.environ.get("WORLD_SIZE", 1))
    if world != local:
        raise DataError(f"torch.distributed.run: WORLD_SIZE={world} over several nodes; Ultralytics trains on one node only (use --nnodes 1)")
    if device in (None, ""):
        return ",".join(str(i) for i in range(local))
    gpus = [d for d in str(device).split(",") if d.strip()]
    if str(device).lower() in ("cpu", "mps") or len(gpus) != local:
        raise DataError(
            f"--device {device}: torch.distributed.run started {local} processes, so device must list {local} GPUs "
            f"(e.g. '{','.join(str(i) for i in range(local))}'), or be left empty"
        )
    return device
