"""INT8 ONNX for CPUs: ONNX Runtime static quantization, calibrated on a data set's val images, with the parts of
LRS-DETR that int8 hurts most kept in float.

Ultralytics' own `export(format='onnx', quantize=8)` quantizes every Conv, Gemm and MatMul. Three kinds of
MatMul in LRS-DETR carry values one int8 scale per tensor represents badly: the decoder's (box coordinates
and class logits side by side, and its deformable attention), FGM's DFT products (spectra whose range grows
with the image size) and the attention products of LFA and ASSA (two activations, both quantized per
tensor). `KEEP_FLOAT` names them by their place in the graph (`/model.<i>/...` scopes that torch's exporter
writes); the convolutions, almost all of the FLOPs, are what int8 speeds up. The weights are quantized per
output channel (symmetric int8), the activations per tensor (uint8), the QDQ form ONNX Runtime fuses into
its int8 kernels.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path

import numpy as np

from ..data.files import write_bytes_atomic
from ..utils.errors import DataError
from .checks import require_data

QUANTIZED_OPS = ("Conv", "Gemm", "MatMul")
KEEP_FLOAT = ("decoder", "dft", "attention")
CALIBRATION_IMAGES = 64


def calibration_images(data: str, imgsz: int, count: int = CALIBRATION_IMAGES, split: str = "val") -> Iterator[np.ndarray]:
    """Up to `count` images of `data`'s `split`, as validation feeds them: letterboxed to `imgsz`, RGB, 0-1, NCHW."""
    from ultralytics.cfg import get_cfg

    from ..data.dataset import LRSDETRDataset

    info = require_data(data, splits=(split,))
    dataset = LRSDETRDataset(img_path=info[split], imgsz=imgsz, augment=False, hyp=get_cfg(), rect=False, data=info, prefix="calibration: ")
    for i in np.linspace(0, len(dataset) - 1, min(count, len(dataset))).round().astype(int):
        yield dataset[int(i)]["img"].numpy()[None].astype(np.float32) / 255.0


def keep_float_parts(keep_float: str) -> tuple[str, ...]:
    """The parts a `--keep_float` value names ('decoder,dft'; '' for none), each one of KEEP_FLOAT: checked before an
    export writes anything."""
    parts = tuple(part.strip() for part in keep_float.split(",") if part.strip())
    unknown = [part for part in parts if part not in KEEP_FLOAT]
    if unknown:
        raise DataError(f"--keep_float {keep_float}: unknown part {unknown[0]} (expected some of {','.join(KEEP_FLOAT)}, or '' for none)")
    return parts


def float_nodes(graph, keep: Iterable[str] = KEEP_FLOAT) -> list[str]:
    """Names of the Conv/Gemm/MatMul nodes of `graph` (an ONNX GraphProto) that `keep` (parts of KEEP_FLOAT) says stay float.

    decoder: everything under the last layer's scope (RT-DETR's decoder is the model's last module);
    dft: FGM's matrix products; attention: MatMuls of two activations (no weight) inside LFA, ASSA, the decoder.
    """
    keep = keep_float_parts(",".join(keep))
    nodes = [n for n in graph.node if n.op_type in QUANTIZED_OPS]
    constants = {t.name for t in graph.initializer} | {out for n in graph.node if n.op_type == "Constant" for out in n.output}
    layers = [int(n.name.split("/")[1].split(".")[1]) for n in nodes if n.name.startswith("/model.")]
    decoder_scope = f"/model.{max(layers)}/" if layers else None

    def stays_float(node) -> bool:
        return (
            ("decoder" in keep and decoder_scope is not None and node.name.startswith(decoder_scope))
            or ("dft" in keep and node.op_type == "MatMul" and "/fgm/" in node.name)
            or ("attention" in keep and node.op_type == "MatMul" and not constants & set(node.input))
        )

    return [n.name for n in nodes if stays_float(n)]


def quantize_onnx(source: Path, data: str, imgsz: int, keep: Iterable[str] = KEEP_FLOAT, count: int = CALIBRATION_IMAGES) -> Path:
    """Write `<source stem>_int8.onnx` beside `source` (an fp32 export) and return its path; the export's metadata
    (names, stride, imgsz: what AutoBackend reads) is carried over."""
    import onnx
    from onnxruntime.quantization import CalibrationDataReader, QuantFormat, QuantType, quantize_static

    images = list(calibration_images(data, imgsz, count))
    if not images:
        raise DataError(f"--data {data}: no val images to calibrate int8 on")
    model = onnx.load(str(source))
    input_name = model.graph.input[0].name
    kept = float_nodes(model.graph, keep)
    excluded = [n.name for n in model.graph.node if n.op_type not in QUANTIZED_OPS] + kept

    class Reader(CalibrationDataReader):
        def __init__(self) -> None:
            self.batches = iter(images)

        def get_next(self) -> dict | None:
            image = next(self.batches, None)
            return None if image is None else {input_name: image}

    target = source.with_name(f"{source.stem}_int8.onnx")
    with tempfile.TemporaryDirectory(prefix="int8_") as folder:
        quantized = Path(folder) / "int8.onnx"
        quantize_static(
            str(source), str(quantized), Reader(), quant_format=QuantFormat.QDQ, op_types_to_quantize=list(QUANTIZED_OPS),
            nodes_to_exclude=excluded, per_channel=True, activation_type=QuantType.QUInt8, weight_type=QuantType.QInt8,
        )
        result = onnx.load(str(quantized))
    del result.metadata_props[:]
    result.metadata_props.extend(model.metadata_props)
    write_bytes_atomic(target, result.SerializeToString())
    return target
