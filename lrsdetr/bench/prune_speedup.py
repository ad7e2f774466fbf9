"""LRS-DETR-B -> LRS-DETR-T by LAMP pruning at 640 px: the speed-up reached, parameters and GFLOPs of the fused
models by Ultralytics' counter, the time taken, and the requested speed-up at which T reaches the paper's 48.3
GFLOPs (49.2 by this counter).

    python benchmarks/prune_speedup.py            # B freshly initialised (seed 0), nc=10
    python benchmarks/prune_speedup.py --weights runs/train/lrs-detr-b/weights/best.pt --speed_up 1.35
    python benchmarks/prune_speedup.py --scope blocks   # the finer scope (see lrsdetr/compress/prune_scopes.py)

Torch-pruning's counter (multiply-accumulates of conv/linear/norm layers) decides the speed-up; Ultralytics'
`get_flops` (thop, 2 x MACs, more op kinds) gives the GFLOPs the paper's tables use.
"""

from __future__ import annotations

import math
import time
from copy import deepcopy

import torch
from ultralytics.utils.torch_utils import get_flops

from lrsdetr import RTDETR, build_model
from lrsdetr.cfg import IMGSZ
from lrsdetr.compress.prune import PruneSettings, prune
from lrsdetr.compress.prune_scopes import PAPER_SCOPE
from lrsdetr.tools.checks import require_checkpoint
from lrsdetr.utils.command import Command
from lrsdetr.utils.guard import CommandPaths

PAPER_T_GFLOPS = 49.2  # LRS-DETR-T's 48.3 GFLOPs (older thop) as Ultralytics 8.4 counts it


def fused_figures(model: torch.nn.Module) -> tuple[float, float]:
    """(parameters in millions, GFLOPs at 640) of a fused copy, by Ultralytics' counter."""
    fused = deepcopy(model).eval().fuse(verbose=False)
    return sum(p.numel() for p in fused.parameters()) / 1e6, get_flops(fused, IMGSZ)


def timed_prune(model: torch.nn.Module, speed_up: float, scope: str) -> tuple[torch.nn.Module, float]:
    start = time.perf_counter()
    pruned = prune(model, PruneSettings("lamp", speed_up=speed_up, imgsz=IMGSZ, iterative_steps=50, scope=scope))
    return pruned, time.perf_counter() - start


def report(name: str, model: torch.nn.Module, seconds: float | None = None) -> float:
    params, gflops = fused_figures(model)
    record = model.yaml.get("pruned")
    reached = f"speed-up {record['achieved_speed_up']:.4f} (asked {record['speed_up']}, {record['steps']} steps)" if record else ""
    took = f", pruned in {seconds:.0f} s" if seconds is not None else ""
    print(f"{name:<24} {params:6.2f}M params  {gflops:6.2f} GFLOPs  {reached}{took}", flush=True)
    return gflops


DEFAULTS = {
    "weights": "",  # a trained LRS-DETR-B checkpoint ('' = seed-0 initialisation, nc=10)
    "speed_up": 1.35,
    "scope": PAPER_SCOPE,  # paper (what the authors kept whole) or blocks
}


def main(params: dict) -> None:
    torch.manual_seed(0)
    base = RTDETR(params["weights"]).model if params["weights"] else build_model("lrs-detr-b.yaml", nc=10)
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads; LAMP, global, 50 iterative steps, {IMGSZ} px, "
          f"{params['scope']} scope")
    report("LRS-DETR-B", base)
    pruned, seconds = timed_prune(base, params["speed_up"], params["scope"])
    gflops = report(f"LAMP {params['speed_up']}", pruned, seconds)

    # The speed-up that brings T to the paper's GFLOPs: Ultralytics' GFLOPs shrink about in proportion.
    speed_up = math.ceil(params["speed_up"] * gflops / PAPER_T_GFLOPS * 200) / 200
    while True:
        pruned, seconds = timed_prune(base, speed_up, params["scope"])
        if report(f"LAMP {speed_up}", pruned, seconds) <= PAPER_T_GFLOPS:
            break
        speed_up = round(speed_up + 0.005, 3)
    print(f"speed_up={speed_up} reaches the paper's LRS-DETR-T ({PAPER_T_GFLOPS} GFLOPs by this counter)")


COMMAND = Command("bench prune-speedup", "the LAMP speed-up that gives the paper's LRS-DETR-T", __doc__, DEFAULTS,
                  lambda params: CommandPaths(params).reads("--weights", params["weights"] and require_checkpoint(params["weights"])),
                  main, script="benchmarks/prune_speedup.py")
