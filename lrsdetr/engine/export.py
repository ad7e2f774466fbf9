"""Export a model through Ultralytics' exporter, then check an ONNX file against PyTorch in ONNX Runtime.

LRS-DETR needs nothing special from the exporter: its blocks trace to plain ops on their own (FGM swaps its
FFT for real DFT matmuls while a graph is captured, DPRA builds its window mask from the input's shape), so
`RTDETR(weights).export(format=...)` is the whole export. What this module adds is the root script's
argument handling (every flag checked before anything is written, and only the asked-for file written: see
`export_model`), a one-line check of what came out (the graph holds no FFT op, runs in ONNX Runtime, and
gives the detections PyTorch gives) and, with `check_map`, the export's COCO AP on a data set beside the
checkpoint's, scored by the same validation as val.py.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

from ..cfg import IMGSZ, MAX_DET, SCORING_CONF
from ..data.files import require_writable
from ..eval.agreement import matched_rows
from ..models import RTDETR
from ..models.outputs import TRAINED_WEIGHTS
from ..tools.checks import (
    dataset_inputs,
    require_checkpoint,
    require_data,
    require_model,
)
from ..tools.formats import WeightsFormat, weights_format
from ..tools.quantize import KEEP_FLOAT, keep_float_parts, quantize_onnx, quantize_openvino
from ..utils.command import Command
from ..utils.errors import DataError
from ..utils.guard import CommandPaths
from ..utils.ultralytics_private import TENSORRT_FORMATS
from .validate import coco_evaluation, validate

EXPORT_DOC = """Export a trained LRS-DETR (or any RT-DETR) to ONNX, TensorRT, OpenVINO, CoreML, ... with Ultralytics' exporter.

Examples:
  python export.py --weights runs/train/lrs-detr-b/weights/best.pt
  python export.py --weights runs/train/lrs-detr-b/weights/best.pt --dynamic True --batch 8
  python export.py --weights runs/train/lrs-detr-b/weights/best.pt --format engine --half True --device 0
  python export.py --weights lrs-detr-b.yaml --imgsz 320   # an untrained config works too (file lands in the working folder)
  python export.py --weights runs/train/lrs-detr-b/weights/best.pt --check_map True --data dataset/data.yaml
  python export.py --weights runs/train/lrs-detr-b/weights/best.pt --int8 True --data dataset/data.yaml --format openvino
Prints where the file went; for ONNX also one line comparing ONNX Runtime's detections with PyTorch's. With
--check_map True it scores the export and the checkpoint on the val split of --data (val.py's validation and
COCO summary) and warns when the export's AP50 is more than --map_tolerance below the checkpoint's.
"""

EXPORT_DEFAULTS = {
    "weights": TRAINED_WEIGHTS,
    "format": "onnx",
    "imgsz": IMGSZ,
    "half": False,
    "int8": False,
    "keep_float": ",".join(KEEP_FLOAT),
    "dynamic": False,
    "simplify": True,
    "opset": None,
    "batch": 1,
    "device": None,
    "data": "",
    "check_map": False,
    "map_tolerance": 0.01,
    "trust_checkpoint": False,
}

# The formats whose int8 we make ourselves from the fp32 export, keeping the KEEP_FLOAT parts float
# (tools/quantize.py); the others' int8 is Ultralytics' (`quantize=8`).
OWN_INT8 = {"onnx": quantize_onnx, "openvino": quantize_openvino}
# ONNX ops that ONNX Runtime's CPU/CUDA providers and TensorRT do not run well or at all.
FFT_OPS = frozenset({"DFT", "STFT"})
MIN_OPSET = 16  # RT-DETR's decoder samples with GridSample, an ONNX op since opset 16 (Ultralytics asserts the same)
# Ultralytics exports with torch's TorchScript-based ONNX exporter (dynamo=False), which writes opsets up to 20.
TORCHSCRIPT_EXPORTER_MAX_OPSET = 20


def format_options() -> dict[str, tuple[str, ...]]:
    """Ultralytics' export formats (its `format=` names) and the options each takes, from its own table."""
    from ultralytics.engine.exporter import export_formats

    table = export_formats()
    return {name: tuple(options) for name, options in zip(table["Argument"], table["Arguments"]) if name != "-"}


