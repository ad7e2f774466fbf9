"""--half, one meaning in val, detect, track and get_FPS (lrsdetr/tools/precision.py): fp32 by default; 16-bit floats
where the device has them (bf16 under torch autocast on CPU, as this suite runs); OpenVINO at f32 or at its plugin's
default; int8 and other exports named as exported. The first line each command prints says what runs where, and,
from the processor's flags (fed here as an AMD EPYC Zen 3 and a Xeon with AMX would give them), whether bf16 is
emulated. Bad values are one line. The tiny models and exports are made here; nothing is timed."""

import json
import shutil
from types import SimpleNamespace

import cv2
import numpy as np
import onnx
import onnxruntime as ort
import openvino as ov
import openvino.opset13 as ops
import pytest
import torch
from onnx import TensorProto, helper
from script_runs import checkpoint, one_line_error, run_main, run_main_output  # noqa: F401 (checkpoint: a fixture)
from test_export import lively_checkpoint
from tiny_data import write_tiny_dataset

from lrsdetr import RTDETR
from lrsdetr.eval.agreement import matched_rows
from lrsdetr.models.autocast import cpu_bf16
from lrsdetr.tools.formats import WeightsFormat
from lrsdetr.tools.precision import (
    bf16_notice,
    cpu_flags,
    device_name,
    inference_precision,
    openvino_precision,
    pytorch_precision,
)
from lrsdetr.utils.cli import check_values
from lrsdetr.utils.errors import DataError

EPYC_ZEN3 = frozenset({"fpu", "sse4_2", "avx", "avx2", "fma"})  # AVX2 only: bf16 is emulated
XEON_AMX = frozenset({"fpu", "avx2", "avx512f", "avx512_bf16", "amx_tile", "amx_bf16", "amx_int8"})
EMULATED = "this processor has no bf16 units (no avx512_bf16 or amx_bf16 flag): bf16 is emulated here and slow"
CPU = device_name(torch.device("cpu"))
# bf16 keeps 8 significant bits: scores and normalised box coordinates move by a few thousandths
BF16_ATOL = 1e-2
IMGSZ = 128  # 336 anchors at strides 8-32: the decoder's 300 queries are a real top-k


def test_cpu_flags_come_from_proc_cpuinfo(tmp_path):
    cpuinfo = tmp_path / "cpuinfo"
    cpuinfo.write_text("processor\t: 0\nmodel name\t: Intel Xeon\nflags\t\t: fpu avx2 amx_bf16\n\nprocessor\t: 1\nflags\t\t: fpu\n")
    assert cpu_flags(cpuinfo) == {"fpu", "avx2", "amx_bf16"}
    assert cpu_flags(tmp_path / "missing") is None


@pytest.mark.parametrize("flags, notice", [
    (EPYC_ZEN3, EMULATED),
    (XEON_AMX, ""),
    (EPYC_ZEN3 | {"avx512_bf16"}, ""),  # Zen 4: AVX-512 bf16, no AMX
    (None, "whether this processor has bf16 units is unknown (no x86 flags in /proc/cpuinfo): bf16 may be emulated here and slow"),
])
def test_bf16_notice_follows_the_processor_flags(flags, notice):
    assert bf16_notice(flags) == notice


def test_pytorch_precision_lines(monkeypatch):
    cpu = torch.device("cpu")
    assert str(pytorch_precision(False, cpu, EPYC_ZEN3)) == f"precision: fp32 (PyTorch) on {CPU}"
    assert str(pytorch_precision(True, cpu, EPYC_ZEN3)) == f"precision: bf16 (torch autocast) on {CPU}; {EMULATED}"
    assert str(pytorch_precision(True, cpu, XEON_AMX)) == f"precision: bf16 (torch autocast) on {CPU}"
    assert pytorch_precision(True, cpu, XEON_AMX).quantize == 16 and pytorch_precision(False, cpu, XEON_AMX).quantize is None
    monkeypatch.setattr(torch.cuda, "get_device_name", lambda device=None: "NVIDIA H200")  # the name only: no GPU here
    cuda = torch.device("cuda", 0)
    assert str(pytorch_precision(True, cuda, EPYC_ZEN3)) == "precision: fp16 (PyTorch) on CUDA (NVIDIA H200)"
    assert str(pytorch_precision(False, cuda, EPYC_ZEN3)) == "precision: fp32 (PyTorch) on CUDA (NVIDIA H200)"


