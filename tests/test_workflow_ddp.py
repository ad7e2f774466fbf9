"""Multi-GPU launches, as far as a CPU machine can test them.

Ultralytics' own launch (device='0,1'): the command it generates, and its worker script run for real (on CPU,
outside torchrun): it must unpickle our trainer class and callbacks and build LRS-DETR from a bare config name.
The torchrun launch: train.py under `torch.distributed.run` must stop with one clear line when `device`
does not give each process its own GPU.
"""

import subprocess
import sys
from pathlib import Path

import pytest
import torch
from ultralytics.utils.dist import ddp_cleanup, find_free_network_port, generate_ddp_command

from lrsdetr.engine.recipe import WarmupIterations
from lrsdetr.models import LRSDETRTrainer

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