def require_format(format: str) -> str:
    """`format` as Ultralytics' exporter names it (TensorRT's aliases as 'engine')."""
    name, formats = str(format).lower(), format_options()
    if name in TENSORRT_FORMATS:
        return "engine"
    if name not in formats:
        raise DataError(f"--format {format}: unknown (expected one of {', '.join(formats)})")
    return name


def require_batch(batch: int) -> None:
    """A batch of at least one image: Ultralytics traces a batch of 0 into a reshape error deep inside the model."""
    if not (isinstance(batch, int) and not isinstance(batch, bool) and batch >= 1):
        raise DataError(f"--batch {batch}: expected a positive whole number (the export's batch size; with --dynamic True its largest)")


def require_opset(opset: int | None, format: str) -> None:
    """None (Ultralytics picks), or an opset torch's exporter writes and RT-DETR runs in, for a format built from ONNX."""
    import onnx

    if opset is None:
        return
    takes = [name for name, options in format_options().items() if "opset" in options]
    if format not in takes:
        raise DataError(f"--opset {opset}: format {format} takes no ONNX opset (only {', '.join(takes)} do); leave it None")
    newest = min(TORCHSCRIPT_EXPORTER_MAX_OPSET, onnx.defs.onnx_opset_version())
    if not (isinstance(opset, int) and not isinstance(opset, bool) and MIN_OPSET <= opset <= newest):
        raise DataError(
            f"--opset {opset}: expected a whole number from {MIN_OPSET} (RT-DETR's decoder needs GridSample) to {newest} "
            "(the newest torch's ONNX exporter writes), or None for Ultralytics' choice"
        )


def export_folder(model: str) -> Path:
    """Where an export of `model` goes, as Ultralytics places it: beside a checkpoint; in the working folder for a config."""
    return (Path(model).parent if model.endswith(".pt") else Path.cwd()).resolve()


def scratch_folder(model: str) -> Path:
    """The folder an export of `model` is made in, in `export_folder` (one per process): only the result leaves it."""
    return export_folder(model) / f".exporting-{Path(model).stem}-{os.getpid()}"


def move_into(result: Path, folder: Path) -> Path:
    """`result` (in a scratch folder inside `folder`) renamed into `folder`: a file replaces its namesake atomically,
    a folder (OpenVINO, Core ML) replaces an earlier export of the same name whole, which goes with the scratch."""
    target = folder / result.name
    if result.is_dir() and target.is_dir():
        os.replace(target, result.with_name(f"{result.name}.replaced"))
    os.replace(result, target)
    return target


