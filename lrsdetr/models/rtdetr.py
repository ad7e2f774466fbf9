"""`RTDETR`, the user-facing model: Ultralytics' RT-DETR interface, aware of LRS-DETR configs."""

from __future__ import annotations

import torch
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

    def profile(self, imgsz: int | list[int] = 640) -> None:
        """Time (10 runs), GFLOPs and parameters of every layer on one blank image, as a table in the log.

        Ultralytics 8.4 dropped `Model.profile`, which the authors' README calls; this runs its per-layer
        profiler the same way (the decoder head, the last layer, is not profiled).
        """
        height, width = (imgsz, imgsz) if isinstance(imgsz, int) else imgsz
        parameter = next(self.model.parameters())
        image = torch.zeros(1, 3, height, width, device=parameter.device, dtype=parameter.dtype)
        with torch.inference_mode():
            self.model.predict(image, profile=True)
