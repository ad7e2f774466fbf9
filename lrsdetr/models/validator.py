"""Ultralytics' RT-DETR validator, reading the data set through LRSDETRDataset, which writes nothing into it, and
validating PyTorch weights in bf16 on CPU when asked for 16-bit floats (models/autocast.py)."""

from __future__ import annotations

from types import MethodType

from torch import nn
from ultralytics.models.rtdetr.val import RTDETRValidator
from ultralytics.utils.torch_utils import select_device

from ..data.dataset import rtdetr_dataset
from .autocast import mixed_bf16, wants_cpu_bf16


class LRSDETRValidator(RTDETRValidator):
    """What `RTDETR.val` and val.py validate with; during training the trainer's own data loader is used."""

    def build_dataset(self, img_path, mode="val", batch=None):
        return rtdetr_dataset(img_path, self.args, self.data, mode, batch)

    def get_model(self, model, trainer=None, **kwargs):
        """The validator's own copy of the model; with `quantize=16` on CPU, its forward runs under bf16 autocast,
        the KEEP_FP32 layers in fp32 (the validation loop calls the model directly, so the forward itself is wrapped,
        bound to the copy). It is
        fused first, in fp32: fusion counts FLOPs with a forward pass at 640 px, which emulated bf16 makes slow."""
        model = super().get_model(model, trainer, **kwargs)
        if trainer is None and isinstance(model, nn.Module) and wants_cpu_bf16(self.args, select_device(self.args.device, verbose=False)):
            model = model.fuse() if hasattr(model, "fuse") else model
            model.forward = MethodType(_mixed_bf16_forward, model)
        return model


def _mixed_bf16_forward(model: nn.Module, *args, **kwargs):
    """The model's own forward under bf16 autocast, its KEEP_FP32 layers in fp32 (models/autocast.py)."""
    with mixed_bf16(model):
        return type(model).forward(model, *args, **kwargs)
