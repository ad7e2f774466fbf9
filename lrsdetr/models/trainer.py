"""Ultralytics' RT-DETR trainer, building our detection model."""

from __future__ import annotations

from ultralytics.models.rtdetr.train import RTDETRTrainer
from ultralytics.utils import RANK

from ..nn.detection_model import LRSDETRDetectionModel


class LRSDETRTrainer(RTDETRTrainer):
    """RT-DETR training (loss, data, validation) with LRS-DETR blocks in the model.

    Only `get_model` differs. Ultralytics' DDP launcher re-imports this class by its module path in each
    worker, so the workers build the same model.
    """

    def get_model(self, cfg=None, weights=None, verbose=True):
        model = LRSDETRDetectionModel(cfg, nc=self.data["nc"], ch=self.data["channels"], verbose=verbose and RANK == -1)
        model = self.set_model_names_for_load(model)
        if weights:
            model.load(weights)
        return model
