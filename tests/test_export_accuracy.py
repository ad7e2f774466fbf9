"""Accuracy after export: val.py scores an ONNX file and an OpenVINO folder with the same validation and COCO
report as the checkpoint, export.py --check_map compares them right after exporting, and the int8 exports
find the checkpoint's detections.

The model is trained for one epoch on tiny images, so its AP on the drawn labels is ~0 and would agree in any
runtime. The val split is therefore labelled with the checkpoint's own confident detections: PyTorch scores
a high AP50 on it, and an export whose boxes, scores or classes drift loses AP50 against that.
"""

import json
import shutil
from pathlib import Path

import onnx
import pytest
from script_runs import run_in_subprocess
from source_tree import unchanged

from lrsdetr import RTDETR
from lrsdetr.engine.export import export_model
from lrsdetr.tools.quantize import QUANTIZED_OPS, float_nodes

REPO = Path(__file__).resolve().parents[1]
IMGSZ = 128
pytestmark = pytest.mark.slow



def label_with_own_detections(checkpoint: Path, data_yaml: Path, per_image: int = 5) -> None:
    """Replace the val labels by the checkpoint's `per_image` highest-scoring detections (YOLO format)."""
    root = data_yaml.parent
    model = RTDETR(str(checkpoint))
    for image in sorted((root / "images" / "val").glob("*.jpg")):
        boxes = model.predict(str(image), imgsz=IMGSZ, conf=0.0, max_det=per_image, verbose=False)[0].boxes
        lines = [f"{int(c)} {x:.6f} {y:.6f} {w:.6f} {h:.6f}" for c, (x, y, w, h) in zip(boxes.cls.tolist(), boxes.xywhn.tolist())]
        (root / "labels" / "val" / f"{image.stem}.txt").write_text("\n".join(lines) + "\n")


@pytest.fixture(scope="module")
def trained(trained_b, tiny_data, tmp_path_factory):
    """(checkpoint, data.yaml): copies of the session's one-epoch train.py checkpoint and of the tiny images it was
    trained on, the val split labelled by the checkpoint."""
    root = tmp_path_factory.mktemp("accuracy")
    shutil.copytree(tiny_data.parent, root / "data")
    data_yaml = root / "data" / "data.yaml"
    data_yaml.write_text(data_yaml.read_text().replace(f"path: {tiny_data.parent}\n", f"path: {root / 'data'}\n", 1))
    checkpoint = root / "runs" / "b" / "weights" / "best.pt"
    checkpoint.parent.mkdir(parents=True)
    shutil.copyfile(trained_b[0] / "weights" / "best.pt", checkpoint)
    label_with_own_detections(checkpoint, data_yaml)
    return checkpoint, data_yaml


def val_ap50(weights: Path, data_yaml: Path, project: Path) -> tuple[float, str]:
    """val.py on `weights`: the COCO AP50 of its report (saved metrics file) and its printed output."""
    out = run_in_subprocess("val.py", "--weights", weights, "--data", data_yaml, "--split", "val", "--imgsz", IMGSZ, "--batch", 4,
              "--device", "cpu", "--plots", "false", "--project", project, "--name", weights.name)
    metrics = json.loads((project / weights.name / "coco_metrics" / "metrics_maxDets100.json").read_text())
    return metrics["coco"]["summary"]["AP50"], out.stdout


def test_val_scores_onnx_and_openvino_like_pytorch(trained, tmp_path):
    checkpoint, data_yaml = trained
    model = RTDETR(str(checkpoint))
    exports = [Path(model.export(format="onnx", imgsz=IMGSZ)), Path(model.export(format="openvino", imgsz=IMGSZ))]
    reference, out = val_ap50(checkpoint, data_yaml, tmp_path)
    assert reference > 0.8, f"the checkpoint scores only AP50 {reference:.3f} on its own detections"
    assert "weights: " in out and "PyTorch fp32" in out
    for weights, name in zip(exports, ("ONNX fp32", "OpenVINO fp32")):
        ap50, out = val_ap50(weights, data_yaml, tmp_path)
        assert f"{name} (" in out and "Average Precision  (AP) @[ IoU=0.50      | area=   all | maxDets=100 ]" in out
        assert abs(ap50 - reference) <= 0.005, f"{name}: AP50 {ap50:.4f} vs PyTorch {reference:.4f}"


def test_export_check_map_prints_both_and_warns_past_tolerance(trained, tmp_path):
    checkpoint, data_yaml = trained
    weights = Path(checkpoint.parent.parent / "copy" / checkpoint.name)
    weights.parent.mkdir(exist_ok=True)
    weights.write_bytes(checkpoint.read_bytes())
    # a negative tolerance warns whatever the export scores: the warning path runs
    out = run_in_subprocess("export.py", "--weights", weights, "--imgsz", IMGSZ, "--check_map", True, "--data", data_yaml, "--map_tolerance", -1)
    assert "PyTorch fp32" in out.stdout and "ONNX fp32" in out.stdout and "WARNING: best.onnx loses" in out.stdout
    rows = [line.split() for line in out.stdout.splitlines() if "PyTorch fp32 (" in line or "ONNX fp32 (" in line]
    assert len(rows) == 2 and abs(float(rows[0][1]) - float(rows[1][1])) <= 0.005, rows


def test_int8_exports_agree_with_pytorch(trained, tmp_path):
    """INT8 for CPUs, calibrated on the val images: ONNX Runtime static quantization with the decoder, FGM's DFT
    and the attention products kept fp32, and OpenVINO through Ultralytics' NNCF export, both find the
    checkpoint's own detections on the val images (int8 loses some AP50; a broken graph loses it all)."""
    checkpoint, data_yaml = trained
    weights = tmp_path / checkpoint.name
    weights.write_bytes(checkpoint.read_bytes())
    fp32 = export_model(str(weights), "onnx", IMGSZ)
    fp32_bytes = fp32.read_bytes()
    with unchanged(Path(data_yaml).parent):  # calibration writes nothing into the data set (no label cache, no re-saved JPEG)
        onnx_int8 = export_model(str(weights), "onnx", IMGSZ, int8=True, data=str(data_yaml))
        ov_int8 = export_model(str(weights), "openvino", IMGSZ, int8=True, data=str(data_yaml))
    assert onnx_int8.name == "best_int8.onnx" and ov_int8.name == "best_int8_openvino_model"
    assert fp32.read_bytes() == fp32_bytes  # the int8 export's own fp32 intermediate went elsewhere

    graph = onnx.load(str(onnx_int8)).graph
    initializers = {t.name for t in graph.initializer}
    int8_weights = {n.output[0] for n in graph.node if n.op_type == "DequantizeLinear" and n.input[0] in initializers}
    quantized = {n.name for n in graph.node if n.op_type in QUANTIZED_OPS and int8_weights & set(n.input)}
    kept = set(float_nodes(onnx.load(str(fp32)).graph))
    assert len(quantized) > 50 and len(kept) > 50 and not kept & quantized
    # 7-bit weights: x86 int8 kernels without VNNI add pairs of uint8 x int8 products in saturating int16
    weights_int8 = [onnx.numpy_helper.to_array(t) for t in graph.initializer if t.data_type == onnx.TensorProto.INT8]
    assert weights_int8 and max(int(abs(w.astype(int)).max()) for w in weights_int8) == 64

    for path, name in ((onnx_int8, "ONNX int8"), (ov_int8, "OpenVINO int8")):
        ap50, out = val_ap50(path, data_yaml, tmp_path / "val")
        assert f"{name} (" in out
        assert ap50 >= 0.7, f"{name}: AP50 {ap50:.3f} on the checkpoint's own detections"
