"""bf16 on CPU for Ultralytics' request of 16-bit floats (`quantize=16`, formerly `half=True`).

Ultralytics runs PyTorch weights in fp16 on a GPU when asked, but in fp32 on CPU (its fp16 there is slow and
breaks RT-DETR). Our validator and predictor run the forward pass, and only it, under torch's CPU autocast in bf16
instead: convolutions and matrix products in bf16, the rest as torch's autocast rules keep it (boxes in fp32).
The model is fused and warmed up outside it, so no weight is ever rounded.
"""

from __future__ import annotations

import torch


def wants_cpu_bf16(args, device: torch.device | str) -> bool:
    """True when `args` (an Ultralytics run's) ask for 16-bit floats and the model runs on CPU."""
    return args.quantize == 16 and torch.device(device).type == "cpu"


def cpu_bf16(enabled: bool = True) -> torch.autocast:
    """torch's CPU autocast to bf16 (a context manager, or a decorator)."""
    return torch.autocast("cpu", dtype=torch.bfloat16, enabled=enabled)
