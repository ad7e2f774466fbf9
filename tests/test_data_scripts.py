"""The dataset/ scripts and `python -m lrsdetr.data.*` end to end, as a user runs them; and dataset/data.yaml."""

import json
import shutil
import subprocess
import sys
from pathlib import Path

from source_tree import unchanged

REPO = Path(__file__).resolve().parents[1]


def run(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    command = [sys.executable, *(str(REPO / a) if a.startswith("dataset/") and a.endswith(".py") else a for a in args)]
    return subprocess.run(command, cwd=cwd, capture_output=True, text=True, timeout=120)


def ok(result: subprocess.CompletedProcess) -> str:
    assert result.returncode == 0, result.stderr[-2000:]
    return result.stdout


def test_pipeline_synth_visdrone2yolo_split_yolo2coco_stats(tmp_path):
    ok(run("-m", "lrsdetr.data.synth", "--out", "native", "--images", "6", "--size", "160", "128", "--seed", "2", cwd=tmp_path))
    assert len(list((tmp_path / "native" / "images").glob("*.jpg"))) == 6

    with unchanged(tmp_path / "native"):
        out = ok(run("dataset/visdrone2yolo.py", "--src", "native", "--out", "yolo", "--split", "all", "--mask-ignored", "true", cwd=tmp_path))
    assert "6 images" in out
    assert len(list((tmp_path / "yolo" / "labels" / "all").glob("*.txt"))) == 6

    ratios = ("--train", "0.5", "--val", "0.5", "--test", "0", "--seed", "1")
    with unchanged(tmp_path / "yolo"):
        out = ok(run("dataset/split_data.py", "--image_path", "yolo/images/all", "--label_path", "yolo/labels/all", "--out", "dataset", *ratios, cwd=tmp_path))
    assert "train 3, val 3" in out

    with unchanged(tmp_path / "dataset"):
        ok(run("dataset/yolo2coco.py", "--image_path", "dataset/images/val", "--label_path", "dataset/labels/val", "--out", "val.json", "--data", str(REPO / "dataset" / "data.yaml"), cwd=tmp_path))
    coco = json.loads((tmp_path / "val.json").read_text())
    assert len(coco["images"]) == 3 and coco["annotations"] and [c["id"] for c in coco["categories"]] == list(range(1, 11))

    with unchanged(tmp_path / "dataset"):
        out = ok(run("-m", "lrsdetr.data.stats", "dataset/images", "--out", "stats.png", cwd=tmp_path))
    assert "pedestrian" in out and "small" in out
    assert (tmp_path / "stats.png").read_bytes().startswith(b"\x89PNG")


def test_xml2txt(tmp_path):
    (tmp_path / "xml").mkdir()
    (tmp_path / "xml" / "a.xml").write_text(
        "<annotation><size><width>200</width><height>100</height></size>"
        "<object><name>bus</name><bndbox><xmin>20</xmin><ymin>10</ymin><xmax>120</xmax><ymax>40</ymax></bndbox></object></annotation>"
    )
    with unchanged(tmp_path / "xml"):
        ok(run("dataset/xml2txt.py", "--src", "xml", "--out", "labels", "--data", str(REPO / "dataset" / "data.yaml"), cwd=tmp_path))
    assert (tmp_path / "labels" / "a.txt").read_text() == "8 0.350000 0.250000 0.500000 0.300000\n"


def test_user_errors_are_one_line_with_exit_status_2(tmp_path):
    import cv2
    import numpy as np

    (tmp_path / "src" / "images").mkdir(parents=True)
    (tmp_path / "src" / "annotations").mkdir()
    missing = run("dataset/visdrone2yolo.py", "--src", "nowhere", "--out", "yolo", cwd=tmp_path)
    assert missing.returncode == 2 and "Traceback" not in missing.stderr
    assert missing.stderr.strip().splitlines()[-1].startswith("error: src nowhere/images: no such folder")

    cv2.imwrite(str(tmp_path / "src" / "images" / "x.jpg"), np.zeros((20, 20, 3), np.uint8))
    (tmp_path / "src" / "annotations" / "x.txt").write_text("1,1,5,5,1,1,0,0\n1,1,five,5,1,1,0,0\n")
    bad = run("dataset/visdrone2yolo.py", "--src", "src", "--out", "yolo", cwd=tmp_path)
    assert bad.returncode == 2 and "Traceback" not in bad.stderr
    assert "x.txt:2: expected 4 numbers and 4 integers" in bad.stderr
    with unchanged(tmp_path / "src"):
        skipped = run("dataset/visdrone2yolo.py", "--src", "src", "--out", "yolo", "--skip-bad", "true", cwd=tmp_path)
    assert "1 malformed line(s) skipped" in ok(skipped)
    assert (tmp_path / "yolo" / "labels" / "train" / "x.txt").read_text() == "0 0.175000 0.175000 0.250000 0.250000\n"


def test_repo_data_yaml_resolves_from_the_repo_root_and_from_anywhere(tmp_path, monkeypatch):
    """dataset/data.yaml, used as data=dataset/data.yaml from the root of a checkout (a copy, with images)."""
    from ultralytics.data.utils import check_det_dataset

    root = tmp_path / "checkout"
    (root / "dataset").mkdir(parents=True)
    shutil.copy(REPO / "dataset" / "data.yaml", root / "dataset" / "data.yaml")
    for split in ("train", "val", "test"):
        (root / "dataset" / "images" / split).mkdir(parents=True)
    monkeypatch.chdir(root)
    data = check_det_dataset("dataset/data.yaml")
    assert Path(data["val"]) == root / "dataset" / "images" / "val"
    assert Path(data["train"]) == root / "dataset" / "images" / "train"
    assert data["nc"] == 10 and list(data["names"].values())[7] == "awning-tricycle"
    monkeypatch.chdir(tmp_path)
    assert Path(check_det_dataset(str(root / "dataset" / "data.yaml"))["test"]) == root / "dataset" / "images" / "test"
