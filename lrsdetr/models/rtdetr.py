"""`RTDETR`, the user-facing model: Ultralytics' RT-DETR interface, aware of LRS-DETR configs."""

from __future__ import annotations

import torch
from ultralytics.cfg import DEFAULT_CFG_DICT
from ultralytics.models import rtdetr as ul_rtdetr
from ultralytics.utils import LOGGER

from ..cfg import resolve_model_cfg
from ..compat.original import is_original_checkpoint, original_to_ultralytics_checkpoint
from ..nn.detection_model import LRSDETRDetectionModel
from .trainer import LRSDETRTrainer


class RTDETR(ul_rtdetr.RTDETR):
    """`RTDETR('lrs-detr-b.yaml')` builds LRS-DETR-B from the packaged config; `RTDETR('best.pt')` reloads it.

    Stock configs and weights (`rtdetr-l.yaml`, ...) work as with Ultralytics' own class.
    """

    def __init__(self, model="lrs-detr-b.yaml"):
        super().__init__(model=resolve_model_cfg(model))

    def _load(self, weights: str, task: str | None = None) -> None:
        """Ultralytics' loading, and a best.pt saved by the authors' repository imported into our LRS-DETR-B."""
        if not is_original_checkpoint(weights):
            return super()._load(weights, task)
        LOGGER.info(f"{weights}: saved by the authors' LRS-DETR repository, importing its weights "
                    f"(convert it once with: python -m lrsdetr.compat convert {weights} NEW.pt)")
        self.ckpt = original_to_ultralytics_checkpoint(weights)
        self.model = self.ckpt["model"].eval()
        self.model.pt_path = self.ckpt_path = self.model_name = str(weights)
        self.model.task = self.task = "detect"
        self.overrides = self.model.args = self._reset_ckpt_args({**DEFAULT_CFG_DICT, **self.ckpt["train_args"]})
        self.overrides["model"] = str(weights)

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
