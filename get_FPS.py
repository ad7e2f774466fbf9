"""Latency (mean +/- std per batch) and FPS of a fused model's forward pass, on CPU or CUDA (synchronised timing).

Examples:
  python get_FPS.py --weights runs/train/lrs-detr-b/weights/best.pt
  python get_FPS.py --weights lrs-detr-b.yaml --device 0 --half True --batch 8   # an untrained config works too
"""

from lrsdetr.data.files import run_script
from lrsdetr.tools.fps import main
from lrsdetr.utils.cli import parse_overrides

param_dict = {
    "weights": "runs/train/lrs-detr-b/weights/best.pt",  # a .pt, or a config name (lrs-detr-b.yaml) for random weights
    "imgsz": 640,
    "batch": 1,
    "half": False,  # fp16, CUDA only
    "device": "",  # '0' or 'cpu'; '' = first GPU, else CPU
    "warmup": 50,  # untimed passes first (cuDNN autotuning, caches, clocks)
    "iterations": 200,  # timed passes
    "threads": 0,  # CPU threads; 0 = every core
}


if __name__ == "__main__":
    raise SystemExit(run_script(main, parse_overrides(param_dict, __doc__)))
