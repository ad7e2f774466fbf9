"""Inference latency and FPS of a fused model: warm-up, then N timed forward passes of one batch.

Timing covers the network's forward pass (backbone, neck, decoder with its top-k boxes), not image decoding
or drawing. On CUDA every pass is bracketed by `torch.cuda.synchronize()`, so the clock measures finished
GPU work rather than the launch of asynchronous kernels.
"""

from __future__ import annotations

import os
import statistics
import time
from dataclasses import dataclass

import torch
from tqdm import tqdm
from ultralytics.utils.torch_utils import get_flops, select_device

from ..cfg import IMGSZ
from ..models import RTDETR
from ..models.outputs import TRAINED_WEIGHTS
from ..utils.command import Command
from ..utils.errors import DataError
from ..utils.guard import CommandPaths
from .checks import require_model

FPS_DOC = """Latency (mean +/- std per batch) and FPS of a fused model's forward pass, on CPU or CUDA (synchronised timing).

Examples:
  python get_FPS.py --weights runs/train/lrs-detr-b/weights/best.pt
  python get_FPS.py --weights lrs-detr-b.yaml --device 0 --half True --batch 8   # an untrained config works too
"""

FPS_DEFAULTS = {
    "weights": TRAINED_WEIGHTS,
    "imgsz": IMGSZ,
    "batch": 1,
    "half": False,
    "device": "",
    "warmup": 50,
    "iterations": 200,
    "threads": 0,
    "trust_checkpoint": False,
}


@dataclass(frozen=True)
class Latency:
    """Per-batch latencies (ms) and what they were measured on."""

    times_ms: list[float]
    batch: int
    imgsz: int
    device: str
    half: bool
    parameters: int
    gflops: float

    @property
    def mean_ms(self) -> float:
        return statistics.fmean(self.times_ms)

    @property
    def std_ms(self) -> float:
        return statistics.pstdev(self.times_ms)

    @property
    def fps(self) -> float:
        """Images per second: batch images every mean latency."""
        return 1000 * self.batch / self.mean_ms

    def summary(self) -> str:
        precision = "fp16" if self.half else "fp32"
        return (
            f"{self.parameters:,} parameters, {self.gflops:.2f} GFLOPs at {self.imgsz}x{self.imgsz} (fused)\n"
            f"batch {self.batch}, {precision}, {self.device}, {len(self.times_ms)} timed iterations\n"
            f"latency {self.mean_ms:.2f} +/- {self.std_ms:.2f} ms per batch ({self.mean_ms / self.batch:.2f} ms per image), {self.fps:.1f} FPS"
        )


def _synchronize(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def measure_latency(weights: str, imgsz: int = IMGSZ, batch: int = 1, half: bool = False, device: str = "", warmup: int = 50,
                    iterations: int = 200, threads: int = 0) -> Latency:
    """Fuse the model of `weights` (a .pt, or a config name for an untrained model) and time its forward pass.

    On CPU it runs on `threads` threads (0: every core); Ultralytics' select_device leaves torch at one.
    """
    torch_device = select_device(device, verbose=False)
    device_name = str(torch_device)
    if torch_device.type == "cpu":
        torch.set_num_threads(threads or os.cpu_count() or 1)
        device_name = f"cpu, {torch.get_num_threads()} thread{'s' if torch.get_num_threads() > 1 else ''}"
    if half and torch_device.type != "cuda":
        raise DataError(f"--half True needs a CUDA device (--device {device or repr(device)} gave {torch_device.type})")
    model = RTDETR(require_model(weights, "--weights")).model.fuse(verbose=False).eval().to(torch_device)
    parameters = sum(p.numel() for p in model.parameters())
    gflops = get_flops(model, imgsz)
    images = torch.rand(batch, 3, imgsz, imgsz, device=torch_device)
    if half:
        model, images = model.half(), images.half()
    times = []
    with torch.inference_mode():
        for _ in tqdm(range(warmup), desc="warm-up", unit="batch"):
            model(images)
        for _ in tqdm(range(iterations), desc="timed", unit="batch"):
            _synchronize(torch_device)
            start = time.perf_counter()
            model(images)
            _synchronize(torch_device)
            times.append((time.perf_counter() - start) * 1000)
    return Latency(times, batch, imgsz, device_name, half, parameters, gflops)


def main(params: dict) -> None:
    """get_FPS.py: measure, then print the summary."""
    print(measure_latency(**params).summary())


def fps_paths(params: dict) -> CommandPaths:
    """Reads the weights (a .pt; a config builds an untrained model); writes nothing."""
    weights = require_model(params["weights"], "--weights")
    return CommandPaths(params).reads("--weights", weights if weights.endswith(".pt") else None)


COMMAND = Command("fps", "latency and FPS of a fused model", FPS_DOC, FPS_DEFAULTS, fps_paths, main, script="get_FPS.py",
                  inference=True)