@pytest.mark.parametrize("stored, half, default, line, hint", [
    ("fp32", False, "bf16", "fp32 (OpenVINO 2026.4, INFERENCE_PRECISION_HINT f32)", "f32"),
    ("fp32", True, "bf16", "bf16 (OpenVINO 2026.4, its CPU plugin's default here)", None),
    ("fp32", True, "f32", "fp32 (OpenVINO 2026.4, its CPU plugin's default here; its bf16 needs a processor with avx512_bf16 or amx_bf16)", None),
    ("int8", False, "bf16", "int8 (OpenVINO 2026.4, float layers in fp32: INFERENCE_PRECISION_HINT f32)", "f32"),
    ("int8", True, "bf16", "int8 (OpenVINO 2026.4, float layers in bf16: its CPU plugin's default here)", None),
])
def test_openvino_precision_lines(stored, half, default, line, hint):
    """`default`: what the CPU plugin computes in unless told (bf16 on a Xeon with AMX, f32 on an AVX2 EPYC)."""
    precision = openvino_precision(WeightsFormat("OpenVINO", stored, "OpenVINO 2026.4"), half, default, "CPU (Xeon)")
    assert str(precision) == f"precision: {line} on CPU (Xeon)" and precision.openvino_hint == hint


# Tiny exports, made here: the int8 ones hold what export.py's int8 exports hold (QDQ nodes; FakeQuantize)
def _onnx(path, int8: bool):
    weight = helper.make_tensor("w", TensorProto.FLOAT, [4, 4], np.eye(4, dtype=np.float32).ravel())
    nodes = [helper.make_node("MatMul", ["x", "w"], ["y"])]
    inits = [weight]
    if int8:
        inits += [helper.make_tensor("s", TensorProto.FLOAT, [], [0.1]), helper.make_tensor("z", TensorProto.INT8, [], [0])]
        nodes = [helper.make_node("QuantizeLinear", ["x", "s", "z"], ["q"]), helper.make_node("DequantizeLinear", ["q", "s", "z"], ["d"]),
                 helper.make_node("MatMul", ["d", "w"], ["y"])]
    graph = helper.make_graph(nodes, "tiny", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 4])], inits)
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), str(path))
    return path


def _openvino(folder, int8: bool):
    x = ops.parameter([1, 4], np.float32, name="x")
    source = ops.fake_quantize(x, -1.0, 1.0, -1.0, 1.0, 256) if int8 else x
    folder.mkdir()
    ov.save_model(ov.Model([ops.matmul(source, np.eye(4, dtype=np.float32), False, False)], [x]), str(folder / "tiny.xml"))
    return folder


@pytest.fixture(scope="module")
def exports(tmp_path_factory):
    root = tmp_path_factory.mktemp("exports")
    return {"onnx": _onnx(root / "best.onnx", False), "onnx int8": _onnx(root / "best_int8.onnx", True),
            "openvino": _openvino(root / "best_openvino_model", False), "openvino int8": _openvino(root / "best_int8_openvino_model", True)}


def test_exports_are_named_at_the_precision_they_run(exports):
    assert str(inference_precision(str(exports["onnx int8"]), False, "cpu")) == f"precision: int8 (ONNX Runtime {ort.__version__}, as exported) on {CPU}"
    assert str(inference_precision(str(exports["onnx"]), False, "cpu")) == f"precision: fp32 (ONNX Runtime {ort.__version__}, as exported) on {CPU}"
    version = ov.get_version().split("-")[0]
    line = str(inference_precision(str(exports["openvino int8"]), False, "cpu"))
    assert line == f"precision: int8 (OpenVINO {version}, float layers in fp32: INFERENCE_PRECISION_HINT f32) on {CPU}"
    default = ov.Core().get_property("CPU", "INFERENCE_PRECISION_HINT").get_type_name()
    half = inference_precision(str(exports["openvino"]), True, "cpu")
    assert half.dtype == {"f32": "fp32", "bf16": "bf16", "f16": "fp16"}[default]
    with pytest.raises(DataError, match=r"^--half True: .*best\.onnx is an ONNX fp32 export, which runs at the precision it was exported at"):
        inference_precision(str(exports["onnx"]), True, "cpu")


