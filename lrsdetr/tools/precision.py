"""`--half`, one meaning in every command that runs inference (val, detect, track, get_FPS): 16-bit floats where the
device has them, and the line that says what precision runs where.

- PyTorch weights: fp16 on a GPU (Ultralytics' own `quantize=16`), bf16 on CPU, where Ultralytics falls back to
  fp32 (our validator and predictor run the forward pass under torch's CPU autocast: models/autocast.py).
- OpenVINO exports: `--half False` pins its CPU plugin to f32 (its default is bf16 on processors with bf16 units:
  within 0.1 AP50 of f32 on a trained model, 4 points below on a test checkpoint trained one epoch); `--half True`
  leaves it its default.
- ONNX, TensorRT and TorchScript exports run at the precision they were exported at (fp32, fp16 or int8): `--half
  True` with one is refused, as an int8 or fp16 export is made with export.py.

A processor without bf16 units (no `avx512_bf16` or `amx_bf16` flag) still runs torch's bf16, emulated and slower
than fp32; the precision line says so.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass
from pathlib import Path

import torch

from ..utils.errors import DataError
from .formats import WeightsFormat, is_export, weights_format

CPUINFO = Path("/proc/cpuinfo")
BF16_FLAGS = ("avx512_bf16", "amx_bf16")  # x86 flags of native bf16 arithmetic, as /proc/cpuinfo names them
VECTOR_FLAGS = ("avx2", "fma", "avx512f", "avx512_vnni", "avx512_bf16", "avx512_fp16")  # x86 vector units, by width and type
MATRIX_FLAGS = ("amx_tile", "amx_bf16", "amx_int8", "amx_fp16")  # Intel's AMX tile units
HALF_HELP = """--half True: 16-bit floats where the device has them: fp16 on CUDA, bf16 on CPU (torch autocast for a .pt; an
OpenVINO export at its CPU plugin's default, bf16 on processors with bf16 units); on a processor without bf16 units
(no avx512_bf16 or amx_bf16 flag) torch's bf16 is emulated and slower than fp32. --half False: fp32. An ONNX,
TensorRT or TorchScript export runs as exported (fp32, fp16 or int8) and takes no --half True. The first line
printed says what precision runs where.
"""
OPENVINO_TYPES = {"f32": "fp32", "bf16": "bf16", "f16": "fp16"}  # OpenVINO's precision names -> ours


def cpu_flags(cpuinfo: Path = CPUINFO) -> frozenset[str] | None:
    """The processor's feature flags (the first `flags` line of /proc/cpuinfo); None where that file or line is not
    (ARM's cpuinfo names `Features` instead)."""
    try:
        lines = cpuinfo.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return None
    return next((frozenset(line.partition(":")[2].split()) for line in lines if line.startswith("flags")), None)


def processor_units(flags: Iterable[str] | None) -> str:
    """The processor's vector and matrix units that set how fast fp32, bf16 and int8 run, as /proc/cpuinfo names
    them (cpu_flags; None: unknown)."""
    if flags is None:
        return "vector and matrix units unknown (no x86 flags in /proc/cpuinfo)"
    present = set(flags)
    vector = [flag for flag in VECTOR_FLAGS if flag in present] or ["none of " + ", ".join(VECTOR_FLAGS)]
    matrix = [flag for flag in MATRIX_FLAGS if flag in present] or ["none (no " + ", ".join(MATRIX_FLAGS) + ")"]
    return f"vector: {', '.join(vector)}; matrix: {', '.join(matrix)}"


def bf16_notice(flags: Iterable[str] | None) -> str:
    """What torch's bf16 costs on a processor with these `flags` (cpu_flags; None: unknown): '' where it has bf16
    units, else that bf16 is emulated (or may be) and slow."""
    if flags is None:
        return f"whether this processor has bf16 units is unknown (no x86 flags in {CPUINFO}): bf16 may be emulated here and slow"
    if set(flags) & set(BF16_FLAGS):
        return ""
    return f"this processor has no bf16 units (no {' or '.join(BF16_FLAGS)} flag): bf16 is emulated here and slow"


@dataclass(frozen=True)
class Precision:
    """What runs a model and at which precision: `dtype` (fp32, fp16, bf16, int8, ...), `runtime` (what computes it),
    `device` ('CPU (AMD EPYC ...)'), `notice` (a cost worth knowing, or ''); `quantize`: Ultralytics' precision
    argument for PyTorch weights (16 for 16-bit floats), `openvino_hint`: the CPU plugin's INFERENCE_PRECISION_HINT
    to force (None: its default)."""

    dtype: str
    runtime: str
    device: str
    notice: str = ""
    quantize: int | None = None
    openvino_hint: str | None = None

    def __str__(self) -> str:
        return f"precision: {self.dtype} ({self.runtime}) on {self.device}" + (f"; {self.notice}" if self.notice else "")

    @contextmanager
    def applied(self, model) -> Iterator[None]:
        """While open, `model` (an RTDETR) predicts and validates at this precision."""
        overrides = dict(model.overrides)
        if self.quantize:
            model.overrides["quantize"] = self.quantize
        try:
            with _openvino_compiles_with({"INFERENCE_PRECISION_HINT": self.openvino_hint}) if self.openvino_hint else nullcontext():
                yield
        finally:
            model.overrides.clear()
            model.overrides.update(overrides)


def device_name(device: torch.device) -> str:
    """'CPU (AMD EPYC 7B13)', 'CUDA (NVIDIA H200)', or the device type for others ('MPS')."""
    from ultralytics.utils.torch_utils import get_cpu_info

    if device.type == "cpu":
        return f"CPU ({get_cpu_info()})"
    if device.type == "cuda":
        return f"CUDA ({torch.cuda.get_device_name(device)})"
    return device.type.upper()


def torch_device(device: str) -> torch.device:
    """The torch device Ultralytics runs `device` ('', 'cpu', '0', ...) on; one that is not here is a DataError."""
    from ultralytics.utils.torch_utils import select_device

    try:
        return select_device(device, verbose=False)
    except ValueError as error:
        raise DataError(f"--device {device}: {str(error).strip().splitlines()[0]}") from None


def pytorch_precision(half: bool, device: torch.device, flags: Iterable[str] | None) -> Precision:
    """PyTorch weights: fp32, or with `half` fp16 on a GPU and bf16 under torch autocast on CPU."""
    where = device_name(device)
    if not half:
        return Precision("fp32", "PyTorch", where)
    if device.type == "cpu":
        return Precision("bf16", "torch autocast", where, bf16_notice(flags), quantize=16)
    return Precision("fp16", "PyTorch", where, quantize=16)


def openvino_precision(stored: WeightsFormat, half: bool, default: str, cpu: str) -> Precision:
    """An OpenVINO export on CPU: f32 float layers, or with `half` the plugin's `default` ('f32', 'bf16', 'f16':
    bf16 on processors with bf16 units); an int8 export's quantized layers stay int8 either way."""
    floats = OPENVINO_TYPES.get(default, default) if half else "fp32"
    hint = None if half else "f32"
    version = stored.runtime.split(",")[0]
    source = "its CPU plugin's default here" if half else "INFERENCE_PRECISION_HINT f32"
    if half and floats == "fp32":
        source += f"; its bf16 needs a processor with {' or '.join(BF16_FLAGS)}"
    if stored.precision == "int8":
        return Precision("int8", f"{version}, float layers in {floats}: {source}", cpu, openvino_hint=hint)
    return Precision(floats, f"{version}, {source}", cpu, openvino_hint=hint)


def inference_precision(weights: str, half: bool, device: str, flags: Iterable[str] | None = None) -> Precision:
    """The precision `weights` (a .pt, a model YAML or an export) run at with --half `half` on --device `device`;
    `flags`: the processor's (default: cpu_flags()). An export whose precision --half cannot change is a DataError."""
    flags = cpu_flags() if flags is None else flags
    selected = torch_device(device)
    if not is_export(weights):
        return pytorch_precision(half, selected, flags)
    stored = weights_format(weights)
    if stored.name == "OpenVINO":
        import openvino as ov

        default = ov.Core().get_property("CPU", "INFERENCE_PRECISION_HINT").get_type_name()
        return openvino_precision(stored, half, default, device_name(torch.device("cpu")))
    if half:
        raise DataError(
            f"--half True: {weights} is an {stored.name} {stored.precision} export, which runs at the precision it was exported at; "
            "--half applies to .pt checkpoints and OpenVINO exports (export.py --half True or --int8 True makes a 16-bit or int8 export)"
        )
    return Precision(stored.precision, f"{stored.runtime.split(',')[0]}, as exported", device_name(selected))


@contextmanager
def _openvino_compiles_with(settings: dict) -> Iterator[None]:
    """While open, every OpenVINO Core compiles models with `settings` (a caller's own config wins): AutoBackend
    builds its own `ov.Core` and compile options, so the settings go where every Core compiles."""
    import openvino as ov

    compile_model = ov.Core.compile_model

    def compile_with(self, model, device_name=None, config=None, **kwargs):
        return compile_model(self, model, device_name, {**settings, **(config or {})}, **kwargs)

    ov.Core.compile_model = compile_with
    try:
        yield
    finally:
        ov.Core.compile_model = compile_model
