"""What a `--weights` path is: a PyTorch checkpoint or one of the exported formats val.py scores the same way.

Ultralytics' AutoBackend runs every exported format behind one interface, so validation, its predictions.json
and the COCO report are the same code for all of them; this module only accepts the paths (an OpenVINO export
is a folder) and names the format, its precision and the runtime that ran it, so that a table of numbers
says what each row measured. One runtime setting is ours: OpenVINO's CPU plugin computes an fp32 IR in bf16
on processors with bf16 units (AutoBackend keeps that default), which cost 4 AP50 points in our test, so
val.py scores OpenVINO exports with the plugin in f32 (`openvino_in_f32`): the numbers measure the export.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from ..utils.errors import DataError
from .checks import CHECKPOINT_EXAMPLE, require_checkpoint

EXPORTED_FILES = {".onnx": "ONNX", ".engine": "TensorRT", ".torchscript": "TorchScript"}
OPENVINO_FOLDER = "_openvino_model"
# ONNX ops that only a quantized graph holds (QDQ and QOperator forms)
INT8_ONNX_OPS = frozenset({"QuantizeLinear", "DequantizeLinear", "QLinearConv", "QLinearMatMul", "MatMulInteger", "ConvInteger", "DynamicQuantizeLinear"})


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


@contextmanager
def openvino_in_f32(weights: str | Path) -> Iterator[None]:
    """While open, OpenVINO compiles models with `INFERENCE_PRECISION_HINT: f32` if `weights` is an OpenVINO export.

    Quantized (int8) parts of an IR stay int8; only the float parts leave bf16. AutoBackend builds its own
    `ov.Core` and compile options, so the hint is added where every Core compiles.
    """
    if not Path(weights).is_dir():
        yield
        return
    import openvino as ov

    compile_model = ov.Core.compile_model

    def compile_in_f32(self, model, device_name=None, config=None, **kwargs):
        return compile_model(self, model, device_name, {"INFERENCE_PRECISION_HINT": "f32", **(config or {})}, **kwargs)

    ov.Core.compile_model = compile_in_f32
    try:
        yield
    finally:
        ov.Core.compile_model = compile_model


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
    """Stored precision from the IR's ops and constants; val.py runs it in f32 (`openvino_in_f32`), the CPU
    plugin's default (bf16 on processors with bf16 units) is said beside it."""
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
    default = core.get_property("CPU", "INFERENCE_PRECISION_HINT").get_type_name()
    return WeightsFormat("OpenVINO", precision, f"OpenVINO {ov.get_version().split('-')[0]}, CPU in f32; its default here: {default}")
