"""get_COCO_metrics.py end to end, and the one-line errors a user gets for the usual mistakes."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from source_tree import unchanged
from test_eval_helpers import coco_gt, image, mixed_case, write_pair

from lrsdetr.data.files import write_bytes_atomic
from lrsdetr.eval.coco_metrics import coco_metrics
from lrsdetr.eval.inputs import load_coco_pair
from lrsdetr.eval.report import COMMAND

REPO = Path(__file__).resolve().parents[1]
SCRIPT = REPO / "get_COCO_metrics.py"
DEFAULTS = {"max_dets": 100, "save_dir": None, "tide": False, "backend": "faster_coco_eval"}


def test_script_end_to_end(tmp_path):
    pred_json, anno_json = write_pair(tmp_path / "runs" / "val" / "exp", *mixed_case())
    command = [sys.executable, str(SCRIPT), "--pred_json", str(pred_json), "--anno_json", str(anno_json), "--max_dets", "500"]
    with unchanged(pred_json, anno_json):
        done = subprocess.run(command, capture_output=True, text=True, cwd=tmp_path, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "Average Precision  (AP) @[ IoU=0.50:0.95 | area=   all | maxDets=500 ]" in done.stdout
    assert "Per-class AP" in done.stdout and "pedestrian" in done.stdout and "TIDE errors" in done.stdout
    assert "Traceback" not in done.stderr and "Warning" not in done.stderr

    save_dir = pred_json.parent / "coco_metrics"  # the default: next to the predictions
    saved = json.loads((save_dir / "metrics_maxDets500.json").read_text())
    expected = coco_metrics(load_coco_pair(pred_json, anno_json), 500).stats()
    assert saved["coco"]["summary"] == pytest.approx(expected, abs=1e-12)
    assert saved["coco"]["max_dets"] == 500 and saved["tide"]["max_dets"] == 500
    assert set(saved["tide"]["dAP"]) == {"Cls", "Loc", "Both", "Dupe", "Bkg", "Miss", "FalsePos", "FalseNeg"}
    assert all(Path(p).stat().st_size > 10_000 for p in saved["tide"]["plots"])
    assert not [p.name for p in save_dir.iterdir() if p.name.startswith(".")]  # no temporary file left behind


def test_script_prints_a_users_mistake_as_one_line(tmp_path):
    done = subprocess.run([sys.executable, str(SCRIPT), "--pred_json", str(tmp_path / "none.json"), "--anno_json", "x.json"], capture_output=True, text=True, timeout=60)
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr == f"error: --anno_json x.json: no such JSON file\n"


def _gt() -> dict:
    return coco_gt([image(1), image(2)], [(1, 1, (10.0, 10.0, 20.0, 20.0), 0)], {1: "pedestrian", 2: "car"})


def _det(image_id=1, category_id=1, **change) -> dict:
    return {"image_id": image_id, "category_id": category_id, "bbox": [10.0, 10.0, 20.0, 20.0], "score": 0.9, **change}


BAD_INPUTS = {
    "missing predictions": (None, "MISSING", ["--pred_json", "no such JSON file"]),
    "folder as predictions": (None, "FOLDER", ["--pred_json", "is a folder"]),
    "not JSON": (None, "{oops", ["--pred_json", "not valid JSON"]),
    "swapped files": (None, "GT", ["--pred_json", "did you swap --pred_json and --anno_json?"]),
    "GT without categories": ({"images": [], "annotations": []}, [], ["--anno_json", "missing categories"]),
    "detection without score": (None, [{"image_id": 1, "category_id": 1, "bbox": [0, 0, 1, 1]}], ["detection #0 lacks score, expected {image_id, category_id, bbox"]),
    "bad bbox": (None, [_det(bbox=[1, 2, 3])], ["detection #0 has bbox [1, 2, 3], expected [x, y, width, height]"]),
    "image ids of other images": (None, [_det(image_id=i) for i in (7, 8, 9, 10)], ["4 image_id(s) not in --anno_json", "7, 8, 9, ...", "GT image ids look like 1, 2", "same images"]),
    "file stems as image ids": (None, [_det(image_id="1")], ["image_id(s) not in --anno_json", "'1'", "make the GT json with image id = file stem"]),
    "unknown class": (None, [_det(category_id=5)], ["category_id(s) 5 not in --anno_json", "categories are 1, 2: predictions and GT must use the same class ids."]),
    "0-based predictions": (None, [_det(category_id=0), _det(category_id=1)], ["category_id(s) 0 not in", "Every category_id+1 is in the GT"]),
    "0-based GT": (coco_gt([image(1)], [], {0: "pedestrian", 1: "car"}), [_det(category_id=1), _det(category_id=2)], ["category_id(s) 2 not in", "Every category_id-1 is in the GT", "class index + 1"]),
}


@pytest.mark.parametrize("case", BAD_INPUTS)
def test_bad_inputs_exit_2_with_one_line(tmp_path, capsys, case):
    gt, detections, expected = BAD_INPUTS[case]
    pred_json, anno_json = write_pair(tmp_path, gt or _gt(), [])
    if detections == "MISSING":
        pred_json.unlink()
    elif detections == "FOLDER":
        pred_json.unlink()
        pred_json.mkdir()
    elif detections == "GT":
        pred_json.write_text(json.dumps(_gt()))
    else:
        pred_json.write_text(detections if isinstance(detections, str) else json.dumps(detections))
    assert COMMAND.run_with({**DEFAULTS, "pred_json": str(pred_json), "anno_json": str(anno_json)}) == 2
    out, err = capsys.readouterr()
    assert out == "" and err.startswith("error: ") and err.count("\n") == 1
    assert all(text in err for text in expected), err


@pytest.mark.parametrize(("option", "value", "expected"), [("max_dets", 0, "--max_dets: expected a whole number >= 1"), ("max_dets", 2.5, "got 2.5"), ("backend", "detectron", "--backend: expected one of")])
def test_bad_options_exit_2_before_reading_files(capsys, option, value, expected):
    assert COMMAND.run_with({**DEFAULTS, "pred_json": "missing.json", "anno_json": "missing.json", option: value}) == 2
    assert expected in capsys.readouterr().err


def test_save_dir_that_is_a_file(tmp_path, capsys):
    pred_json, anno_json = write_pair(tmp_path / "eval", _gt(), [_det()])
    (tmp_path / "notes.txt").write_text("a file")
    assert COMMAND.run_with({**DEFAULTS, "pred_json": str(pred_json), "anno_json": str(anno_json), "save_dir": str(tmp_path / "notes.txt")}) == 2
    assert f"--save_dir {tmp_path / 'notes.txt'}: cannot make this folder" in capsys.readouterr().err


def test_empty_predictions_report_zeros(tmp_path, capsys, caplog):
    pred_json, anno_json = write_pair(tmp_path, _gt(), [])
    assert COMMAND.run_with({**DEFAULTS, "pred_json": str(pred_json), "anno_json": str(anno_json), "tide": True}) == 0
    assert "maxDets=100 ] = 0.000" in capsys.readouterr().out
    assert "holds no detections" in caplog.text and "TIDE skipped" in caplog.text
    saved = json.loads((tmp_path / "coco_metrics" / "metrics_maxDets100.json").read_text())
    assert saved["coco"]["summary"]["AP"] == 0.0 and saved["tide"] is None


def test_atomic_write_keeps_the_old_file_when_writing_fails(tmp_path):
    """The report's JSON goes through the package's atomic writer (lrsdetr.data.files)."""
    target = tmp_path / "metrics.json"
    target.write_text("old")
    with pytest.raises(TypeError):
        write_bytes_atomic(target, None)
    assert target.read_text() == "old" and [p.name for p in tmp_path.iterdir()] == ["metrics.json"]


def test_figures_and_tables_of_the_benchmarks_are_written_whole(tmp_path):
    """The benchmarks' plots and CSVs go through the same writer: a link at the target is replaced, never written
    through, no temporary is left, and the figure is closed."""
    import csv

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from lrsdetr.utils.atomic import save_figure_atomic, write_csv_atomic

    source = tmp_path / "source.png"
    source.write_bytes(b"a user's image")
    (tmp_path / "plot.png").symlink_to(source)
    figure, axis = plt.subplots()
    axis.plot([0, 1], [1, 0])
    save_figure_atomic(figure, tmp_path / "plot.png")
    assert (tmp_path / "plot.png").read_bytes().startswith(b"\x89PNG") and not (tmp_path / "plot.png").is_symlink()
    assert source.read_bytes() == b"a user's image" and figure.number not in plt.get_fignums()
    write_csv_atomic(tmp_path / "table.csv", [{"model": "b", "AP": 0.25, "note": "left out"}], ["model", "AP"])
    assert list(csv.DictReader((tmp_path / "table.csv").open())) == [{"model": "b", "AP": "0.25"}]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["plot.png", "source.png", "table.csv"]
