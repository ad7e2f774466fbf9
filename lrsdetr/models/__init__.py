"""Ultralytics engine classes for LRS-DETR: the model (`RTDETR`) and its trainer, with what they apply to every
run: the authors' training `recipe`, the run folders (`outputs`) and safe loading of checkpoints (`checkpoints`)."""

from .rtdetr import RTDETR
from .trainer import LRSDETRTrainer

__all__ = ("RTDETR", "LRSDETRTrainer")
