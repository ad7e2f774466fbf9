"""Accuracy and CPU latency of one checkpoint in every format it exports to: docs/export.md's table of accuracy after export.

    python benchmarks/formats.py --weights runs/quickstart/train/weights/best.pt --data runs/quickstart/synthetic/data.yaml --imgsz 160

Exports (ONNX fp32/fp16/int8, OpenVINO fp32/int8, TensorRT fp16 where CUDA and `tensorrt` exist) land in
`--workdir`, one folder per format beside a copy of the checkpoint; int8 calibrates on the val images of --data. Every format is
scored by val.py's validation and COCO summary on the val split (AP, AP50, APs at maxDets 100) and timed at
batch 1 in interleaved rounds (median per entry, `--threads` threads): PyTorch fused and channels_last as
Ultralytics runs it, ONNX Runtime's CPU provider, OpenVINO's CPU plugin in f32 as val.py scores it (int8
layers stay int8). `--latency_imgsz` times exports made at another size too (accuracy stays at --imgsz).
`--profile True` adds, per size, ONNX Runtime's own node profile of each ONNX export: the time in the decoder (which
int8 keeps float) and in the rest, by kind of kernel (int8, quantize/dequantize, float).
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import torch

from lrsdetr.engine.export import coco_scores, export_model
from lrsdetr.tools.checks import dataset_inputs, require_checkpoint, require_data
from lrsdetr.utils.command import Command
from lrsdetr.utils.guard import CommandPaths

from .latency import time_in_rounds
from .runtimes import onnx_node_times, runner

DEFAULTS = {
    "weights": "runs/quickstart/train/weights/best.pt",
    "data": "runs/quickstart/synthetic/data.yaml",
    "imgsz": 160,  # export and validation size
    "latency_imgsz": 0,  # also time exports made at this size (0: only --imgsz)
    "workdir": "runs/formats",  # exports go here, beside a copy of the checkpoint
    "threads": 2,
    "iterations": 30,
    "warmup": 5,
    "accuracy": True,  # False: latency only (no validation)
    "profile": False,  # also ONNX Runtime's node profile of each ONNX export: decoder and rest, int8 and float kernels
}

# (label, export options): the CPU formats; TensorRT is added where it can be built
FORMATS = {
    "ONNX fp32": dict(format="onnx"),
    "ONNX fp16": dict(format="onnx", half=True),
    "ONNX int8": dict(format="onnx", int8=True),
    "OpenVINO fp32": dict(format="openvino"),
    "OpenVINO int8": dict(format="openvino", int8=True),
}


def export_all(checkpoint: Path, data: str, imgsz: int, folder: Path) -> dict[str, Path]:
    """Every format of FORMATS (and TensorRT fp16 with CUDA) exported from a copy of `checkpoint` in `folder`."""
    formats = dict(FORMATS)
    if torch.cuda.is_available():
        formats["TensorRT fp16"] = dict(format="engine", half=True, device="0")
    exports = {}
    for label in ["PyTorch fp32", *formats]:  # one folder each: fp32 and fp16 ONNX exports are both best.onnx
        (folder / label.replace(" ", "_")).mkdir(parents=True, exist_ok=True)
        exports[label] = Path(shutil.copy(checkpoint, folder / label.replace(" ", "_") / checkpoint.name))
    for label, options in formats.items():
        try:
            exports[label] = export_model(str(exports[label]), imgsz=imgsz, data=data, **options)
        except Exception as error:  # e.g. no tensorrt package: say so, measure the rest
            print(f"{label}: not exported ({type(error).__name__}: {error})")
            del exports[label]
    return exports


def latencies(exports: dict[str, Path], imgsz: int, params: dict) -> dict[str, float]:
    calls = {label: runner(path, imgsz, params["threads"]) for label, path in exports.items()}
    torch.set_num_threads(params["threads"])  # Ultralytics' exporter leaves torch at one thread
    sync = torch.cuda.synchronize if torch.cuda.is_available() else (lambda: None)
    medians, load = time_in_rounds(calls, params["iterations"], params["warmup"], sync)
    print(f"latency at {imgsz} px: median of {params['iterations']} interleaved rounds, {params['threads']} threads; other processes used {load:.2f} CPU cores")
    if params["profile"]:
        print_node_times(exports, imgsz, params)
    return medians


PARTS = (("decoder", "float"), ("rest", "float"), ("rest", "int8"), ("rest", "q/dq"))


def print_node_times(exports: dict[str, Path], imgsz: int, params: dict) -> None:
    """ONNX Runtime's own node profile of each ONNX export: ms per pass in the decoder (int8 keeps it float) and in
    the rest, by kind of kernel: where an int8 export's time goes, beside fp32's."""
    print(f"where ONNX Runtime's time goes at {imgsz} px (its node profile, mean of {params['iterations']} passes, {params['threads']} threads; ms, share)")
    print(f"{'format':<14}" + "".join(f"{f'{part} {kind}':>20}" for part, kind in PARTS) + f"{'total':>10}")
    for label, path in exports.items():
        if path.suffix == ".onnx":
            times = onnx_node_times(path, imgsz, params["threads"], params["iterations"])
            total = sum(times.values())
            print(f"{label:<14}" + "".join(f"{f'{times.get(key, 0.0):.1f} ({times.get(key, 0.0) / total:.0%})':>20}" for key in PARTS) + f"{total:>10.1f}")


def main(params: dict) -> None:
    checkpoint = Path(require_checkpoint(params["weights"]))
    require_data(params["data"], splits=("val",))
    workdir = Path(params["workdir"]).resolve()
    exports = export_all(checkpoint, params["data"], params["imgsz"], workdir / f"{params['imgsz']}px")
    scores = dict.fromkeys(exports, None)
    if params["accuracy"]:
        with tempfile.TemporaryDirectory(prefix="formats_val_") as folder:
            scores = {label: coco_scores(path, params["data"], params["imgsz"], Path(folder) / label.replace(" ", "_"))[1] for label, path in exports.items()}
    timed = {params["imgsz"]: latencies(exports, params["imgsz"], params)}
    if params["latency_imgsz"] and params["latency_imgsz"] != params["imgsz"]:
        size = params["latency_imgsz"]
        timed[size] = latencies(export_all(checkpoint, params["data"], size, workdir / f"{size}px"), size, params)
    sizes = list(timed)
    print("\n| Format | AP | AP50 | APs | " + " | ".join(f"latency {s} px (x vs fp32)" for s in sizes) + " |")
    print("|---|---|---|---|" + "---|" * len(sizes))
    for label, stats in scores.items():
        cells = []
        for size in sizes:
            fp32 = timed[size].get(label.rsplit(" ", 1)[0] + " fp32") or timed[size]["PyTorch fp32"]
            ms = timed[size].get(label)
            cells.append("-" if ms is None else f"{ms:.1f} ms ({fp32 / ms:.2f}x)")
        accuracy = f"{stats['AP']:.3f} | {stats['AP50']:.3f} | {stats['APs']:.3f}" if stats else "- | - | -"
        print(f"| {label} | {accuracy} | " + " | ".join(cells) + " |")


def formats_paths(params: dict) -> CommandPaths:
    """Reads the checkpoint and the data set; writes the exports under --workdir."""
    return (CommandPaths(params).reads("--weights", require_checkpoint(params["weights"]))
            .reads("--data", *dataset_inputs(params["data"], splits=("val",))).writes("--workdir", params["workdir"]))


COMMAND = Command("bench formats", "accuracy and CPU latency of every export format", __doc__, DEFAULTS, formats_paths, main,
                  script="benchmarks/formats.py")
