"""`RTDETR`, the user-facing model: Ultralytics' RT-DETR interface, aware of LRS-DETR configs."""

from __future__ import annotations

from pathlib import Path
from unittest import mock

import torch
from ultralytics.cfg import DEFAULT_CFG_DICT
from ultralytics.models import rtdetr as ul_rtdetr
from ultralytics.utils import LOGGER

from ..cfg import IMGSZ, MODEL_CFGS, resolve_model_cfg
from ..compat.original import is_original_checkpoint, original_to_ultralytics_checkpoint
from ..data.dataset import rtdetr_dataset
from ..nn.detection_model import LRSDETRDetectionModel
from ..utils.ultralytics_private import online_for_installs
from .outputs import project_folder
from .predictor import LRSDETRPredictor
from .recipe import TRAIN_RECIPE, WARMUP_ITERATIONS, WarmupIterations
from .trainer import LRSDETRTrainer
from .validator import LRSDETRValidator


class RTDETR(ul_rtdetr.RTDETR):
    """`RTDETR('lrs-detr-b.yaml')` builds LRS-DETR-B from the packaged config; `RTDETR('best.pt')` reloads it.

    Stock configs and weights (`rtdetr-l.yaml`, ...) work as with Ultralytics' own class. `quantize=16` (16-bit
    floats) in `predict` and `val` runs PyTorch weights in fp16 on a GPU, as Ultralytics does, and in bf16 on CPU,
    where Ultralytics would run fp32 (models/autocast.py).
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

    def train(self, trainer=None, warmup_iters: int | None = None, **kwargs):
        """Ultralytics' training, with the authors' recipe (models/recipe.py) as the defaults of our configs.

        A model of a packaged config (lrs-detr-b.yaml, rtdetr-r18.yaml, a copy of one under its name, or a checkpoint
        of one) takes each recipe argument the caller leaves out, and warms up for `warmup_iters` batches (2000)
        unless `warmup_epochs` is given; `warmup_iters` given applies to any model. A full `cfg=` file or `resume`
        keeps its own arguments. A relative `project` is a folder of the working directory (see `_in_working_dir`).
        """
        if not kwargs.get("resume"):
            if self._has_packaged_config() and not kwargs.get("cfg"):
                defaults = {key: value for key, value in TRAIN_RECIPE.items() if key not in self.overrides}
                kwargs = {**defaults, **kwargs}
                if warmup_iters is None and "warmup_epochs" not in kwargs:
                    warmup_iters = WARMUP_ITERATIONS
            if warmup_iters is not None:
                self._set_warmup_iterations(warmup_iters)
        return super().train(trainer, **self._in_working_dir(kwargs))

    def val(self, validator=None, **kwargs):
        """Ultralytics' validation; a relative `project` is a folder of the working directory."""
        return super().val(validator, **self._in_working_dir(kwargs))

    def predict(self, source=None, stream: bool = False, predictor=None, **kwargs):
        """Ultralytics' prediction; a relative `project` is a folder of the working directory."""
        return super().predict(source, stream, predictor, **self._in_working_dir(kwargs))

    def export(self, **kwargs) -> str:
        """Ultralytics' export; to TensorRT (`format='engine'`) Ultralytics may go online to pip-install a missing
        `tensorrt`, which our YOLO_OFFLINE default would otherwise refuse (a YOLO_OFFLINE you set is kept). INT8
        calibration images come from our data set (lrsdetr/data/dataset.py: it writes nothing into the user's
        folder) with RT-DETR's validation transforms, the ones inference uses, not YOLO's padded letterbox."""
        from ultralytics.engine import exporter

        calibration = lambda cfg, img_path, batch, data, mode="val", **_: rtdetr_dataset(img_path, cfg, data, mode, batch)  # noqa: E731
        with online_for_installs(str(kwargs.get("format", ""))), mock.patch.object(exporter, "build_yolo_dataset", calibration):
            return super().export(**kwargs)

    @staticmethod
    def _in_working_dir(kwargs: dict) -> dict:
        """`project` made absolute: Ultralytics 8.4 would file 'runs/train' under runs/detect/runs/train."""
        return {**kwargs, "project": project_folder(kwargs["project"])} if kwargs.get("project") else kwargs

    def _has_packaged_config(self) -> bool:
        yaml = getattr(self.model, "yaml", None)
        return isinstance(yaml, dict) and Path(str(yaml.get("yaml_file", ""))).name in MODEL_CFGS

    def _set_warmup_iterations(self, iterations: int) -> None:
        """One WarmupIterations callback, replacing any an earlier `train` call added."""
        event = self.callbacks["on_pretrain_routine_end"]
        event[:] = [callback for callback in event if not isinstance(callback, WarmupIterations)]
        event.append(WarmupIterations(iterations))

    @property
    def task_map(self) -> dict:
        task_map = super().task_map
        task_map["detect"] = {**task_map["detect"], "trainer": LRSDETRTrainer, "validator": LRSDETRValidator,
                              "predictor": LRSDETRPredictor, "model": LRSDETRDetectionModel}
        return task_map

    def profile(self, imgsz: int | list[int] = IMGSZ) -> None:
        """Time (10 runs), GFLOPs and parameters of every layer on one blank image, as a table in the log.

        Ultralytics 8.4 dropped `Model.profile`, which the authors' README calls; this runs its per-layer
        profiler the same way (the decoder head, the last layer, is not profiled).
        """
        height, width = (imgsz, imgsz) if isinstance(imgsz, int) else imgsz
        parameter = next(self.model.parameters())
        image = torch.zeros(1, 3, height, width, device=parameter.device, dtype=parameter.dtype)
        with torch.inference_mode():
            self.model.predict(image, profile=True)
