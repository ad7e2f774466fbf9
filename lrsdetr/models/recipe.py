"""The authors' training recipe for LRS-DETR (ARCHITECTURE.md section 4), as Ultralytics train arguments.

The authors trained with their fork's defaults: AdamW at a constant 1e-4 (lrf 1.0), weight decay 1e-4, beta1 0.9,
2000 warm-up iterations, no AMP, no mosaic, no early stop, 300 epochs of batch 8 at 640. Ultralytics counts warm-up
in epochs, so `WarmupIterations` converts the iteration count once the number of batches per epoch is known.
"""

from __future__ import annotations

from ultralytics.engine.trainer import BaseTrainer

from ..cfg import IMGSZ

WARMUP_ITERATIONS = 2000

TRAIN_RECIPE = {
    "epochs": 300,
    "batch": 8,
    "imgsz": IMGSZ,
    "optimizer": "AdamW",
    "lr0": 1e-4,
    "lrf": 1.0,  # constant learning rate after warm-up
    "momentum": 0.9,  # AdamW beta1, as in the authors' default.yaml
    "weight_decay": 1e-4,
    "amp": False,  # AMP can give NaNs in RT-DETR's bipartite matching
    "mosaic": 0.0,
    "close_mosaic": 0,
    "patience": 0,  # 0: no early stop, train every epoch
}


class WarmupIterations:
    """Trainer callback (on_pretrain_routine_end): make Ultralytics' epoch-based warm-up last `iterations` batches.

    It runs after the data loaders are built and before the warm-up length is read, in every DDP worker too
    (it is pickled with the trainer's callbacks), and again on resume.
    """

    def __init__(self, iterations: int = WARMUP_ITERATIONS) -> None:
        self.iterations = iterations

    def __call__(self, trainer: BaseTrainer) -> None:
        trainer.args.warmup_epochs = self.iterations / max(len(trainer.train_loader), 1)
