"""LRS-DETR-B -> LRS-DETR-T: structured pruning (`prune`) and distillation (`distill`, `kd_losses`), with pruning.py's
flow (`finetune`). Above engine/ in the package's layers: both flows train through `engine.train`."""

from .prune import PruneSettings, prune

__all__ = ("PruneSettings", "prune")
