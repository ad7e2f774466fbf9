"""LRS-DETR-B exports through Ultralytics' `RTDETR(weights).export(format=...)`: ONNX (run in ONNX Runtime),
OpenVINO (run in its CPU runtime) and Core ML (converted; running it needs an Apple system). The fast runs check
the fixed-size ONNX export, export.py's refusals and what it writes, and detect.py on an export; the other
formats, dynamic sizes and export.py end to end are slow.

The authors' model cannot export at all (`aten::fft_fft2` has no ONNX symbolic). Ours must give a graph
without FFT ops whose detections are PyTorch's, at a fixed size and, exported dynamic, at other sizes.
"""

import json
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import pytest
import torch
from script_runs import one_line_error, run_main, run_main_output
from source_tree import tree_checksums, unchanged

from lrsdetr import RTDETR
from lrsdetr.engine.export import FFT_OPS
from lrsdetr.eval.agreement import matched_rows

REPO = Path(__file__).resolve().parents[1]
IMGSZ = 256  # small: the export is the slow part


def lively_checkpoint(folder: Path) -> Path:
    """An untrained LRS-DETR-B saved as `folder`/lrs-detr-b.pt, with every branch that starts at zero switched on.

    At initialisation FGM's alpha and the zero-initialised BN scales of DFENet's residual branches hide
    those paths from the output; a trained model uses them, so an export (or a precision) must carry them right.
    """
    torch.manual_seed(0)
    wrapper = RTDETR("lrs-detr-b.yaml")
    with torch.no_grad():
        for name, p in wrapper.model.named_parameters():
            if name.endswith("fgm.alpha") or (name.endswith("bn.weight") and not p.any()):
                p.uniform_(0.5, 1.0)
    path = folder / "lrs-detr-b.pt"
    wrapper.save(path)
    return path


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory) -> Path:
    return lively_checkpoint(tmp_path_factory.mktemp("export"))


def copy_of(checkpoint: Path, tmp_path: Path) -> Path:
    """Exports land next to the checkpoint: give each test its own copy."""
    return Path(shutil.copy(checkpoint, tmp_path / checkpoint.name))


def pytorch_detections(checkpoint: Path, images: np.ndarray) -> np.ndarray:
    model = RTDETR(str(checkpoint)).model.fuse(verbose=False).eval()
    with torch.inference_mode():
        return model(torch.from_numpy(images))[0].numpy()


def assert_matches_pytorch(run: Callable[[np.ndarray], np.ndarray], checkpoint: Path, hw: tuple[int, int]) -> None:
    """`run` (an exported model on a batch of images) gives PyTorch's detections, up to top-k order."""
    images = np.random.default_rng(hw[0]).random((1, 3, *hw), dtype=np.float32)
    got = run(images)
    expected = pytorch_detections(checkpoint, images)
    assert got.shape == expected.shape == (1, 300, 6)
    share = matched_rows(got[0], expected[0], atol=1e-3)
    assert share >= 0.99, f"only {share:.1%} of the exported model's rows match PyTorch's at {hw}"


def onnx_runner(path: str) -> Callable[[np.ndarray], np.ndarray]:
    session = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
    return lambda images: session.run(None, {"images": images})[0]


def op_types(path: str) -> set[str]:
    return {node.op_type for node in onnx.load(path).graph.node}


def test_onnx_export_matches_pytorch(checkpoint, tmp_path):
    weights = copy_of(checkpoint, tmp_path)
    path = RTDETR(str(weights)).export(format="onnx", imgsz=IMGSZ)
    assert Path(path) == weights.with_suffix(".onnx")
    assert not op_types(path) & FFT_OPS
    assert_matches_pytorch(onnx_runner(path), weights, (IMGSZ, IMGSZ))


@pytest.mark.slow
def test_dynamic_onnx_export_runs_at_other_sizes(checkpoint, tmp_path):
    """One graph for every size: DFT matrices and DPRA's window mask are built from the input's shape."""
    weights = copy_of(checkpoint, tmp_path)
    path = RTDETR(str(weights)).export(format="onnx", imgsz=IMGSZ, dynamic=True)
    assert not op_types(path) & FFT_OPS
    session = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
    assert [str(d) for d in session.get_inputs()[0].shape] == ["batch", "3", "height", "width"]
    for hw in [(224, 288), (320, 320)]:
        assert_matches_pytorch(onnx_runner(path), weights, hw)


