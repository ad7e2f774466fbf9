"""Export a model through Ultralytics' exporter, then check an ONNX file against PyTorch in ONNX Runtime.

LRS-DETR needs nothing special from the exporter: its blocks trace to plain ops on their own (FGM swaps its
FFT for real DFT matmuls while a graph is captured, DPRA builds its window mask from the input's shape), so
`RTDETR(weights).export(format=...)` is the whole export. What this module adds is the root script's
argument handling and a one-line check of what came out: the graph holds no FFT op, runs in ONNX Runtime,
and gives the detections PyTorch gives.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import torch

from ..engine.checks import require_model
from ..models import RTDETR

# ONNX ops that ONNX Runtime's CPU/CUDA providers and TensorRT do not run well or at all.
FFT_OPS = frozenset({"DFT", "STFT"})


def export_model(
    weights: str,
    format: str = "onnx",
    imgsz: int = 640,
    half: bool = False,
    dynamic: bool = False,
    simplify: bool = True,
    opset: int | None = None,
    batch: int = 1,
    device: str | None = None,
) -> Path:
    """`RTDETR(weights).export(...)`; returns the absolute path of the file (or folder) written.

    `half` is Ultralytics' `quantize=16`: on a GPU the model is traced in fp16; on CPU an ONNX export is
    traced in fp32 and converted to fp16 afterwards (inputs and outputs stay fp32).
    """
    model = RTDETR(require_model(weights, "--weights"))
    options = dict(format=format, imgsz=imgsz, dynamic=dynamic, simplify=simplify, opset=opset, batch=batch, device=device)
    if half:
        options["quantize"] = 16
    return Path(model.export(**options)).resolve()


def matched_rows(candidate: np.ndarray, reference: np.ndarray, atol: float) -> float:
    """Share of `candidate`'s detection rows that have a `reference` row within `atol` on every value.

    Order-free, because top-k may order near-equal scores differently in two runtimes.
    """
    distance = np.abs(candidate[:, None, :] - reference[None, :, :]).max(-1)
    return float((distance.min(1) <= atol).mean())


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


def main(params: dict) -> None:
    """export.py: export, print where the file went and, for ONNX, the ONNX Runtime check."""
    path = export_model(**params)
    print(f"exported {params['weights']} to {params['format']}: {path}")
    if path.suffix == ".onnx":
        atol = 1e-2 if params["half"] else 1e-3  # fp16 keeps ~3 significant digits
        print(onnx_sanity_check(path, params["weights"], params["imgsz"], params["batch"], atol))
