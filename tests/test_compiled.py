"""`--compile True` (lrsdetr/tools/compiled.py): torch.compile in get_FPS and val, equal to eager within rounding, its
compiling pass apart, and the one-line fallbacks. A deliberately small RT-DETR keeps each compile under a minute."""

import json
import os

import pytest
import torch
import yaml
from script_runs import one_line_error, run_main_output
from test_precision import _onnx as tiny_onnx
from tiny_data import write_tiny_dataset

from lrsdetr import RTDETR
from lrsdetr.eval.agreement import matched_rows
from lrsdetr.tools.compiled import ROW_ATOL, compile_line, detections, inductor_missing

IMGSZ = 64
SMALL = {  # a few convolutions and a one-layer RT-DETR decoder of 20 queries
    "nc": 3, "scales": {"s": [1.0, 1.0, 1024]},
    "backbone": [[-1, 1, "Conv", [16, 3, 2]], [-1, 1, "Conv", [32, 3, 2]], [-1, 1, "Conv", [32, 3, 2]],
                 [-1, 1, "Conv", [32, 3, 2]], [-1, 1, "Conv", [32, 3, 2]]],
    "head": [[[2, 3, 4], 1, "RTDETRDecoder", ["nc", 32, 20, 4, 4, 1]]],
}


# Compiling needs a C++ compiler; without one these tests skip, unless LRSDETR_REQUIRE_COMPILER is set (.ci/run sets
# it, after installing g++ where missing), as tests/test_docs.py does for its browser.
needs_compiler = pytest.mark.skipif(bool(inductor_missing(torch.device("cpu"))) and not os.environ.get("LRSDETR_REQUIRE_COMPILER"),
                                    reason="no C++ compiler for torch.compile (set LRSDETR_REQUIRE_COMPILER=1 to fail instead)")


@pytest.fixture(scope="module")
def small(tmp_path_factory):
    torch.manual_seed(0)
    folder = tmp_path_factory.mktemp("compiled")
    (folder / "small.yaml").write_text(yaml.safe_dump(SMALL))
    RTDETR(str(folder / "small.yaml")).save(folder / "small.pt")
    return folder / "small.pt"


@needs_compiler
@pytest.mark.parametrize("half", [False, True])
def test_get_fps_times_the_compiled_model_apart_from_its_compiling_pass(small, half, capsys, monkeypatch):
    status, out, err = run_main_output(capsys, monkeypatch, "get_FPS.py", "--weights", small, "--imgsz", IMGSZ, "--device", "cpu",
                                       "--warmup", 1, "--iterations", 3, "--compile", True, "--half", half)
    assert status == 0, err
    lines = out.splitlines()
    assert lines[1] == compile_line(torch.device("cpu")) == "compile: torch.compile (inductor, freezing); the first pass compiles"
    compiled = next(line for line in lines if line.startswith("compiled in "))
    seconds, share = float(compiled.split()[2]), float(compiled.split("; ")[1].split("%")[0])
    assert seconds > 1 and share >= (85 if half else 100)  # bf16: within 1e-2, as tests/test_precision.py compares bf16
    assert ("bf16" if half else "fp32") in out and "3 timed iterations" in out


@needs_compiler
def test_val_compiled_scores_as_eager(small, tmp_path, capsys, monkeypatch):
    data = write_tiny_dataset(tmp_path / "data", n_train=1, n_val=3, size=IMGSZ, nc=3)  # batches of 2 and 1: a second shape
    found = {}
    for compile_model in (False, True):
        status, out, err = run_main_output(capsys, monkeypatch, "val.py", "--weights", small, "--data", data, "--split", "val", "--imgsz", IMGSZ,
                                           "--batch", 2, "--device", "cpu", "--plots", False, "--compile", compile_model,
                                           "--project", tmp_path, "--name", f"compiled{compile_model}")
        assert status == 0, err
        assert ("compile: torch.compile" in out) == compile_model
        found[compile_model] = json.loads((tmp_path / f"compiled{compile_model}" / "predictions.json").read_text())
    assert len(found[True]) == len(found[False]) > 0
    for compiled, eager in zip(found[True], found[False]):
        assert compiled["image_id"] == eager["image_id"] and compiled["category_id"] == eager["category_id"]
        assert compiled["score"] == pytest.approx(eager["score"], abs=1e-4)
        assert compiled["bbox"] == pytest.approx(eager["bbox"], abs=1e-2)


def test_without_a_cpp_compiler_it_runs_eager_saying_so(small, capsys, monkeypatch):
    import torch._inductor.cpp_builder

    def no_compiler():
        raise RuntimeError("Unsupported platform, or no C++ compiler found")

    monkeypatch.setattr(torch._inductor.cpp_builder, "get_cpp_compiler", no_compiler)
    status, out, err = run_main_output(capsys, monkeypatch, "get_FPS.py", "--weights", small, "--imgsz", IMGSZ, "--device", "cpu",
                                       "--warmup", 1, "--iterations", 2, "--compile", True)
    assert status == 0, err
    assert out.splitlines()[1] == ("compile: no C++ compiler for inductor (RuntimeError: Unsupported platform, or no C++ compiler found); "
                                   "running eager")
    assert "compiled in" not in out and "2 timed iterations" in out


def test_an_export_or_a_bad_value_is_refused_in_one_line(tmp_path, capsys, monkeypatch):
    export = tiny_onnx(tmp_path / "model.onnx", int8=False)
    data = write_tiny_dataset(tmp_path / "data", n_train=1, n_val=1, size=IMGSZ, nc=3)
    status, out, err = run_main_output(capsys, monkeypatch, "val.py", "--weights", export, "--data", data, "--split", "val", "--compile", True,
                                       "--project", tmp_path / "runs")
    one_line_error(status, err, "--compile True", str(export), "an export")
    assert not (tmp_path / "runs").exists()
    status, _, err = run_main_output(capsys, monkeypatch, "get_FPS.py", "--weights", "lrs-detr-b.yaml", "--compile", "maybe")
    one_line_error(status, err, "--compile")


@needs_compiler
def test_the_latency_benchmark_times_a_compiled_column_equal_to_eager(small, capsys):
    from lrsdetr.bench import latency

    model = RTDETR(str(small)).model.fuse(verbose=False).eval()
    params = {**latency.DEFAULTS, "imgsz": IMGSZ, "onnx": False, "openvino": False, "compile": True}
    calls = latency.cpu_calls({latency.OURS: model}, params, small.parent, native_bf16=False)
    assert set(calls) == {(latency.OURS, column) for column in (latency.TORCH_NCHW, latency.TORCH_CL, latency.TORCH_COMPILED)}
    assert "compiled in" in capsys.readouterr().out
    with torch.inference_mode():
        compiled, eager = calls[(latency.OURS, latency.TORCH_COMPILED)](), calls[(latency.OURS, latency.TORCH_CL)]()
    assert matched_rows(detections(compiled)[0].numpy(), detections(eager)[0].numpy(), ROW_ATOL["fp32"]) == 1.0