@pytest.mark.slow
def test_openvino_export_matches_pytorch(checkpoint, tmp_path):
    """OpenVINO's own PyTorch frontend converts the model; run at fp32 it gives PyTorch's detections.

    (Its CPU plugin computes in bf16 by default on CPUs that have bf16 units: about 95% of rows then agree to 1e-2.)
    """
    import openvino as ov

    weights = copy_of(checkpoint, tmp_path)
    folder = Path(RTDETR(str(weights)).export(format="openvino", imgsz=IMGSZ))
    model = ov.Core().read_model(str(next(folder.glob("*.xml"))))
    assert not {op.get_type_name() for op in model.get_ops()} & {"DFT", "IDFT", "RDFT", "IRDFT"}
    compiled = ov.Core().compile_model(model, "CPU", {"INFERENCE_PRECISION_HINT": "f32"})
    assert_matches_pytorch(lambda images: compiled(images)[0], weights, (IMGSZ, IMGSZ))


@pytest.mark.slow
def test_coreml_converts_on_linux(checkpoint, tmp_path):
    """coremltools converts on Linux (running the package needs macOS/iOS): an ML program taking an RGB image of
    the export size and giving (1, 300, 6) detections (box, score, class), with no FFT op in it."""
    import coremltools as ct

    weights = copy_of(checkpoint, tmp_path)
    package = Path(RTDETR(str(weights)).export(format="coreml", imgsz=IMGSZ))
    spec = ct.models.MLModel(str(package), skip_model_load=True).get_spec()
    image = spec.description.input[0].type.imageType
    assert (image.width, image.height) == (IMGSZ, IMGSZ)
    assert list(spec.description.output[0].type.multiArrayType.shape) == [1, 300, 6]
    ops = {op.type for block in spec.mlProgram.functions["main"].block_specializations.values() for op in block.operations}
    assert "matmul" in ops and not {op for op in ops if "fft" in op.lower()}


