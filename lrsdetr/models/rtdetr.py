"""`RTDETR`, the user-facing model: Ultralytics' RT-DETR interface, aware of LRS-DETR configs."""

from __future__ import annotations

from ultralytics.models import rtdetr as ul_rtdetr

from ..cfg import resolve_model_cfg
from ..nn.detection_model import LRSDETRDetectionModel
from .trainer import LRSDETRTrainer


class RTDETR(ul_rtdetr.RTDETR):
    """`RTDETR('lrs-detr-b.yaml')` builds LRS-DETR-B from the packaged config; `RTDETR('best.pt')` reloads it.

    Stock configs and weights (`rtdetr-l.yaml`, ...) work as with Ultralytics' own class.
    """

    def __init__(self, model="lrs-detr-b.yaml"):
        super().__init__(model=resolve_model_cfg(model))

    @property
    def task_map(self) -> dict:
        task_map = super().task_map
        task_map["detect"] = {**task_map["detect"], "trainer": LRSDETRTrainer, "model": LRSDETRDetectionModel}
        return task_map
