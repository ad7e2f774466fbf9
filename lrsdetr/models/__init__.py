"""Ultralytics engine classes (model, trainer) for LRS-DETR."""

from .rtdetr import RTDETR
from .trainer import LRSDETRTrainer

__all__ = ("RTDETR", "LRSDETRTrainer")