@pytest.mark.slow
def test_export_script_end_to_end(checkpoint, tmp_path):
    """export.py with flags, fp16 on CPU: the graph is converted to fp16 after export, its I/O stays fp32."""
    weights = copy_of(checkpoint, tmp_path)
    command = [sys.executable, str(REPO / "export.py"), "--weights", str(weights), "--imgsz", "160", "--half", "True", "--opset", "17"]
    done = subprocess.run(command, capture_output=True, text=True, cwd=tmp_path, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    onnx_path = weights.with_suffix(".onnx")
    assert f"exported {weights} to onnx fp16: {onnx_path} (moved here" in done.stdout
    assert "(1, 3, 160, 160) -> (1, 300, 6)" in done.stdout and "no FFT op" in done.stdout
    model = onnx.load(str(onnx_path))
    assert model.opset_import[0].version == 17
    assert model.graph.input[0].type.tensor_type.elem_type == onnx.TensorProto.FLOAT
    assert any(t.data_type == onnx.TensorProto.FLOAT16 for t in model.graph.initializer)


def test_missing_checkpoint_is_one_line(tmp_path):
    done = subprocess.run([sys.executable, str(REPO / "export.py"), "--weights", "none.pt"], capture_output=True, text=True, cwd=tmp_path, timeout=120)
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert done.stderr.startswith("error: --weights none.pt: no such file")


@pytest.mark.parametrize("flags, words", [
    (["--format", "bogus"], ["--format bogus: unknown", "onnx, openvino"]),
    (["--batch", "0"], ["--batch 0: expected a positive whole number"]),
    (["--opset", "3"], ["--opset 3: expected", "from 16"]),
    (["--opset", "17", "--format", "openvino"], ["--opset 17: format openvino takes no ONNX opset"]),
    (["--int8", "True", "--keep_float", "decoder,bogus"], ["--keep_float decoder,bogus: unknown part bogus"]),
])
def test_bad_export_flags_are_one_line_before_anything_is_written(checkpoint, tiny_data, tmp_path, capsys, monkeypatch, flags, words):
    weights = copy_of(checkpoint, tmp_path)
    with unchanged(tmp_path):
        status, err = run_main(capsys, monkeypatch, "export.py", "--weights", weights, "--imgsz", 64, "--data", tiny_data, *flags)
    one_line_error(status, err, *words)


def test_an_export_given_as_weights_is_one_line(tmp_path, capsys, monkeypatch):
    exported = tmp_path / "best.onnx"
    exported.write_bytes(b"an ONNX export")
    with unchanged(tmp_path):
        status, err = run_main(capsys, monkeypatch, "export.py", "--weights", exported)
    one_line_error(status, err, f"--weights {exported}: not a PyTorch model", "cannot be trained, exported or timed again",
                   "expected a .pt checkpoint", "or a model YAML")


def test_int8_onnx_export_writes_only_the_int8_file(checkpoint, tiny_data, tmp_path, capsys, monkeypatch):
    """Ultralytics (and before, export.py) writes the fp32 export at best.onnx first and quantizes that: a user's
    best.onnx was replaced. Only best_int8.onnx may appear beside the checkpoint, and the output says so."""
    weights = copy_of(checkpoint, tmp_path)
    weights.with_suffix(".onnx").write_bytes(b"the user's own fp32 export")
    before = tree_checksums(tmp_path)
    status, out, err = run_main_output(capsys, monkeypatch, "export.py", "--weights", weights, "--imgsz", 64, "--int8", True, "--data", tiny_data)
    assert status == 0, err
    int8 = weights.with_name(f"{weights.stem}_int8.onnx")
    assert tree_checksums(tmp_path) == {**before, str(int8): tree_checksums(int8)[str(int8)]}
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([weights.name, weights.with_suffix(".onnx").name, int8.name])
    assert f"exported {weights} to onnx int8: {int8} (moved here from the scratch folder Ultralytics' log names; nothing else written)" in out
    assert any(n.op_type == "QuantizeLinear" for n in onnx.load(str(int8)).graph.node)


def test_detect_runs_an_onnx_export_as_it_runs_the_checkpoint(checkpoint, tiny_data, tmp_path, capsys, monkeypatch):
    """Whole-frame and sliced detect.py take an export as they take a .pt (Ultralytics' AutoBackend runs it): the
    same boxes and scores as the checkpoint's."""
    weights = copy_of(checkpoint, tmp_path)
    exported = RTDETR(str(weights)).export(format="onnx", imgsz=64)
    source = tiny_data.parent / "images" / "val" / "0000.jpg"
    common = ("--source", source, "--imgsz", 64, "--conf", 0.0, "--device", "cpu", "--project", tmp_path / "runs")
    found = {}
    for name, model in (("pt", weights), ("onnx", exported)):
        for slicing in ("False", "True"):
            status, out, err = run_main_output(capsys, monkeypatch, "detect.py", "--weights", model, *common, "--name", f"{name}{slicing}",
                                               "--slice", slicing, "--slice_size", 64)
            assert status == 0 and "in 1 image(s)/frame(s)" in out, err
            records = json.loads((tmp_path / "runs" / f"{name}{slicing}" / "predictions.json").read_text())
            found[name, slicing] = np.array([[*r["bbox"], r["score"], r["category_id"]] for r in records], dtype=np.float32)
    for slicing in ("False", "True"):
        onnx_rows, pt_rows = found["onnx", slicing], found["pt", slicing]
        assert len(onnx_rows) == len(pt_rows) > 0
        assert matched_rows(onnx_rows, pt_rows, atol=1e-2) >= 0.99, f"sliced {slicing}"


def test_the_opset_bound_is_torchs():
    """export.py's newest --opset is what torch's TorchScript-based exporter (the one Ultralytics calls) writes."""
    from torch.onnx import _constants

    from lrsdetr.engine.export import TORCHSCRIPT_EXPORTER_MAX_OPSET

    assert TORCHSCRIPT_EXPORTER_MAX_OPSET == _constants.ONNX_TORCHSCRIPT_EXPORTER_MAX_OPSET
