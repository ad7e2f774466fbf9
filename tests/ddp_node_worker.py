"""One node of a multi-node `torch.distributed.run` launch of train.py's logic on CPU (gloo): our trainer, one
epoch of LRS-DETR-B; it records the images its sampler gave this rank in the epoch, and the model's parameters
when training starts (after DDP has handed every rank rank 0's) and when the epoch ends.

    python -m torch.distributed.run --nnodes 2 --nproc_per_node 1 --node_rank R --master_addr 127.0.0.1 \
        --master_port PORT tests/ddp_node_worker.py DATA_YAML PROJECT

PROJECT/rank{RANK}.pt gets the record; the run folder is PROJECT/run.
"""

import os
import sys
from pathlib import Path

import torch
from ultralytics.utils.torch_utils import unwrap_model

from lrsdetr.engine.train import train


def parameters(trainer) -> torch.Tensor:
    return torch.cat([p.detach().flatten() for p in unwrap_model(trainer.model).parameters()]).clone()


def main(data_yaml: str, project: str) -> None:
    record = {"rank": int(os.environ["RANK"])}

    def at_start(trainer) -> None:
        record["start"] = parameters(trainer)

    def at_epoch_end(trainer) -> None:
        loader = trainer.train_loader
        record.update(world=trainer.world_size, end=parameters(trainer),
                      seen=[Path(loader.dataset.im_files[i]).name for i in loader.sampler])
        torch.save(record, Path(project, f"rank{record['rank']}.pt"))

    params = {"model": "lrs-detr-b.yaml", "data": data_yaml, "epochs": 1, "imgsz": 64, "batch": 4, "workers": 0,
              "device": "cpu", "optimizer": "AdamW", "lr0": 1e-3, "amp": False, "warmup_iters": 0,
              "project": project, "name": "run", "plots": False}
    train(params, callbacks={"on_train_start": [at_start], "on_train_epoch_end": [at_epoch_end]})


if __name__ == "__main__":
    main(*sys.argv[1:3])
