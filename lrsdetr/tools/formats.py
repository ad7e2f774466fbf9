"""What a `--weights` path is: a PyTorch checkpoint or one of the exported formats val.py scores the same way.

Ultralytics' AutoBackend runs every exported format behind one interface, so validation, its predictions.json
and the COCO report are the same code for all of them; this module only accepts the paths (an OpenVINO export
is a folder) and names the format, its stored precision and the runtime that runs it, so that a table of numbers
says what each row measured. The precision it runs at (--half) is tools/precision.py's.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ..utils.errors import DataError
from .checks import CHECKPOINT_EXAMPLE, require_checkpoint

EXPORTED_FILES = {".onnx": "ONNX", ".engine": "TensorRT", ".torchscript": "TorchScript"}
OPENVINO_FOLDER = "_openvino_model"
# ONNX ops that only a quantized graph holds (QDQ and QOperator forms)
INT8_ONNX_OPS = frozenset({"QuantizeLinear", "DequantizeLinear", "QLinearConv", "QLinearMatMul", "MatMulInteger", "ConvInteger", "DynamicQuantizeLinear"})


def is_export(weights: str | Path) -> bool:
    """Whether `weights` names an export (an .onnx, .engine or .torchscript file, or a folder: OpenVINO's) rather
    than PyTorch weights (a .pt, or a model YAML)."""
    return Path(weights).is_dir() or Path(weights).suffix in EXPORTED_FILES


@dataclass(frozen=True)
class WeightsFormat:
    """`name`: PyTorch, ONNX, OpenVINO, ...; `precision`: fp32, fp16, int8 (as stored); `runtime`: what runs it here."""

    name: str
    precision: str
    runtime: str

    def __str__(self) -> str:
        return f"{self.name} {self.precision} ({self.runtime})"


def require_weights(weights: str, argument: str = "--weights") -> str:
    """`weights` as an existing checkpoint (.pt) or export: .onnx, .engine, .torchscript file or *_openvino_model folder."""
    path = Path(weights or "")
    if path.suffix == ".pt" or not path.exists():
        return require_checkpoint(weights, argument)
    if path.is_file() and path.suffix == ".onnx":
        return _require_onnx(path, argument)
    if (path.is_file() and path.suffix in EXPORTED_FILES) or (path.is_dir() and path.name.endswith(OPENVINO_FOLDER) and any(path.glob("*.xml"))):
        return str(path)
    raise DataError(
        f"{argument} {weights}: not a model (expected a checkpoint such as {CHECKPOINT_EXAMPLE}, an export "
        f"({', '.join(EXPORTED_FILES)}) or an OpenVINO folder *{OPENVINO_FOLDER} holding its .xml)"
    )


def _require_onnx(path: Path, argument: str) -> str:
    """An .onnx file that parses into a graph: a cut-short or foreign file is named here, not in a protobuf traceback."""
    import onnx
    from google.protobuf.message import DecodeError

    try:
        graph = onnx.load(str(path), load_external_data=False).graph
    except DecodeError:
        graph = None
    if graph is None or not graph.node:
        raise DataError(f"{argument} {path}: not an ONNX model, or a truncated one (expected a .onnx file that export.py writes)")
    return str(path)


def weights_format(weights: str | Path) -> WeightsFormat:
    """The format, stored precision and runtime of a path `require_weights` accepted."""
    path = Path(weights)
    if path.is_dir():
        return _openvino_format(path)
    if path.suffix == ".onnx":
        return _onnx_format(path)
    if path.suffix == ".pt":
        import torch

        return WeightsFormat("PyTorch", "fp32", f"torch {torch.__version__}")
    return WeightsFormat(EXPORTED_FILES[path.suffix], "as built", EXPORTED_FILES[path.suffix])


def _onnx_format(path: Path) -> WeightsFormat:
    import onnx
    import onnxruntime as ort

    model = onnx.load(str(path), load_external_data=False)
    if {node.op_type for node in model.graph.node} & INT8_ONNX_OPS:
        precision = "int8"
    elif any(t.data_type == onnx.TensorProto.FLOAT16 for t in model.graph.initializer):
        precision = "fp16"
    else:
        precision = "fp32"
    return WeightsFormat("ONNX", precision, f"ONNX Runtime {ort.__version__}, CPU")


def _openvino_format(folder: Path) -> WeightsFormat:
    """Stored precision from the IR's ops and constants."""
    import openvino as ov

    core = ov.Core()
    model = core.read_model(str(next(folder.glob("*.xml"))))
    ops = list(model.get_ops())
    if any(op.get_type_name() == "FakeQuantize" for op in ops):
        precision = "int8"
    elif any(op.get_type_name() == "Constant" and op.get_element_type() == ov.Type.f16 for op in ops):
        precision = "fp16"
    else:
        precision = "fp32"
    return WeightsFormat("OpenVINO", precision, f"OpenVINO {ov.get_version().split('-')[0]}")
