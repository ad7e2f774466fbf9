"""No script writes over (or into) its own input: outputs that overlap a source are refused in one line, exit 2,
with the source checksummed before and after. Scripts run in-process, as `python script.py ...` would."""

from __future__ import annotations

from pathlib import Path

import pytest
from script_runs import checkpoint, one_line_error, run_main  # noqa: F401 (checkpoint: a fixture)
from source_tree import unchanged
from tiny_data import write_tiny_dataset

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture
def data(tmp_path) -> Path:
    """A tiny YOLO data set (images/{train,val}, labels/{train,val}, data.yaml) of 128 px images."""
    return write_tiny_dataset(tmp_path / "data", n_train=2, n_val=2)


@pytest.mark.parametrize("where", ["the source folder", "inside it", "a folder holding it", "the folder of a source file"])
def test_detect_never_writes_into_its_source(checkpoint, data, capsys, monkeypatch, where):
    images = data.parent / "images" / "val"
    source, project, name = {
        "the source folder": (images, images.parent, images.name),
        "inside it": (images, images, "out"),
        "a folder holding it": (images, data.parent, "images"),
        "the folder of a source file": (images / "0000.jpg", images.parent, images.name),
    }[where]
    common = ("--weights", checkpoint, "--imgsz", 128, "--device", "cpu", "--exist_ok", "true")
    with unchanged(data.parent):
        status, err = run_main(capsys, monkeypatch, "detect.py", "--source", source, "--project", project, "--name", name, *common)
    one_line_error(status, err, "--project/--name", str(source), "choose an output elsewhere")
    if where == "inside it":
        assert not (images / "out").exists()  # refused before the run folder is made


def _voc(root: Path) -> Path:
    (root / "xml").mkdir(parents=True)
    (root / "xml" / "a.xml").write_text("<annotation><size><width>200</width><height>100</height></size><object><name>car</name>"
                                        "<bndbox><xmin>20</xmin><ymin>10</ymin><xmax>120</xmax><ymax>40</ymax></bndbox></object></annotation>")
    return root / "xml"


def _visdrone(root: Path) -> Path:
    import cv2
    import numpy as np

    (root / "vd" / "images").mkdir(parents=True)
    (root / "vd" / "annotations").mkdir()
    cv2.imwrite(str(root / "vd" / "images" / "a.jpg"), np.full((40, 60, 3), 90, np.uint8))
    (root / "vd" / "annotations" / "a.txt").write_text("1,1,5,5,1,1,0,0\n")
    return root / "vd"


def _commands(data: Path) -> dict[str, tuple]:
    """Each writing script with an output inside (or over) its own source; returns (script, source root, args)."""
    from test_eval_helpers import mixed_case, write_pair

    root, names = data.parent, REPO / "dataset" / "data.yaml"
    pred_json, anno_json = write_pair(root / "eval", *mixed_case())
    anno_json = anno_json.rename(root / "eval" / "metrics_maxDets100.json")
    images, labels = root / "images" / "val", root / "labels" / "val"
    return {
        "yolo2coco over a label": ("dataset/yolo2coco.py", root, "--image_path", images, "--label_path", labels, "--out", labels / "0000.txt", "--data", data),
        "yolo2coco over data.yaml": ("dataset/yolo2coco.py", root, "--image_path", images, "--label_path", labels, "--out", data, "--data", data),
        "stats over an image": ("-m lrsdetr.data.stats", root, images, "--out", images / "0000.jpg"),
        "stats into the labels": ("-m lrsdetr.data.stats", root, images, "--out", labels / "stats.png"),
        "split_data into the images": ("dataset/split_data.py", root, "--image_path", images, "--label_path", labels, "--out", images),
        "xml2txt into its source": ("dataset/xml2txt.py", root, "--src", _voc(root), "--out", root / "xml" / "labels", "--data", names),
        "visdrone2yolo into its source": ("dataset/visdrone2yolo.py", root, "--src", _visdrone(root), "--out", root / "vd"),
        "get_COCO_metrics over its ground truth": ("get_COCO_metrics.py", root, "--pred_json", pred_json, "--anno_json", anno_json, "--save_dir", anno_json.parent),
    }


@pytest.mark.parametrize("case", ["yolo2coco over a label", "yolo2coco over data.yaml", "stats over an image", "stats into the labels", "split_data into the images",
                                  "xml2txt into its source", "visdrone2yolo into its source", "get_COCO_metrics over its ground truth"])
def test_every_writing_script_refuses_an_output_in_its_source(data, capsys, monkeypatch, case):
    script, root, *args = _commands(data)[case]
    with unchanged(root):
        status, err = run_main(capsys, monkeypatch, script, *args)
    one_line_error(status, err, "choose an output elsewhere")


def test_val_refuses_a_run_folder_inside_its_data(checkpoint, data, capsys, monkeypatch):
    images = data.parent / "images" / "val"
    with unchanged(data.parent):
        status, err = run_main(capsys, monkeypatch, "val.py", "--weights", checkpoint, "--data", data, "--split", "val", "--imgsz", 128,
                               "--device", "cpu", "--project", images.parent, "--name", "val", "--exist_ok", "true")
    one_line_error(status, err, "--project/--name", "is the input --data")
