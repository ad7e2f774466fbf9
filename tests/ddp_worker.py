"""One rank of a real two-process DistributedDataParallel run on CPU (gloo), our model wrapped the way Ultralytics'
trainer wraps it on GPUs (`_setup_train`): one epoch of optimizer steps on this rank's shard of the data, then a
record of what the test checks (parameters on every rank, images seen, parameters that got no gradient).

    python -m torch.distributed.run --nproc_per_node 2 tests/ddp_worker.py MODEL DATA_YAML OUT_DIR

MODEL: a config name, or a checkpoint whose model is trained as it is (a pruned model).
"""

import json
import sys
from pathlib import Path

import torch
import torch.distributed as dist
from torch.nn.parallel import DistributedDataParallel
from ultralytics.cfg import get_cfg
from ultralytics.data import build_dataloader
from ultralytics.data.utils import check_det_dataset
from ultralytics.models.rtdetr.val import RTDETRDataset
from ultralytics.utils.torch_utils import TORCH_2_13

from lrsdetr.nn.detection_model import LRSDETRDetectionModel

BATCH, IMGSZ = 4, 64  # total over both ranks, as Ultralytics' `batch`


def load_model(spec: str, nc: int) -> torch.nn.Module:
    if spec.endswith(".pt"):
        return torch.load(spec, map_location="cpu", weights_only=False)["model"].float()
    return LRSDETRDetectionModel(spec, nc=nc, verbose=False)


def wrap_as_ultralytics_does(model: torch.nn.Module) -> DistributedDataParallel:
    """Ultralytics 8.4.190's arguments (no torch.compile), with no device_ids: the model is on the CPU."""
    buffers = "forward_sync_buffers" if TORCH_2_13 else "broadcast_buffers"
    return DistributedDataParallel(model, device_ids=None, find_unused_parameters=True, static_graph=False, **{buffers: False})


def main(spec: str, data_yaml: str, out: str) -> None:
    dist.init_process_group("gloo")
    rank, world = dist.get_rank(), dist.get_world_size()
    torch.manual_seed(rank)  # each rank starts from other weights: DDP must hand every rank rank 0's
    info = check_det_dataset(data_yaml)
    model = load_model(spec, info["nc"]).train()
    hyp = get_cfg(overrides={"imgsz": IMGSZ})
    model.nc, model.names, model.args = info["nc"], info["names"], hyp  # the trainer's set_model_attributes
    for parameter in model.parameters():
        parameter.requires_grad_(True)
    ddp = wrap_as_ultralytics_does(model)
    start = torch.cat([p.detach().flatten() for p in model.parameters()]).clone()
    dataset = RTDETRDataset(img_path=info["train"], imgsz=IMGSZ, batch_size=BATCH // world, augment=False,
                            hyp=hyp, rect=False, data=info)
    loader = build_dataloader(dataset, BATCH // world, workers=0, shuffle=True, rank=rank)  # a DistributedSampler
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3)
    seen, no_gradient = [], set()
    for batch in loader:  # one epoch: this rank's share of the images
        seen += [Path(name).name for name in batch["im_file"]]
        batch["img"] = batch["img"].float() / 255
        loss, _ = ddp(batch)
        (loss.sum() * world).backward()  # as the trainer scales it
        no_gradient |= {name for name, p in model.named_parameters() if p.grad is None}
        torch.nn.utils.clip_grad_norm_(model.parameters(), max_norm=10.0)
        optimizer.step()
        optimizer.zero_grad()
    end = torch.cat([p.detach().flatten() for p in model.parameters()])
    every_rank = [torch.empty_like(end) for _ in range(world)]
    dist.all_gather(every_rank, end)
    record = {"rank": rank, "world": world, "seen": seen, "no_gradient": sorted(no_gradient), "steps": len(loader),
              "largest_difference_between_ranks": max((other - end).abs().max().item() for other in every_rank),
              "largest_change": (end - start).abs().max().item()}
    Path(out, f"rank{rank}.json").write_text(json.dumps(record))
    dist.destroy_process_group()


if __name__ == "__main__":
    main(*sys.argv[1:4])
