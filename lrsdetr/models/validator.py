"""Ultralytics' RT-DETR validator, reading the data set through LRSDETRDataset, which writes nothing into it."""

from __future__ import annotations

from ultralytics.models.rtdetr.val import RTDETRValidator

from ..data.dataset import rtdetr_dataset


class LRSDETRValidator(RTDETRValidator):
    """What `RTDETR.val` and val.py validate with; during training the trainer's own data loader is used."""

    def build_dataset(self, img_path, mode="val", batch=None):
        return rtdetr_dataset(img_path, self.args, self.data, mode, batch)
