"""Inference latency and FPS of a fused model: warm-up, then N timed forward passes of one batch.

Timing covers the network's forward pass (backbone, neck, decoder with its top-k boxes), not image decoding
or drawing. On CUDA every pass is bracketed by `torch.cuda.synchronize()`, so the clock measures finished
GPU work rather than the launch of asynchronous kernels. `--half True` times fp16 on a GPU and bf16 (torch
autocast, as val.py and detect.py run it) on CPU.
"""

from __future__ import annotations

import os
import statistics
import time
from dataclasses import dataclass

import torch
from tqdm import tqdm
from ultralytics.utils.torch_utils import get_flops

from ..cfg import COMPILE, HALF, IMGSZ
from ..models import RTDETR
from ..models.autocast import mixed_bf16
from ..models.outputs import TRAINED_WEIGHTS
from ..utils.command import Command
from ..utils.guard import CommandPaths
from .checks import require_model
from .compiled import COMPILE_HELP, compile_and_compare, compile_line, inductor_missing
from .precision import HALF_HELP, cpu_flags, pytorch_precision, torch_device

FPS_DOC = """Latency (mean +/- std per batch) and FPS of a fused model's forward pass, on CPU or CUDA (synchronised timing).

Examples:
  python get_FPS.py --weights runs/train/lrs-detr-b/weights/best.pt
  python get_FPS.py --weights lrs-detr-b.yaml --device 0 --half True --batch 8   # an untrained config works too
  python get_FPS.py --weights runs/train/lrs-detr-b/weights/best.pt --device cpu --half True   # bf16 on CPU
""" + HALF_HELP + COMPILE_HELP

FPS_DEFAULTS = {
    "weights": TRAINED_WEIGHTS,
    "imgsz": IMGSZ,
    "batch": 1,
    "half": HALF,
    "compile": COMPILE,
    "device": "",
    "warmup": 50,
    "iterations": 200,
    "threads": 0,
    "trust_checkpoint": False,
}


@dataclass(frozen=True)
class Latency:
    """Per-batch latencies (ms) and what they were measured on (`dtype`: fp32, fp16 or bf16)."""

    times_ms: list[float]
    batch: int
    imgsz: int
    device: str
    dtype: str
    parameters: int
    gflops: float
    compiled: str | None = None  # compiled: its compile line (tools/compiled.py's Compiled.summary)

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
        compiled = "" if self.compiled is None else f"{self.compiled}\n"
        return (
            f"{self.parameters:,} parameters, {self.gflops:.2f} GFLOPs at {self.imgsz}x{self.imgsz} (fused)\n{compiled}"
            f"batch {self.batch}, {self.dtype}, {self.device}, {len(self.times_ms)} timed iterations\n"
            f"latency {self.mean_ms:.2f} +/- {self.std_ms:.2f} ms per batch ({self.mean_ms / self.batch:.2f} ms per image), {self.fps:.1f} FPS"
        )


def _synchronize(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def measure_latency(weights: str, imgsz: int = IMGSZ, batch: int = 1, half: bool = False, device: str = "", warmup: int = 50,
                    iterations: int = 200, threads: int = 0, compile_model: bool = False) -> Latency:
    """Fuse the model of `weights` (a .pt, or a config name for an untrained model) and time its forward pass, with
    `half` in fp16 on a GPU and under bf16 autocast on CPU (tools/precision.py).

    On CPU it runs on `threads` threads (0: every core); Ultralytics' select_device leaves torch at one. With
    `compile_model`, through torch.compile (tools/compiled.py), its compiling first pass apart.
    """
    selected = torch_device(device)
    dtype = pytorch_precision(half, selected, cpu_flags()).dtype
    device_name = str(selected)
    if selected.type == "cpu":
        torch.set_num_threads(threads or os.cpu_count() or 1)
        device_name = f"cpu, {torch.get_num_threads()} thread{'s' if torch.get_num_threads() > 1 else ''}"
    model = RTDETR(require_model(weights, "--weights")).model.fuse(verbose=False).eval().to(selected)
    parameters = sum(p.numel() for p in model.parameters())
    gflops = get_flops(model, imgsz)
    images = torch.rand(batch, 3, imgsz, imgsz, device=selected)
    if dtype == "fp16":
        model, images = model.half(), images.half()
    times, compiled = [], None
    with torch.inference_mode(), mixed_bf16(model, dtype == "bf16"):
        if compile_model and not inductor_missing(selected):
            compiled = compile_and_compare(model, images, dtype)
            model = compiled.module
        for _ in tqdm(range(warmup), desc="warm-up", unit="batch"):
            model(images)
        for _ in tqdm(range(iterations), desc="timed", unit="batch"):
            _synchronize(selected)
            start = time.perf_counter()
            model(images)
            _synchronize(selected)
            times.append((time.perf_counter() - start) * 1000)
    return Latency(times, batch, imgsz, device_name, dtype, parameters, gflops, compiled and compiled.summary(dtype))


def main(params: dict) -> None:
    """get_FPS.py: say what precision runs where, measure, then print the summary."""
    device = torch_device(params["device"])
    print(pytorch_precision(params["half"], device, cpu_flags()))
    if params["compile"]:
        print(compile_line(device))
    settings = {k: v for k, v in params.items() if k != "compile"}
    print(measure_latency(**settings, compile_model=params["compile"]).summary())


def fps_paths(params: dict) -> CommandPaths:
    """Reads the weights (a .pt; a config builds an untrained model); writes nothing."""
    weights = require_model(params["weights"], "--weights")
    return CommandPaths(params).reads("--weights", weights if weights.endswith(".pt") else None)


COMMAND = Command("fps", "latency and FPS of a fused model", FPS_DOC, FPS_DEFAULTS, fps_paths, main, script="get_FPS.py",
                  inference=True)
