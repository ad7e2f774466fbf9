"""A batch-1 call of an export in its CPU runtime, set up the one way every benchmark times runtimes.

ONNX Runtime: `threads` intra-op threads, one inter-op thread, no spinning (idle threads spinning between calls
would slow the other entries' turns in interleaved rounds). OpenVINO's CPU plugin: its latency hint, `threads`
threads and an inference precision said explicitly (`f32` unless asked otherwise: its default is bf16 on
processors with bf16 units, which quantizes every float op that is not int8 already).
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import NamedTuple

import torch

from ..tools.quantize import model_layer

INT8_KERNELS = ("QLinear", "ConvInteger", "MatMulInteger", "QGemm", "DynamicQuantize")  # ONNX Runtime's integer ops


def ort_session(model: Path | bytes, threads: int, profile_prefix: str = ""):
    """An ONNX Runtime CPU session of `model` (a path or the serialized graph); with `profile_prefix`, ONNX Runtime
    profiles every node into a JSON file starting with it."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads, options.inter_op_num_threads = threads, 1
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    if profile_prefix:
        options.enable_profiling, options.profile_file_prefix = True, profile_prefix
    return ort.InferenceSession(model if isinstance(model, bytes) else str(model), options, providers=["CPUExecutionProvider"])


def onnx_node_times(path: Path, imgsz: int, threads: int, runs: int) -> dict[tuple[str, str], float]:
    """Where ONNX Runtime's time goes in `path`: its own per-node profile of `runs` batch-1 passes (after one untimed),
    as mean ms per pass by (part, kind). Part: 'decoder' (the model's last layer: `/model.<last>/` in node names)
    or 'rest'; kind: 'int8' (integer kernels), 'q/dq' (quantizing and dequantizing) or 'float'."""
    with tempfile.TemporaryDirectory(prefix="ort_profile_") as folder:
        session = ort_session(path, threads, str(Path(folder) / "profile"))
        feed = {session.get_inputs()[0].name: torch.rand(1, 3, imgsz, imgsz).numpy()}
        for _ in range(runs + 1):
            session.run(None, feed)
        events = json.loads(Path(session.end_profiling()).read_text())
    first = min((e for e in events if e.get("name") == "model_run"), key=lambda e: e["ts"])  # the untimed pass
    nodes = [e for e in events if e.get("cat") == "Node" and e["name"].endswith("_kernel_time") and e["ts"] > first["ts"] + first["dur"]]
    last = max((model_layer(n["name"], "/model.") for n in nodes), default=-1)
    times: dict[tuple[str, str], float] = {}
    for node in nodes:
        op = node["args"].get("op_name", "")
        kind = "int8" if op.startswith(INT8_KERNELS) else "q/dq" if "Quantize" in op else "float"
        key = ("decoder" if last >= 0 and model_layer(node["name"], "/model.") == last else "rest", kind)
        times[key] = times.get(key, 0.0) + node["dur"] / 1000 / runs
    return times


def openvino_model(folder: Path, threads: int, precision: str = "f32", counters: bool = False):
    """The OpenVINO export in `folder` compiled for the CPU at inference precision `precision` (f32, bf16); with
    `counters`, the plugin's per-node performance counters on. The plugin quietly falls back to f32 where a processor
    lacks bf16 units; a column labelled bf16 must not time f32, so that is an error here."""
    import openvino as ov

    config = {"INFERENCE_PRECISION_HINT": precision, "PERFORMANCE_HINT": "LATENCY", "INFERENCE_NUM_THREADS": threads, "PERF_COUNT": counters}
    compiled = ov.Core().compile_model(str(next(Path(folder).glob("*.xml"))), "CPU", config)
    got = compiled.get_property("INFERENCE_PRECISION_HINT").get_type_name()
    if got != precision:
        raise RuntimeError(f"OpenVINO compiled {folder} at {got} where {precision} was asked (no {precision} units on this processor?)")
    return compiled


class NodeTimes(NamedTuple):
    """Mean ms per pass of an OpenVINO model, by top-level layer ('layer 20') and by the type of node that ran."""

    layers: dict[str, float]
    types: dict[str, float]


def openvino_node_times(folder: Path, imgsz: int, threads: int, precision: str, runs: int) -> NodeTimes:
    """Where OpenVINO's time goes in the export in `folder` at `precision`: its CPU plugin's own per-node counters over
    `runs` batch-1 passes (after one untimed). A node's layer is the PyTorch module it was traced from, which the
    frontend writes into its name (`__module.model.20.m/...`; 'other' where none is named); its type is what the
    plugin ran ('Convolution', 'FullyConnected', 'Subgraph': a fused chain of element-wise ops, 'Reorder': a layout
    or precision conversion between nodes, ...)."""
    request = openvino_model(folder, threads, precision, counters=True).create_infer_request()
    image = torch.rand(1, 3, imgsz, imgsz).numpy()
    request.infer([image])
    layers, types = {}, {}
    for _ in range(runs):
        request.infer([image])
        for node in request.get_profiling_info():
            ms = node.real_time.total_seconds() * 1000 / runs
            index = model_layer(node.node_name, "model.")
            layer = f"layer {index:02d}" if index >= 0 else "other"
            layers[layer] = layers.get(layer, 0.0) + ms
            types[node.node_type] = types.get(node.node_type, 0.0) + ms
    return NodeTimes(layers, types)


def runner(path: Path, imgsz: int, threads: int, openvino_precision: str = "f32") -> Callable[[], object]:
    """A batch-1 call of `path` on a fixed random image: a checkpoint fused and channels_last as Ultralytics runs it
    on a CPU, an ONNX file in ONNX Runtime, an OpenVINO folder at `openvino_precision`, a TensorRT engine on the
    first GPU."""
    image = torch.rand(1, 3, imgsz, imgsz)
    if path.suffix == ".pt":
        from ..models import RTDETR

        model = RTDETR(str(path)).model.fuse(verbose=False).eval().to(memory_format=torch.channels_last)
        image = image.contiguous(memory_format=torch.channels_last)
        return lambda: model(image)
    if path.suffix == ".onnx":
        session = ort_session(path, threads)
        feed = {session.get_inputs()[0].name: image.numpy()}
        return lambda: session.run(None, feed)
    if path.is_dir():
        request, array = openvino_model(path, threads, openvino_precision).create_infer_request(), image.numpy()
        return lambda: request.infer([array])
    from ultralytics.nn.autobackend import AutoBackend  # TensorRT engine

    backend = AutoBackend(str(path), device=torch.device("cuda:0"), fp16=True, verbose=False)
    image = image.to("cuda:0").half()
    return lambda: backend(image)