def export_model(
    weights: str,
    format: str = "onnx",
    imgsz: int = IMGSZ,
    half: bool = False,
    int8: bool = False,
    data: str = "",
    keep_float: str = ",".join(KEEP_FLOAT),
    dynamic: bool = False,
    simplify: bool = True,
    opset: int | None = None,
    batch: int = 1,
    device: str | None = None,
) -> Path:
    """`RTDETR(weights).export(...)`; returns the absolute path of the one file (or folder) written.

    `half` is Ultralytics' `quantize=16`: on a GPU the model is traced in fp16; on CPU an ONNX export is
    traced in fp32 and converted to fp16 afterwards (inputs and outputs stay fp32). `int8` calibrates on
    `data`'s val images: ONNX and OpenVINO by tools/quantize.py from the fp32 export (ONNX Runtime's and NNCF's
    quantization), keeping the `keep_float` parts in fp32; TensorRT through Ultralytics (`quantize=8`).

    Ultralytics writes intermediates beside the result under the names of other exports: the fp32 best.onnx of
    an int8 ONNX or a TensorRT export (its own int8 ONNX export then deletes it). So the export runs in a scratch
    folder beside the result and only the result is moved out: a user's best.onnx is never replaced by an
    int8 or TensorRT export, and an interrupted export leaves no half-written file.
    """
    format = require_format(format)
    require_batch(batch)
    require_opset(opset, format)
    keep = keep_float_parts(keep_float)
    if half and int8:
        raise DataError("--half True and --int8 True: choose one precision")
    if int8:
        if not data:
            raise DataError("--int8 True needs --data: a data.yaml whose val images calibrate the int8 ranges")
        require_data(data, splits=("val",))
    source = require_model(weights, "--weights")
    folder = export_folder(source)
    require_writable(folder, "--weights")
    model = RTDETR(source)
    options = dict(format=format, imgsz=imgsz, dynamic=dynamic, simplify=simplify, opset=opset, batch=batch, device=device)
    if half:
        options["quantize"] = 16
    elif int8 and format not in OWN_INT8:
        options.update(quantize=8, data=data)
    scratch = scratch_folder(source)
    scratch.mkdir()
    try:
        # Ultralytics' exporter names (and places) every file it writes after the model's pt_path
        model.model.pt_path = str(scratch / f"{Path(source).stem}.pt")
        path = Path(model.export(**options))
        if int8 and format in OWN_INT8:
            path = OWN_INT8[format](path, data, imgsz, keep)
        return move_into(path, folder)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def onnx_sanity_check(onnx_path: Path, weights: str, imgsz: int, batch: int = 1, atol: float = 1e-3) -> str:
    """Run the ONNX file and the PyTorch model on one random batch; one line saying how they compare.

    Raises RuntimeError if the graph holds an FFT op or ONNX Runtime's output is not finite.
    """
    import onnx
    import onnxruntime as ort

    graph = onnx.load(str(onnx_path)).graph
    fft_ops = {node.op_type for node in graph.node} & FFT_OPS
    if fft_ops:
        raise RuntimeError(f"{onnx_path} holds FFT ops {sorted(fft_ops)}: ONNX Runtime and TensorRT cannot run it well")
    session = ort.InferenceSession(str(onnx_path), providers=["CPUExecutionProvider"])
    model_input = session.get_inputs()[0]
    shape = [d if isinstance(d, int) else fallback for d, fallback in zip(model_input.shape, (batch, 3, imgsz, imgsz))]
    images = np.random.default_rng(0).random(shape, dtype=np.float32)
    start = time.perf_counter()
    detections = session.run(None, {model_input.name: images})[0].astype(np.float32)
    elapsed_ms = (time.perf_counter() - start) * 1000
    if not np.isfinite(detections).all():
        raise RuntimeError(f"ONNX Runtime gave non-finite detections for {onnx_path}")
    pytorch = RTDETR(weights).model.fuse(verbose=False).eval()
    with torch.inference_mode():
        reference = pytorch(torch.from_numpy(images))[0].numpy()
    share = min(matched_rows(d, r, atol) for d, r in zip(detections, reference))
    return (
        f"onnxruntime {ort.__version__}: {model_input.name} {tuple(shape)} -> {tuple(detections.shape)} (first run {elapsed_ms:.0f} ms), "
        f"{share:.1%} of rows within {atol:g} of PyTorch, {len(graph.node)} nodes, no FFT op"
    )


def coco_scores(weights: str | Path, data: str, imgsz: int, project: Path, device: str = "", split: str = "val",
                batch: int = 1) -> tuple[WeightsFormat, dict[str, float]]:
    """val.py's validation and COCO summary (maxDets 100) of `weights` on `split`, quietly, outputs in
    `project`/val_<weights name> (beside the weights too: the run folder never takes the weights' own name)."""
    validation = validate(
        {"weights": str(weights), "data": data, "split": split, "imgsz": imgsz, "batch": batch, "conf": SCORING_CONF, "max_det": MAX_DET, "device": device,
         "save_json": True, "plots": False, "verbose": False, "project": str(project), "name": f"val_{Path(weights).name}", "exist_ok": True}
    )
    return weights_format(weights), coco_evaluation(validation, validation.metrics.names, tide=False).coco.stats()


