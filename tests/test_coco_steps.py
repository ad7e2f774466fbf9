"""The COCO metric steps of the seed's README and of our docs (docs/evaluation.md) chain with the scripts' defaults:
yolo2coco.py writes the file that get_COCO_metrics.py reads by default, from the paths val.py writes to. Commands are
run as written."""

from __future__ import annotations

import json
import re
import shlex
import shutil
from pathlib import Path

import pytest
from script_runs import checkpoint, one_line_error, run_main_output  # noqa: F401 (checkpoint: a fixture)
from source_tree import unchanged
from tiny_data import write_tiny_dataset

from lrsdetr.data.coco import yolo_to_coco
from lrsdetr.data.yolo import read_class_names

REPO = Path(__file__).resolve().parents[1]
# The authors' README (the seed users follow), "Calculate COCO Metrics", steps 2 and 3, as published.
SEED_STEPS = [
    "python dataset/yolo2coco.py --image_path dataset/images/test --label_path dataset/labels/test",
    "python get_COCO_metrics.py --pred_json runs/val/exp/predictions.json --anno_json data_test.json",
]
PERFECT_AP = "Average Precision  (AP) @[ IoU=0.50:0.95 | area=   all | maxDets=100 ] = 1.000"


def documented_steps() -> list[str]:
    """The yolo2coco.py and get_COCO_metrics.py commands of docs/evaluation.md's "Calculate COCO Metrics" section."""
    section = re.search(r"^## Calculate COCO Metrics\n(.*?)\n## ", (REPO / "docs" / "evaluation.md").read_text(encoding="utf-8"), re.S | re.M)
    return [line.split("#")[0].strip() for line in section.group(1).splitlines() if line.startswith(("python dataset/yolo2coco.py", "python get_COCO_metrics.py"))]


@pytest.fixture
def workdir(tmp_path, monkeypatch) -> Path:
    """A checkout's working folder after `python val.py`: dataset/{images,labels}/test, dataset/data.yaml and
    runs/val/exp/predictions.json (here: every ground-truth box, found exactly)."""
    root = tmp_path / "dataset"
    write_tiny_dataset(tmp_path / "tiny", n_train=0, n_val=3, nc=10)
    for kind in ("images", "labels"):
        shutil.copytree(tmp_path / "tiny" / kind / "val", root / kind / "test")
    shutil.copy(REPO / "dataset" / "data.yaml", root / "data.yaml")
    coco, _ = yolo_to_coco(root / "images" / "test", root / "labels" / "test", read_class_names(root / "data.yaml"))
    predictions = [{"image_id": a["image_id"], "category_id": a["category_id"], "bbox": a["bbox"], "score": 0.9} for a in coco["annotations"]]
    (tmp_path / "runs" / "val" / "exp").mkdir(parents=True)
    (tmp_path / "runs" / "val" / "exp" / "predictions.json").write_text(json.dumps(predictions))
    monkeypatch.chdir(tmp_path)
    return tmp_path


def run_command(capsys, monkeypatch, line: str) -> str:
    words = shlex.split(line)
    assert words[0] == "python", line
    status, out, err = run_main_output(capsys, monkeypatch, words[1], *words[2:])
    assert status == 0, f"{line}\n{err[-2000:]}"
    return out


@pytest.mark.parametrize("source", ["our docs", "the seed's README", "defaults only"])
def test_the_coco_steps_chain_as_written(workdir, capsys, monkeypatch, source):
    steps = {"our docs": documented_steps(), "the seed's README": SEED_STEPS, "defaults only": [SEED_STEPS[0], "python get_COCO_metrics.py"]}[source]
    assert [s.split()[1] for s in steps] == ["dataset/yolo2coco.py", "get_COCO_metrics.py"]
    with unchanged(workdir / "dataset"):
        run_command(capsys, monkeypatch, steps[0])
        assert (workdir / "data_test.json").is_file()
        assert PERFECT_AP in run_command(capsys, monkeypatch, steps[1])


def test_val_scores_a_split_listed_in_a_file_as_it_scores_the_folder(tmp_path, capsys, monkeypatch, checkpoint):
    """An Ultralytics data.yaml may give a split as a .txt list of images: val.py's COCO ground truth then holds the
    listed images, labels found as Ultralytics finds them, and every metric equals the folder's; --save_visdrone,
    whose toolkit reads one folder, is refused in one line before anything is written."""
    data = write_tiny_dataset(tmp_path / "tiny", n_train=1, n_val=3, size=64, nc=10)
    listed = tmp_path / "tiny" / "listed.yaml"
    (tmp_path / "tiny" / "val.txt").write_text("".join(f"./images/val/{i:04d}.jpg\n" for i in range(3)))
    listed.write_text(data.read_text().replace("val: images/val", "val: val.txt"))
    reports, truths = {}, {}
    for name, yaml_path in (("folder", data), ("listed", listed)):
        status, out, err = run_main_output(capsys, monkeypatch, "val.py", "--weights", checkpoint, "--data", yaml_path, "--split", "val", "--imgsz", 64,
                                           "--project", tmp_path / "runs", "--name", name)
        assert status == 0, err[-2000:]
        reports[name] = [line for line in out.splitlines() if line.startswith(" Average Precision")]
        truths[name] = json.loads((tmp_path / "runs" / name / "ground_truth.json").read_text())
    assert len(reports["folder"]) == 6 and reports["listed"] == reports["folder"]
    assert truths["listed"] == truths["folder"] and len(truths["listed"]["images"]) == 3 and truths["listed"]["annotations"]
    assert "(the ground truth of" in out and "yolo2coco.py" not in out
    status, _, err = run_main_output(capsys, monkeypatch, "val.py", "--weights", checkpoint, "--data", listed, "--split", "val", "--imgsz", 64,
                                     "--project", tmp_path / "runs", "--name", "visdrone", "--save_visdrone", True)
    one_line_error(status, err, "--save_visdrone True", "val.txt", "one folder of images")
    assert not (tmp_path / "runs" / "visdrone").exists()
