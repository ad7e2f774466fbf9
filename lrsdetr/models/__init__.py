"""Ultralytics engine classes for LRS-DETR: the model (`RTDETR`) and its trainer, with what they apply to every
run: the authors' training `recipe` and the run folders (`outputs`)."""

from .rtdetr import RTDETR
from .trainer import LRSDETRTrainer

__all__ = ("RTDETR", "LRSDETRTrainer")
