"""One epoch of training + validation on CPU, offline; the checkpoint reloads in a fresh process and predicts."""

import subprocess
import sys

import pytest

from lrsdetr import RTDETR


@pytest.fixture(scope="module")
def trained(tiny_data, tmp_path_factory):
    project = tmp_path_factory.mktemp("runs")
    model = RTDETR("lrs-detr-b.yaml")
    metrics = model.train(
        data=str(tiny_data), epochs=1, imgsz=128, batch=4, workers=0, device="cpu",
        project=str(project), name="b", exist_ok=True, plots=False, amp=False, verbose=False,
    )
    return project / "b" / "weights", metrics


@pytest.mark.slow
def test_training_writes_checkpoints_and_metrics(trained):
    weights, metrics = trained
    assert (weights / "best.pt").is_file() and (weights / "last.pt").is_file()
    assert "metrics/mAP50-95(B)" in metrics.results_dict


@pytest.mark.slow
@pytest.mark.parametrize("importer", ["from lrsdetr import RTDETR", "from ultralytics import RTDETR"])
def test_checkpoint_reloads_in_a_fresh_process(trained, tiny_data, importer):
    """A fresh interpreter loads best.pt (our classes unpickle by module path) and predicts."""
    weights, _ = trained
    image = next((tiny_data.parent / "images" / "val").glob("*.jpg"))
    code = (
        f"{importer}\nimport sys\n"
        "m = RTDETR(sys.argv[1])\n"
        "r = m.predict(sys.argv[2], imgsz=128, conf=0.0, verbose=False)[0]\n"
        "print('TYPE', type(m.model).__name__, 'BOXES', len(r.boxes))\n"
    )
    out = subprocess.run([sys.executable, "-c", code, str(weights / "best.pt"), str(image)], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-3000:]
    assert "TYPE LRSDETRDetectionModel BOXES" in out.stdout
    assert int(out.stdout.split("BOXES")[1]) > 0


@pytest.mark.slow
def test_val_info_fuse_through_the_wrapper(trained, tiny_data):
    weights, _ = trained
    model = RTDETR(str(weights / "best.pt"))
    layers, params, *_ = model.info()
    assert layers > 0 and params > 10_000_000
    metrics = model.val(data=str(tiny_data), imgsz=128, batch=4, workers=0, device="cpu", plots=False, verbose=False)
    assert 0.0 <= metrics.box.map <= 1.0
    model.fuse()
    assert model.model.is_fused()
