"""An interrupted training resumes from last.pt at the next epoch, through train.py --resume.

Ultralytics 8.4.190 resumes only from a checkpoint that still holds its optimizer and epoch: every epoch's
last.pt does, but the final one is stripped. So the first run is cut after its first epoch's checkpoint (a
callback raises, as a crash or Ctrl-C would), and the resumed run must train epoch 2 of 2 with our trainer,
which rebuilds the LRS-DETR model from the checkpoint's YAML.
"""

import csv
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from lrsdetr.engine.train import train

REPO = Path(__file__).resolve().parents[1]


class Interrupted(Exception):
    """Stands for a crash or Ctrl-C after the first epoch's checkpoint."""


def interrupt_after_first_checkpoint(trainer) -> None:
    if trainer.epoch == 0:
        raise Interrupted


@pytest.mark.slow
def test_interrupted_run_resumes_at_the_next_epoch(tiny_data, tmp_path):
    params = {"model": "lrs-detr-b.yaml", "data": str(tiny_data), "epochs": 2, "imgsz": 128, "batch": 4, "workers": 0, "device": "cpu",
              "warmup_iters": 2, "project": str(tmp_path), "name": "run", "plots": False}
    with pytest.raises(Interrupted):
        train(params, callbacks={"on_model_save": [interrupt_after_first_checkpoint]})
    last = tmp_path / "run" / "weights" / "last.pt"
    checkpoint = torch.load(last, map_location="cpu", weights_only=False)
    assert checkpoint["epoch"] == 0
    groups = checkpoint["optimizer"]["param_groups"]  # the recipe's AdamW, saved for the resume to continue
    assert [(g["initial_lr"], g["betas"]) for g in groups] == [(1e-4, (0.9, 0.999))] * len(groups) and len(groups) >= 2

    out = subprocess.run([sys.executable, "train.py", "--resume", str(last)], cwd=REPO, capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stderr[-3000:]
    assert "Resuming training" in out.stdout + out.stderr and "from epoch 2 to 2 total epochs" in out.stdout + out.stderr
    with open(tmp_path / "run" / "results.csv") as file:
        assert [int(float(row["epoch"])) for row in csv.DictReader(file)] == [1, 2]
    assert type(torch.load(tmp_path / "run" / "weights" / "best.pt", map_location="cpu", weights_only=False)["model"]).__name__ == "LRSDETRDetectionModel"
