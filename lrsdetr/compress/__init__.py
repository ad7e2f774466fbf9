"""LRS-DETR-B -> LRS-DETR-T: structured pruning (`prune`) and distillation (`distill`, `kd_losses`)."""

from .prune import prune

__all__ = ("prune",)
