"""`--compile True`: PyTorch weights run through torch.compile (inductor), in val, detect, track and get_FPS.

Ultralytics compiles when its `compile` argument asks (its predictor and validator call torch.compile on the model
they run, lazily: the first forward pass compiles); we pass `--compile` on as that argument, and on the CPU also turn
on inductor's freezing (weights folded into the graph as constants: the fastest option measured on a Xeon with AMX,
torch.compile's defaults alone being slower than eager there). Compilation takes a minute or more and happens once
per input shape; get_FPS times it apart from the latency and reports the share of the compiled model's detections
that eager's match.
Where inductor cannot build (no C++ compiler on the CPU, no Triton on a GPU) the run goes on eager, saying so in
one line. Exports (ONNX, OpenVINO, ...) are already compiled graphs and take no --compile True.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import NamedTuple

import torch

from ..eval.agreement import matched_rows
from ..utils.errors import DataError
from .formats import is_export
from .precision import torch_device

COMPILE_HELP = """--compile True: PyTorch weights through torch.compile (inductor; on the CPU with freezing); the first pass
compiles (a minute or more), later ones run the compiled graph. Falls back to eager, in one line, where inductor
cannot build (no C++ compiler on the CPU). Exports run as exported and take no --compile True.
"""


def inductor_missing(device: torch.device) -> str:
    """Why inductor cannot build here ('' when it can): no host C++ compiler for the CPU, no Triton for a GPU."""
    try:
        if device.type == "cpu":
            from torch._inductor.cpp_builder import get_cpp_compiler

            get_cpp_compiler()
        elif device.type == "cuda":
            from torch.utils._triton import has_triton

            if not has_triton():
                return "no working Triton for this GPU"
    except Exception as error:  # torch raises its own error types here, which vary by version
        return f"no C++ compiler for inductor ({type(error).__name__}: {str(error).splitlines()[0] if str(error) else ''})"
    return ""


def compile_line(device: torch.device) -> str:
    """The line a command prints when asked to compile."""
    missing = inductor_missing(device)
    if missing:
        return f"compile: {missing}; running eager"
    return f"compile: torch.compile (inductor{', freezing' if device.type == 'cpu' else ''}); the first pass compiles"


def compile_request(weights: str, compile_model: bool, device: str) -> str:
    """The line an inference command prints for --compile True ('' for False); an export is a DataError."""
    if not compile_model:
        return ""
    if is_export(weights):
        raise DataError(f"--compile True: {weights} is an export, a graph its runtime has already compiled; --compile applies to .pt checkpoints")
    return compile_line(torch_device(device))


@contextmanager
def compile_settings(device: torch.device) -> Iterator[None]:
    """Meanwhile a new input shape (a last, smaller batch) compiles a graph of its own instead of turning the first
    one's sizes symbolic (with freezing, inductor's symbolic-size graph for RT-DETR's top-k fails to run: a NameError
    in its generated code), and on the CPU inductor freezes weights into the graphs it builds."""
    import torch._dynamo.config as dynamo
    import torch._inductor.config as inductor

    with dynamo.patch(automatic_dynamic_shapes=False), inductor.patch(freezing=device.type == "cpu"):
        yield


@contextmanager
def compiled_runs(model, compile_model: bool, device: torch.device) -> Iterator[None]:
    """While open, `model` (an RTDETR) predicts and validates compiled, when asked and inductor can build here."""
    if not compile_model or inductor_missing(device):
        yield
        return
    overrides = dict(model.overrides)
    model.overrides["compile"] = True
    try:
        with compile_settings(device):
            yield
    finally:
        model.overrides.clear()
        model.overrides.update(overrides)


class Compiled(NamedTuple):
    """A compiled module, the seconds its first pass took (compiling), and the share of its detection rows (box, score,
    class) that eager's output has within ROW_ATOL of, order-free."""

    module: torch.nn.Module
    seconds: float
    rows_matched: float

    def summary(self, dtype: str) -> str:
        return f"compiled in {self.seconds:.1f} s (the first pass, not timed); {self.rows_matched:.1%} of its detections within {ROW_ATOL[dtype]} of eager's"


ROW_ATOL = {"fp32": 1e-3, "bf16": 1e-2, "fp16": 1e-2}  # per precision: fp32 as export.py compares an export with PyTorch


def compile_and_compare(model: torch.nn.Module, example: torch.Tensor, dtype: str = "fp32") -> Compiled:
    """`model` compiled, its first pass on `example` run (with gradients off; `dtype` the precision it runs at) and
    timed, and its detections compared with eager's on the same input, within ROW_ATOL[dtype]. Order-free: in an
    untrained model many encoder scores nearly tie, and a rounding difference then selects other queries for the
    top-k, in another order."""
    device = example.device
    with torch.inference_mode():
        eager = model(example)
        compiled = torch.compile(model)
        with compile_settings(device):
            start = time.perf_counter()
            out = compiled(example)
            seconds = time.perf_counter() - start
    rows = [matched_rows(a.float().cpu().numpy(), b.float().cpu().numpy(), ROW_ATOL[dtype]) for a, b in zip(detections(out), detections(eager))]
    return Compiled(compiled, seconds, sum(rows) / len(rows))


def detections(output) -> torch.Tensor:
    """An RT-DETR's top-k detection rows per image (its eval output is (detections, raw outputs)), else the output."""
    return output[0] if isinstance(output, (tuple, list)) else output