@pytest.mark.parametrize("half", [False, True])
def test_openvino_compiles_at_the_precision_the_line_gives(exports, half):
    """--half False pins the CPU plugin to f32 (its default is bf16 where the processor has bf16 units); --half True
    leaves it its default. Only while the command runs."""
    precision = inference_precision(str(exports["openvino"]), half, "cpu")
    core = ov.Core()
    model = core.read_model(str(exports["openvino"] / "tiny.xml"))
    with precision.applied(SimpleNamespace(overrides={})):
        compiled = ov.Core().compile_model(model, "CPU")
    assert {"f32": "fp32", "bf16": "bf16", "f16": "fp16"}[compiled.get_property("INFERENCE_PRECISION_HINT").get_type_name()] == precision.dtype
    assert ov.Core().compile_model(model, "CPU").get_property("INFERENCE_PRECISION_HINT") == core.get_property("CPU", "INFERENCE_PRECISION_HINT")


@pytest.fixture(scope="module")
def lively(tmp_path_factory):
    return lively_checkpoint(tmp_path_factory.mktemp("bf16"))


def assert_close_in_bf16(bf16: np.ndarray, fp32: np.ndarray) -> None:
    """Rows (box, score, class) of bf16 inference against fp32's: not equal (bf16 did run), the same scores to
    BF16_ATOL, and 85% of rows within it, order-free (queries near the top-k cut may swap)."""
    assert bf16.dtype == fp32.dtype == np.float32 and bf16.shape == fp32.shape
    assert not np.array_equal(bf16, fp32)
    np.testing.assert_allclose(np.sort(bf16[:, 4]), np.sort(fp32[:, 4]), atol=BF16_ATOL, rtol=0)
    share = matched_rows(bf16, fp32, atol=BF16_ATOL)
    assert share >= 0.85, f"only {share:.0%} of bf16 rows within {BF16_ATOL} of fp32's"


def test_bf16_raw_outputs_are_close_to_fp32(lively):
    model = RTDETR(str(lively)).model.fuse(verbose=False).eval()
    images = torch.from_numpy(np.random.default_rng(0).random((1, 3, IMGSZ, IMGSZ), dtype=np.float32))
    with torch.inference_mode():
        fp32 = model(images)[0][0].numpy()
        with cpu_bf16():
            bf16 = model(images)[0][0].numpy()
    assert_close_in_bf16(bf16, fp32)


def test_predict_and_val_run_bf16_on_cpu_and_leave_the_model_as_it_was(lively, tmp_path):
    """Ultralytics' `quantize=16` (what --half True passes) on CPU: bf16 detections close to fp32's; the validator
    wraps the forward of its own copy only."""
    image = np.random.default_rng(1).integers(0, 255, (IMGSZ, IMGSZ, 3), dtype=np.uint8)
    model = RTDETR(str(lively))
    state = {k: v.clone() for k, v in model.model.state_dict().items()}

    def rows(**precision):
        boxes = model.predict(image, imgsz=IMGSZ, conf=0.0, device="cpu", verbose=False, **precision)[0].boxes
        return torch.cat([boxes.xyxyn, boxes.conf[:, None], boxes.cls[:, None]], 1).numpy()

    assert_close_in_bf16(rows(quantize=16), rows())
    data = write_tiny_dataset(tmp_path / "data", n_train=1, n_val=2, size=64, nc=10)
    model.val(data=str(data), imgsz=64, batch=2, device="cpu", plots=False, verbose=False, quantize=16, project=str(tmp_path / "runs"))
    assert "forward" not in vars(model.model)
    assert all(torch.equal(v, state[k]) for k, v in model.model.state_dict().items())


@pytest.fixture(scope="module")
def data10(tmp_path_factory):
    """Two 64 px val images of the untrained checkpoint's ten classes."""
    return write_tiny_dataset(tmp_path_factory.mktemp("data10"), n_train=1, n_val=2, size=64, nc=10)


