"""Which layers lose accuracy in bf16: a trained checkpoint scored with one layer at a time in bf16.

    python benchmarks/bf16_scan.py --weights runs/train/lrs-detr-b/weights/best.pt --data dataset/data.yaml
    python benchmarks/bf16_scan.py --weights best.pt --data data.yaml --imgsz 128 --decoder_parts False

The checkpoint is scored on the split by our validator (Ultralytics' COCO AP50 and AP50-95) in fp32; in bf16
everywhere (torch's CPU autocast over the whole model, the decoder's anchors too); as `--half True` runs it (bf16
but the layers in lrsdetr.models.autocast.KEEP_FP32 and the decoder's anchors in fp32); then with each top-level
layer alone in bf16 and the rest in fp32, and (`--decoder_parts`) each part of the decoder alone. Every row gives
the change against fp32, on the same images: the rows that move are the layers bf16 hurts. `score_change` (the
largest change of the sorted detection scores of two random images) shows that each setting did run in bf16, also
where AP does not move. `bf16_scan.csv` and `bf16_scan.png` (the AP50 change per layer) go to `--save_dir`.

bf16 changes the same numbers whether the processor computes it natively or torch emulates it (where it has no
avx512_bf16 or amx_bf16, slowly): the scan's accuracy holds for both; only its running time differs.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from pathlib import Path
from typing import NamedTuple

import torch
from torch import nn
from ultralytics.nn.modules import RTDETRDecoder

from lrsdetr.models import RTDETR
from lrsdetr.models.autocast import KEEP_FP32, forget_anchors, fp32_anchors, kept_in_fp32, layer_precisions
from lrsdetr.tools.checks import dataset_inputs, require_checkpoint
from lrsdetr.tools.compiled import detections
from lrsdetr.utils.atomic import save_figure_atomic, write_csv_atomic
from lrsdetr.utils.command import Command
from lrsdetr.utils.guard import CommandPaths
from lrsdetr.utils.logs import ultralytics_quiet

DEFAULTS = {
    "weights": "",  # a trained checkpoint (required)
    "data": "",  # its data.yaml (required)
    "split": "val",
    "imgsz": 640,
    "batch": 8,
    "layers": True,  # each top-level layer alone in bf16 (False: only fp32, bf16 everywhere and --half)
    "decoder_parts": True,  # also each part of the decoder alone in bf16 (its projections, encoder head, layers, heads)
    "save_dir": "runs/bf16_scan",
}
FIELDS = ["setting", "ap50", "ap", "ap50_change", "ap_change", "score_change"]


class Setting(NamedTuple):
    """A row of the scan: its name, the precision of each module it sets (True: bf16; False: fp32), and whether the
    decoder makes its anchors in fp32 whatever its features' dtype (as `--half` does; else in the decoder's own)."""

    name: str
    precisions: dict[nn.Module, bool]
    fp32_anchors: bool = False


@contextmanager
def run_as(model: nn.Module, setting: Setting) -> Iterator[None]:
    """While open, `model` runs as `setting` says; its decoder makes its anchors afresh at the setting's precision
    (they are kept from call to call, and anchors an fp32 row made would hide a bf16 row's)."""
    forget_anchors(model)
    with layer_precisions(setting.precisions), fp32_anchors(model) if setting.fp32_anchors else nullcontext():
        yield


def modules_that_run(model: nn.Module, imgsz: int) -> set[nn.Module]:
    """The modules a forward pass at `imgsz` calls (the decoder's denoising embedding, for one, runs in training only)."""
    called, handles = set(), [m.register_forward_pre_hook(lambda module, args: called.add(module)) for m in model.modules()]
    try:
        with torch.inference_mode():
            model(torch.zeros(1, 3, imgsz, imgsz))
    finally:
        for handle in handles:
            handle.remove()
    return called


def settings(model: nn.Module, layers: bool, decoder_parts: bool, imgsz: int) -> list[Setting]:
    """fp32, bf16 everywhere, `--half`'s mix, then each top-level layer with weights (and each decoder part that
    runs: the elements of a ModuleList, which is never called itself) alone in bf16."""
    rows = [Setting("fp32", {}), Setting("bf16 everywhere", {model: True}),
            Setting(f"--half (bf16, {', '.join(k.__name__ for k in KEEP_FP32) or 'no layer'} kept in fp32; anchors in fp32)",
                    {model: True, **dict.fromkeys(kept_in_fp32(model), False)}, fp32_anchors=True)]
    running = modules_that_run(model, imgsz)
    for index, layer in enumerate(model.model if layers else ()):
        if not any(True for _ in layer.parameters()):
            continue  # Upsample, Concat: nothing autocast would change
        rows.append(Setting(f"layer {index} {type(layer).__name__}", {layer: True}))
        if decoder_parts and isinstance(layer, RTDETRDecoder):
            for name, part in layer.named_children():
                parts = [p for p in (part if isinstance(part, nn.ModuleList) else [part]) if p in running]
                if parts:
                    rows.append(Setting(f"layer {index} decoder: {name}", dict.fromkeys(parts, True)))
    return rows


def score(model: RTDETR, params: dict, setting: Setting) -> tuple[float, float]:
    """(AP50, AP50-95) in percent on the split, with `setting` while the validator runs."""
    with run_as(model.model, setting), ultralytics_quiet():
        metrics = model.val(data=params["data"], split=params["split"], imgsz=params["imgsz"], batch=params["batch"],
                            device="cpu", plots=False, verbose=False, project=params["save_dir"], name="val", exist_ok=True)
    return 100 * metrics.box.map50, 100 * metrics.box.map


def score_change(model: nn.Module, setting: Setting, images: torch.Tensor, fp32: torch.Tensor | None) -> tuple[float, torch.Tensor]:
    """The largest change of the detections' scores, each image's sorted, against fp32 (`fp32`: those, None for the
    fp32 row) on `images`: a layer bf16 hardly touches still moves them, which shows it ran in bf16; and the scores."""
    with torch.inference_mode(), run_as(model, setting):
        scores = detections(model(images))[..., 4].float().sort(-1).values
    return (0.0 if fp32 is None else (scores - fp32).abs().max().item()), scores


def plot(rows: list[dict], path: Path, title: str) -> None:
    import matplotlib.pyplot as plt

    layers = [row for row in rows if row["setting"].startswith("layer")]
    figure, axis = plt.subplots(figsize=(7, 0.28 * len(layers) + 1.2))
    changes = [row["ap50_change"] for row in layers]
    axis.barh(range(len(layers)), changes, color=["#c0392b" if c < 0 else "#2e86c1" for c in changes])
    axis.set_yticks(range(len(layers)), [row["setting"] for row in layers], fontsize=7)
    axis.invert_yaxis()
    axis.axvline(0, color="black", linewidth=0.8)
    axis.set_xlabel("AP50 change against fp32 (points), this layer alone in bf16")
    axis.set_title(title, fontsize=9)
    save_figure_atomic(figure, path)


def checkpoint_name(weights: str) -> str:
    """'lrs-detr-b-seed0/weights/best.pt' for a training run's checkpoint (its run folder says which), else the name."""
    path = Path(weights)
    return f"{path.parent.parent.name}/weights/{path.name}" if path.parent.name == "weights" else path.name


def main(params: dict) -> None:
    save_dir = Path(params["save_dir"])
    model = RTDETR(params["weights"])
    model.model.fuse(verbose=False)  # as the validator runs it; fused first so the hooks sit on the modules that run
    rows, images, fp32_scores = [], torch.rand(2, 3, params["imgsz"], params["imgsz"], generator=torch.Generator().manual_seed(0)), None
    for setting in settings(model.model, params["layers"], params["decoder_parts"], params["imgsz"]):
        ap50, ap = score(model, params, setting)
        moved, scores = score_change(model.model, setting, images, fp32_scores)
        fp32_scores = scores if fp32_scores is None else fp32_scores
        base = rows[0] if rows else {"ap50": ap50, "ap": ap}
        rows.append({"setting": setting.name, "ap50": round(ap50, 2), "ap": round(ap, 2), "ap50_change": round(ap50 - base["ap50"], 2),
                     "ap_change": round(ap - base["ap"], 2), "score_change": f"{moved:.1e}"})
        print(f"{setting.name:<56} AP50 {ap50:6.2f} ({rows[-1]['ap50_change']:+.2f})   AP {ap:6.2f} ({rows[-1]['ap_change']:+.2f})   "
              f"scores moved by up to {moved:.1e}", flush=True)
    save_dir.mkdir(parents=True, exist_ok=True)
    write_csv_atomic(save_dir / "bf16_scan.csv", rows, FIELDS)
    print(f"table: {save_dir / 'bf16_scan.csv'}")
    if params["layers"]:
        plot(rows, save_dir / "bf16_scan.png", f"{checkpoint_name(params['weights'])} at {params['imgsz']} px, {params['split']} split")
        print(f"plot: {save_dir / 'bf16_scan.png'}")


def scan_paths(params: dict) -> CommandPaths:
    """Reads the checkpoint and the data set; writes --save_dir."""
    return (CommandPaths(params).reads("--weights", require_checkpoint(params["weights"]))
            .reads("--data", *dataset_inputs(params["data"], splits=(params["split"],)))
            .writes("--save_dir", params["save_dir"]))


COMMAND = Command("bench bf16", "which layers lose accuracy in bf16, one layer at a time", __doc__, DEFAULTS, scan_paths, main,
                  script="benchmarks/bf16_scan.py")