def compare_accuracy(checkpoint: str, exported: Path, data: str, imgsz: int, tolerance: float, device: str = "") -> str:
    """A small table of AP, AP50 and APs of the checkpoint and its export on `data`'s val split, with a warning
    when the export's AP50 is more than `tolerance` below the checkpoint's."""
    with tempfile.TemporaryDirectory(prefix="check_map_") as folder:
        rows = [coco_scores(weights, data, imgsz, Path(folder), device) for weights in (checkpoint, exported)]
    lines = [f"COCO AP on {data} (val split, {imgsz} px, maxDets 100):", f"  {'AP':>6} {'AP50':>6} {'APs':>6}  format"]
    lines += [f"  {stats['AP']:6.3f} {stats['AP50']:6.3f} {stats['APs']:6.3f}  {kind}" for kind, stats in rows]
    drop = rows[0][1]["AP50"] - rows[1][1]["AP50"]
    if drop > tolerance:
        lines.append(f"WARNING: {exported.name} loses {drop:.4f} AP50 against {Path(checkpoint).name} (tolerance {tolerance:g})")
    return "\n".join(lines)


def main(params: dict) -> None:
    """export.py: export, print where the file went, for ONNX the ONNX Runtime check, and with `check_map` the AP check."""
    check_map, tolerance = params.pop("check_map"), params.pop("map_tolerance")
    if check_map:
        require_checkpoint(params["weights"])
        if not params["data"]:
            raise DataError("--check_map True needs --data: the data.yaml whose val split scores the checkpoint and its export")
        require_data(params["data"], splits=("val",))
    path = export_model(**params)
    precision = " fp16" if params["half"] else " int8" if params["int8"] else ""
    print(f"exported {params['weights']} to {params['format']}{precision}: {path} "
          "(moved here from the scratch folder Ultralytics' log names; nothing else written)")
    if path.suffix == ".onnx":
        # fp16 keeps ~3 significant digits; int8 moves boxes and scores by a few percent: its check is --check_map
        atol = 1e-1 if params["int8"] else 1e-2 if params["half"] else 1e-3
        print(onnx_sanity_check(path, params["weights"], params["imgsz"], params["batch"], atol))
    if check_map:
        print(compare_accuracy(params["weights"], path, params["data"], params["imgsz"], tolerance, params["device"] or ""))


def export_targets(weights: str, format: str) -> list[Path]:
    """What an export of `weights` in `format` may write: the export (and its int8 variant) in `export_folder`, and
    the scratch folder it is made in."""
    from ultralytics.engine.exporter import export_formats

    table = export_formats()
    suffix = dict(zip(table["Argument"], table["Suffix"]))[require_format(format)]
    folder, stem = export_folder(weights), Path(weights).stem
    return [*(folder / f"{stem}{variant}{suffix}" for variant in ("", "_int8")), scratch_folder(weights)]


def export_paths(params: dict) -> CommandPaths:
    """Reads the weights (and the data set that calibrates int8 or scores --check_map); writes the export."""
    weights = require_model(params["weights"], "--weights")
    return (CommandPaths(params)
            .reads("--weights", weights if weights.endswith(".pt") else None)
            .reads("--data", *(dataset_inputs(params["data"], splits=("val",)) if params["data"] else []))
            .writes("--format (the export)", *export_targets(weights, params["format"])))


COMMAND = Command("export", "export to ONNX, TensorRT, OpenVINO, Core ML, ...", EXPORT_DOC, EXPORT_DEFAULTS,
                  export_paths, main, script="export.py")