def test_val_half_on_cpu_runs_and_scores(checkpoint, data10, tmp_path, capsys, monkeypatch):
    found = {}
    for half in (False, True):
        status, out, err = run_main_output(capsys, monkeypatch, "val.py", "--weights", checkpoint, "--data", data10, "--split", "val", "--imgsz", 64,
                                           "--batch", 2, "--device", "cpu", "--half", half, "--plots", False, "--project", tmp_path, "--name", f"half{half}")
        assert status == 0, err
        assert out.splitlines()[0] == str(pytorch_precision(half, torch.device("cpu"), cpu_flags()))
        assert "mAP50-95 " in out and "Average Precision  (AP) @[ IoU=0.50:0.95 | area=   all | maxDets=100 ]" in out
        found[half] = json.loads((tmp_path / f"half{half}" / "predictions.json").read_text())
    assert out.splitlines()[0].startswith(f"precision: bf16 (torch autocast) on {CPU}")
    assert {r["image_id"] for r in found[True]} == {r["image_id"] for r in found[False]}
    assert found[True] != found[False]


def test_detect_track_and_fps_say_bf16_first(checkpoint, data10, tmp_path, capsys, monkeypatch):
    """The same first line in each command, and the commands run (sliced detection too: SAHI calls the predictor)."""
    line = str(pytorch_precision(True, torch.device("cpu"), cpu_flags()))
    images = data10.parent / "images" / "val"
    sequence = tmp_path / "sequences" / "seq"
    sequence.mkdir(parents=True)
    for number, image in enumerate(sorted(images.iterdir()), 1):
        shutil.copy(image, sequence / f"{number:07d}.jpg")
    runs = {
        "detect.py": ("--weights", checkpoint, "--source", images, "--imgsz", 64, "--slice", True, "--slice_size", 48, "--project", tmp_path / "detect"),
        "track.py": ("--weights", checkpoint, "--source", sequence.parent, "--imgsz", 64, "--save", False, "--project", tmp_path / "track"),
        "get_FPS.py": ("--weights", "lrs-detr-b.yaml", "--imgsz", 64, "--warmup", 1, "--iterations", 2, "--threads", 1),
    }
    for script, flags in runs.items():
        status, out, err = run_main_output(capsys, monkeypatch, script, *flags, "--device", "cpu", "--half", True)
        assert status == 0, err
        assert out.splitlines()[0] == line, script
    assert "batch 1, bf16, cpu, 1 thread, 2 timed iterations" in out


@pytest.mark.parametrize("script", ["val.py", "detect.py", "track.py", "get_FPS.py"])
def test_a_bad_half_is_one_line(script, capsys, monkeypatch):
    status, err = run_main(capsys, monkeypatch, script, "--half", "bf16")
    one_line_error(status, err, "--half", "expected true/false, got 'bf16'")


def test_an_edited_param_dict_half_is_one_line(capsys):
    with pytest.raises(SystemExit) as done:
        check_values({"half": "bf16"})
    assert done.value.code == 2
    assert capsys.readouterr().err == "error: --half 'bf16': expected True or False (True: 16-bit floats, fp16 on CUDA and bf16 on CPU) (see --help)\n"


def test_half_with_an_export_that_runs_as_exported_is_one_line(exports, data10, tmp_path, capsys, monkeypatch):
    """Refused before anything is written, by each command that takes an export."""
    image = tmp_path / "frames" / "0000001.jpg"
    image.parent.mkdir()
    cv2.imwrite(str(image), np.zeros((64, 64, 3), np.uint8))
    inputs = {"val.py": ("--data", data10, "--split", "val"), "detect.py": ("--source", image), "track.py": ("--source", image.parent)}
    for script, flags in inputs.items():
        status, err = run_main(capsys, monkeypatch, script, "--weights", exports["onnx int8"], *flags, "--device", "cpu", "--half", True,
                               "--project", tmp_path / "runs")
        one_line_error(status, err, f"--half True: {exports['onnx int8']} is an ONNX int8 export, which runs at the precision it was exported at")
    assert not (tmp_path / "runs").exists()
