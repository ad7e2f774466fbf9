"""Configs shipped with the package: model YAMLs (lrs-detr-b and its ablations, the RT-DETR-R18/34/50/50-M/101
baselines) and hyper-parameter files."""

from __future__ import annotations

from pathlib import Path

CFG_DIR = Path(__file__).resolve().parent
# Defaults every command shares, written once here
IMGSZ = 640  # the paper's input size, for training and inference alike
MAX_DET = 300  # RT-DETR's 300 queries: at most that many boxes per image
SCORING_CONF = 0.001  # scoring keeps low-score boxes: AP integrates over all of them
DETECTION_CONF = 0.25  # what detect.py and heatmap.py draw and save
COMPILE = False  # --compile: eager PyTorch unless asked; True: torch.compile (tools/compiled.py)
HALF = False  # --half: fp32 unless asked; True: 16-bit floats where the device has them (fp16 on CUDA, bf16 on CPU)
TRACKING_CONF = 0.1  # what track.py feeds its trackers, as Ultralytics' track mode (ByteTrack re-associates weak boxes)
MODEL_CFGS = {p.name: p for p in sorted((CFG_DIR / "models").rglob("*.yaml"))}


def resolve_model_cfg(cfg):
    """A bare name of a packaged model config ('lrs-detr-b.yaml', or without '.yaml') -> its path.

    Anything else (an existing file, a dict, a .pt, an Ultralytics name such as 'rtdetr-l.yaml') is
    returned unchanged for Ultralytics to resolve.
    """
    if not isinstance(cfg, (str, Path)) or Path(cfg).exists():
        return cfg
    name = Path(cfg).name
    if name in MODEL_CFGS:
        return str(MODEL_CFGS[name])
    if f"{name}.yaml" in MODEL_CFGS:
        return str(MODEL_CFGS[f"{name}.yaml"])
    return cfg
