"""INT8 for CPUs: ONNX Runtime static quantization (ONNX) or NNCF's (OpenVINO), calibrated on a data set's val
images, with the parts of LRS-DETR that int8 hurts most kept in float.

Ultralytics' own `export(format='onnx', quantize=8)` quantizes every Conv, Gemm and MatMul. Three kinds of
MatMul in LRS-DETR carry values one int8 scale per tensor represents badly: the decoder's (box coordinates
and class logits side by side, and its deformable attention), FGM's DFT products (spectra whose range grows
with the image size) and the attention products of LFA and ASSA (two activations, both quantized per
tensor). `KEEP_FLOAT` names them by their place in the graph (`/model.<i>/...` scopes that torch's exporter
writes); the convolutions, almost all of the FLOPs, are what int8 speeds up. The weights are quantized per
output channel (symmetric, 7 bits of int8), the activations per tensor (uint8), the QDQ form ONNX Runtime fuses
into its int8 kernels.

Seven bits, not eight (`reduce_range`): x86 processors without VNNI (AVX2 ones, AVX-512 before Cascade Lake)
multiply uint8 by int8 and add pairs of products in saturating int16, which full-range weights overflow. On an
AVX2 EPYC, a trained LRS-DETR-B's ONNX int8 export scored 0.232 AP against fp32's 0.262 with 8-bit weights and
0.263 with 7 (docs/export.md); the export does not know the processor it will run on.
"""

from __future__ import annotations

import logging
import re
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


def stays_float(layer: int, last_layer: int, in_fgm: bool, product_of_activations: bool, keep: Iterable[str]) -> bool:
    """Whether a quantizable op stays float, by `keep` (parts of KEEP_FLOAT): decoder, everything in the last layer
    (RT-DETR's decoder is the model's last module); dft, FGM's matrix products; attention, matrix products of two
    activations (no weight: LFA, ASSA, the decoder's). The same rule for an ONNX graph and an OpenVINO model."""
    return (("decoder" in keep and layer == last_layer) or ("dft" in keep and in_fgm)
            or ("attention" in keep and product_of_activations))


def model_layer(name: str, marker: str) -> int:
    """The model layer index in an op's name (`/model.12/...` in ONNX, `__module.model.12....` in OpenVINO), else -1."""
    _, found, rest = name.partition(marker)
    digits = re.match(r"\d+", rest) if found else None
    return int(digits.group()) if digits else -1


def float_nodes(graph, keep: Iterable[str] = KEEP_FLOAT) -> list[str]:
    """Names of the Conv/Gemm/MatMul nodes of `graph` (an ONNX GraphProto) that `keep` says stay float (`stays_float`)."""
    keep = keep_float_parts(",".join(keep))
    nodes = [n for n in graph.node if n.op_type in QUANTIZED_OPS]
    constants = {t.name for t in graph.initializer} | {out for n in graph.node if n.op_type == "Constant" for out in n.output}
    last = max((model_layer(n.name, "/model.") for n in nodes), default=-1)
    return [n.name for n in nodes if stays_float(model_layer(n.name, "/model."), last, n.op_type == "MatMul" and "/fgm/" in n.name,
                                                 n.op_type == "MatMul" and not constants & set(n.input), keep)]


def openvino_float_nodes(model, keep: Iterable[str] = KEEP_FLOAT) -> list[str]:
    """Friendly names of the Convolution/MatMul ops of an OpenVINO model that `keep` says stay float (`stays_float`)."""
    keep = keep_float_parts(",".join(keep))
    ops = [op for op in model.get_ordered_ops() if op.get_type_name() in ("Convolution", "MatMul")]

    def weight(source) -> bool:  # a constant, perhaps through a Convert (fp16 weights)
        node = source.get_node()
        return node.get_type_name() == "Constant" or (node.get_type_name() == "Convert" and node.input_value(0).get_node().get_type_name() == "Constant")

    last = max((model_layer(op.get_friendly_name(), "model.") for op in ops), default=-1)
    return [op.get_friendly_name() for op in ops
            if stays_float(model_layer(op.get_friendly_name(), "model."), last, op.get_type_name() == "MatMul" and ".fgm" in op.get_friendly_name(),
                           op.get_type_name() == "MatMul" and not any(weight(op.input_value(i)) for i in range(2)), keep)]


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
            reduce_range=True,
        )
        result = onnx.load(str(quantized))
    del result.metadata_props[:]
    result.metadata_props.extend(model.metadata_props)
    write_bytes_atomic(target, result.SerializeToString())
    return target


def quantize_openvino(source: Path, data: str, imgsz: int, keep: Iterable[str] = KEEP_FLOAT, count: int = CALIBRATION_IMAGES) -> Path:
    """Write `<stem>_int8_openvino_model/` beside `source` (an fp32 OpenVINO export folder, `<stem>_openvino_model`) and
    return it: NNCF's post-training quantization with the `keep` parts left float, as the ONNX path does (Ultralytics'
    own int8 export quantizes those too: 0.50 against 0.86 AP50 on the checkpoint's own detections in our test)."""
    import nncf
    import openvino as ov

    images = list(calibration_images(data, imgsz, count))
    if not images:
        raise DataError(f"--data {data}: no val images to calibrate int8 on")
    xml = next(Path(source).glob("*.xml"))
    model = ov.Core().read_model(str(xml))
    nncf_log = logging.getLogger("nncf")  # its INFO lists every op left float: hundreds of lines
    level = nncf_log.level
    nncf_log.setLevel(logging.WARNING)
    try:
        quantized = nncf.quantize(model, nncf.Dataset(images), preset=nncf.QuantizationPreset.MIXED, model_type=nncf.ModelType.TRANSFORMER,
                                  subset_size=len(images), ignored_scope=nncf.IgnoredScope(names=openvino_float_nodes(model, keep), validate=False))
    finally:
        nncf_log.setLevel(level)
    target = Path(source).with_name(Path(source).name.replace("_openvino_model", "_int8_openvino_model"))
    target.mkdir(exist_ok=True)
    ov.save_model(quantized, str(target / xml.name))
    for extra in Path(source).glob("*.yaml"):  # metadata.yaml: what AutoBackend reads (names, stride, imgsz)
        write_bytes_atomic(target / extra.name, extra.read_bytes())
    return target
