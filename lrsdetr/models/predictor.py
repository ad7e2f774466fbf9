"""Ultralytics' RT-DETR predictor, running PyTorch weights in bf16 on CPU when asked for 16-bit floats
(models/autocast.py)."""

from __future__ import annotations

from ultralytics.models.rtdetr.predict import RTDETRPredictor

from .autocast import mixed_bf16, wants_cpu_bf16


class LRSDETRPredictor(RTDETRPredictor):
    """What `RTDETR.predict` (detect.py, track.py, sliced inference through SAHI) predicts with."""

    def inference(self, im, *args, **kwargs):
        """The forward pass; with `quantize=16` on CPU, under bf16 autocast but the KEEP_FP32 layers."""
        bf16 = self.model.format == "pt" and wants_cpu_bf16(self.args, self.device)
        with mixed_bf16(self.model.model if bf16 else self.model, bf16):  # AutoBackend's .model: the PyTorch model
            return super().inference(im, *args, **kwargs)
