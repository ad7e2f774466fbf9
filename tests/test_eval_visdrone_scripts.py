"""VisDrone submission files and get_VisDrone_metrics.py: the writer's format, val.py/detect.py --save_visdrone,
and the same numbers by every route, on the synthetic VisDrone-native set."""

import json
from pathlib import Path

import numpy as np
import pytest
from script_runs import run_in_subprocess
import torch

from lrsdetr.eval.visdrone import METRIC_KEYS, evaluate
from lrsdetr.eval.visdrone_results import result_lines, results_from_predictions
from lrsdetr.utils.errors import DataError

REPO = Path(__file__).resolve().parents[1]



def test_result_lines_sorted_by_score_capped_at_500_in_challenge_format():
    xywh = np.array([[1.23456, 2, 3, 4]] * 600, dtype=float)
    scores = np.linspace(0, 1, 600)[::-1][np.r_[300:600, 0:300]]  # unsorted
    lines = result_lines(xywh, scores, np.full(600, 4))
    assert len(lines) == 500
    assert lines[0] == "1.235,2,3,4,1,4,-1,-1"
    parsed = [float(line.split(",")[4]) for line in lines]
    assert parsed == sorted(parsed, reverse=True) and parsed[-1] == pytest.approx(scores.max() - 499 / 599, abs=1e-5)


def test_predictions_json_gives_a_file_per_image_and_refuses_unknown_images_and_classes(tmp_path):
    images = tmp_path / "images"
    images.mkdir()
    for stem in ("a", "b"):
        (images / f"{stem}.jpg").write_bytes(b"")
    pred = tmp_path / "predictions.json"
    pred.write_text(json.dumps([{"image_id": "a", "category_id": 3, "bbox": [1, 2, 3, 4], "score": 0.5}]))
    out = results_from_predictions(pred, images, tmp_path / "res")
    assert (out / "a.txt").read_text() == "1,2,3,4,0.5,3,-1,-1\n" and (out / "b.txt").read_text() == ""
    for record, message in (({"image_id": "c", "category_id": 3, "bbox": [1, 2, 3, 4], "score": 0.5}, "image_id 'c' is no image"),
                            ({"image_id": "a", "category_id": 11, "bbox": [1, 2, 3, 4], "score": 0.5}, "category 11 has no VisDrone category")):
        pred.write_text(json.dumps([record]))
        with pytest.raises(DataError, match=message):
            results_from_predictions(pred, images, tmp_path / "res2")


def test_get_visdrone_metrics_mistakes_are_one_line(tmp_path):
    anno, res = tmp_path / "annotations", tmp_path / "results"
    anno.mkdir()
    res.mkdir()
    (anno / "a.txt").write_text("0,0,10,10,1,1,0,0\n")
    (res / "a.txt").write_text("0,0,10,10,0.9,1,-1,-1\n0,0,10\n")
    for flags, message in (((), "give --res_dir"), (("--anno_dir", anno, "--res_dir", res), "results/a.txt:2: expected at least 6 numbers")):
        out = run_in_subprocess("get_VisDrone_metrics.py", *flags, expect=2)
        assert message in out.stderr and "Traceback" not in out.stderr


@pytest.fixture(scope="module")
def visdrone_named(tmp_path_factory):
    """Tiny data (rectangles of 13-42 px on 128 px images, 4 val images) named as VisDrone's ten classes, and an
    untrained LRS-DETR-B with those classes: among its 300 boxes per image a few hit, so the numbers are not all 0."""
    from tiny_data import write_tiny_dataset

    from lrsdetr import RTDETR
    from lrsdetr.data.visdrone import VISDRONE_NAMES

    root = tmp_path_factory.mktemp("visdrone_named")
    data = write_tiny_dataset(root, n_train=1, n_val=4, size=128, nc=10)
    data.write_text(f"path: {root}\ntrain: images/train\nval: images/val\nnames: {list(VISDRONE_NAMES)}\n")
    torch.manual_seed(0)
    model = RTDETR("lrs-detr-b.yaml")
    model.model.names = dict(enumerate(VISDRONE_NAMES))
    model.save(root / "untrained.pt")
    return data, root / "untrained.pt"


@pytest.mark.slow
def test_val_save_visdrone_equals_get_visdrone_metrics_from_predictions(visdrone_named, tmp_path):
    data, weights = visdrone_named
    images, labels = data.parent / "images" / "val", data.parent / "labels" / "val"
    out = run_in_subprocess("val.py", "--weights", weights, "--data", data, "--split", "val", "--imgsz", 128, "--batch", 4, "--device", "cpu",
              "--plots", False, "--project", tmp_path, "--name", "v", "--save_visdrone", True)
    assert "Both protocols" in out.stdout and "VisDrone toolkit (maxDets 500)" in out.stdout
    run_dir = tmp_path / "v"
    assert sorted(p.stem for p in (run_dir / "visdrone_results").glob("*.txt")) == sorted(p.stem for p in images.glob("*.jpg"))
    submitted = evaluate(run_dir / "visdrone_annotations", run_dir / "visdrone_results", images, verbose=False)
    assert submitted["AR500"] > 0

    copy = tmp_path / "copy"
    copy.mkdir()
    (copy / "predictions.json").write_bytes((run_dir / "predictions.json").read_bytes())
    out = run_in_subprocess("get_VisDrone_metrics.py", "--pred_json", copy / "predictions.json", "--img_dir", images, "--label_dir", labels)
    assert "no ignored regions" in out.stdout and "Average Precision  (AP) @[ IoU=0.50:0.95 | maxDets=500 ]" in out.stdout
    scripted = json.loads((copy / "visdrone_metrics.json").read_text())["visdrone"]
    assert all(scripted[key] == pytest.approx(submitted[key], abs=1e-9) for key in METRIC_KEYS)


@pytest.mark.slow
def test_detect_save_visdrone_sliced_writes_a_file_per_image(visdrone_named, tmp_path):
    data, weights = visdrone_named
    images = data.parent / "images" / "val"
    run_in_subprocess("detect.py", "--weights", weights, "--source", images, "--imgsz", 128, "--conf", 0.0, "--device", "cpu", "--project", tmp_path,
        "--name", "d", "--save", False, "--slice", True, "--slice_size", 96, "--slice_overlap", 0.25, "--save_visdrone", True)
    files = sorted((tmp_path / "d" / "visdrone_results").glob("*.txt"))
    assert [p.stem for p in files] == sorted(p.stem for p in images.glob("*.jpg"))
    rows = [np.array([float(v) for v in line.split(",")]) for p in files for line in p.read_text().splitlines()]
    assert rows and all(len(r) == 8 and 1 <= r[5] <= 10 and tuple(r[6:]) == (-1, -1) for r in rows)
    for p in files:
        scores = [float(line.split(",")[4]) for line in p.read_text().splitlines()]
        assert scores == sorted(scores, reverse=True) and len(scores) <= 500
