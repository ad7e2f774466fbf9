"""Multi-process training, as far as a CPU machine can run it.

Ultralytics 8.4.190's trainer cannot run DDP without CUDA: with device='cpu' it counts no workers (world_size 0,
one process), select_device refuses device='0,1' when CUDA is absent, and its `_setup_ddp` always puts each
worker on a CUDA (or NPU/XPU) device. So:
- the real thing that can run: two processes under torch.distributed.run, joined by gloo, each wrapping our model
  (LRS-DETR-B, and B pruned by LAMP as LRS-DETR-T is) in DistributedDataParallel with Ultralytics' arguments,
  training one epoch on its shard of the data (tests/ddp_worker.py); afterwards every rank holds the same weights;
- Ultralytics' own launch (device='0,1'): the command it generates, and its worker script run on CPU as one
  process (not a DDP run): it must unpickle our trainer class and callbacks and build LRS-DETR from a config name;
- the torchrun launch of train.py must stop with one clear line when `device` does not give each process a GPU.
"""

import json
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from ultralytics.utils.dist import ddp_cleanup, find_free_network_port, generate_ddp_command

from lrsdetr import build_model
from lrsdetr.compress.finetune import save_checkpoint
from lrsdetr.compress.prune import PruneSettings, prune
from lrsdetr.models import LRSDETRTrainer
from lrsdetr.models.recipe import WarmupIterations

REPO = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_ultralytics_ddp_worker_trains_our_model(tiny_data, tmp_path):
    overrides = {"model": "lrs-detr-b.yaml", "data": str(tiny_data), "epochs": 1, "imgsz": 128, "batch": 4, "workers": 0, "device": "cpu",
                 "project": str(tmp_path), "name": "ddp", "plots": False}
    trainer = LRSDETRTrainer(overrides=overrides)
    trainer.add_callback("on_pretrain_routine_end", WarmupIterations(2))
    trainer.world_size = 2  # what device='0,1' gives on a two-GPU machine
    cmd, file = generate_ddp_command(trainer)
    try:
        assert cmd[:5] == [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", "2"] and cmd[-1] == file
        worker = subprocess.run([sys.executable, file], capture_output=True, text=True, timeout=600)  # one worker, on CPU
    finally:
        ddp_cleanup(trainer, file)
    assert worker.returncode == 0, worker.stderr[-3000:]
    best = torch.load(tmp_path / "ddp" / "weights" / "best.pt", map_location="cpu", weights_only=False)
    assert type(best["model"]).__name__ == "LRSDETRDetectionModel"
    assert best["train_args"]["warmup_epochs"] == pytest.approx(1.0)  # our callback ran in the worker: 2 iterations / 2 batches


@pytest.mark.slow
def test_torchrun_with_one_gpu_per_process_missing_is_one_clear_line(tiny_data):
    command = [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", "2", "--master_port", str(find_free_network_port()),
               "train.py", "--data", str(tiny_data), "--device", "0"]
    out = subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=300)
    assert out.returncode != 0
    assert "error: --device 0: torch.distributed.run started 2 processes, so device must list 2 GPUs" in out.stderr


def _pruned_b(folder: Path) -> str:
    """LRS-DETR-B pruned by LAMP to a 1.35x speed-up, counted at 64 px, as a checkpoint. The blocks scope: unrounded
    widths reach 1.35 in 5 steps (the paper scope's rounding to 8 takes more; both are tested in test_prune)."""
    torch.manual_seed(0)
    settings = PruneSettings("lamp", speed_up=1.35, imgsz=64, iterative_steps=5, scope="blocks")
    pruned = prune(build_model("lrs-detr-b.yaml", nc=3), settings)
    return str(save_checkpoint(pruned, folder / "pruned.pt", {}))


@pytest.mark.slow
@pytest.mark.parametrize("model", ["lrs-detr-b.yaml", "pruned"])
def test_two_processes_train_our_model_in_step(tiny_data, tmp_path, model):
    spec = _pruned_b(tmp_path) if model == "pruned" else model
    command = [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", "2", "--master_port", str(find_free_network_port()),
               str(REPO / "tests" / "ddp_worker.py"), spec, str(tiny_data), str(tmp_path)]
    out = subprocess.run(command, capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stderr[-3000:]
    ranks = [json.loads((tmp_path / f"rank{rank}.json").read_text()) for rank in (0, 1)]
    assert all(r["world"] == 2 and r["steps"] == 2 for r in ranks)  # 8 images, batch 4 over 2 ranks
    assert not set(ranks[0]["seen"]) & set(ranks[1]["seen"])  # each rank its own shard ...
    assert len(ranks[0]["seen"] + ranks[1]["seen"]) == 8  # ... together the whole epoch
    assert all(r["largest_difference_between_ranks"] == 0.0 for r in ranks)  # different data, the same weights
    assert all(r["largest_change"] > 0 for r in ranks)  # and they did train
    assert ranks[0]["no_gradient"] == []  # every parameter is used: DDP would also run with find_unused_parameters=False
