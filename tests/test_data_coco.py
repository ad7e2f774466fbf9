"""YOLO to COCO ground truth: the round trip, and pairing with the predictions.json Ultralytics writes."""

import json
from pathlib import Path
from types import SimpleNamespace

import cv2
import numpy as np
import pytest
from source_tree import unchanged
import torch

from lrsdetr.data.coco import coco_category_id, coco_image_id, write_coco_json, yolo_to_coco
from lrsdetr.data.visdrone import VISDRONE_NAMES
from lrsdetr.eval.coco_metrics import coco_metrics
from lrsdetr.eval.inputs import load_coco_pair
from lrsdetr.utils.errors import DataError

# (stem, width, height, [(class, left, top, width, height) in pixels])
IMAGES = [
    ("img_a", 120, 90, [(0, 10, 20, 30, 40), (9, 0, 0, 12, 8)]),
    ("img_b", 64, 48, [(3, 40, 10, 24, 38)]),
    ("img_c", 80, 80, []),  # background: no label file
]


def write_yolo(root: Path, images=IMAGES) -> tuple[Path, Path]:
    (root / "images").mkdir(parents=True)
    (root / "labels").mkdir()
    for stem, w, h, boxes in images:
        cv2.imwrite(str(root / "images" / f"{stem}.jpg"), np.full((h, w, 3), 128, np.uint8))
        if boxes:
            lines = [f"{c} {(x + bw / 2) / w:.6f} {(y + bh / 2) / h:.6f} {bw / w:.6f} {bh / h:.6f}" for c, x, y, bw, bh in boxes]
            (root / "labels" / f"{stem}.txt").write_text("\n".join(lines) + "\n")
    return root / "images", root / "labels"


def test_round_trip_through_pycocotools(tmp_path):
    from pycocotools.coco import COCO

    image_dir, label_dir = write_yolo(tmp_path)
    with unchanged(image_dir, label_dir):
        coco, report = yolo_to_coco(image_dir, label_dir, VISDRONE_NAMES)
        write_coco_json(coco, tmp_path / "gt.json")
    gt = COCO(str(tmp_path / "gt.json"))
    assert (report.images, report.annotations, report.background_images) == (3, 3, 1)
    assert [c["id"] for c in gt.loadCats(gt.getCatIds())] == list(range(1, 11))
    for stem, w, h, boxes in IMAGES:
        (info,) = gt.loadImgs([stem])
        assert (info["file_name"], info["width"], info["height"]) == (f"{stem}.jpg", w, h)
        anns = gt.loadAnns(gt.getAnnIds(imgIds=[stem]))
        assert len(anns) == len(boxes)
        for ann, (c, x, y, bw, bh) in zip(anns, boxes):
            assert ann["category_id"] == c + 1 and ann["iscrowd"] == 0
            assert ann["bbox"] == pytest.approx([x, y, bw, bh], abs=1e-3)
            assert ann["area"] == pytest.approx(bw * bh, rel=1e-4)
    assert len({a["id"] for a in coco["annotations"]}) == 3


def test_output_bytes_are_stable(tmp_path):
    image_dir, label_dir = write_yolo(tmp_path)
    for name in ("one.json", "two.json"):
        write_coco_json(yolo_to_coco(image_dir, label_dir, VISDRONE_NAMES)[0], tmp_path / name)
    assert (tmp_path / "one.json").read_bytes() == (tmp_path / "two.json").read_bytes()
    assert "-0.0" not in (tmp_path / "one.json").read_text()


def ultralytics_predictions(images: list[Path], gt: dict, save_dir: Path) -> list[dict]:
    """What ultralytics' RT-DETR validator writes to predictions.json for a perfect detector on `images`.

    The validator's own init_metrics (class_map) and pred_to_json (image_id, category_id) produce the entries;
    only the boxes (original-image pixels, xyxy) and scores are ours.
    """
    from ultralytics.models.rtdetr.val import RTDETRValidator

    validator = RTDETRValidator(save_dir=save_dir, args={"save_json": False, "plots": False})
    validator.data = {"val": str(images[0].parent)}
    validator.init_metrics(SimpleNamespace(names=dict(enumerate(VISDRONE_NAMES))))
    by_file = {image["file_name"]: image["id"] for image in gt["images"]}
    for image in images:
        anns = [a for a in gt["annotations"] if a["image_id"] == by_file[image.name]]
        xyxy = torch.tensor([[x, y, x + w, y + h] for x, y, w, h in (a["bbox"] for a in anns)]).reshape(-1, 4)
        cls = torch.tensor([float(a["category_id"] - 1) for a in anns])  # the model predicts class indices
        validator.pred_to_json({"bboxes": xyxy, "conf": torch.full((len(anns),), 0.9), "cls": cls}, {"im_file": str(image)})
    return json.loads(json.dumps(validator.jdict))  # as read back from predictions.json


@pytest.mark.parametrize("stems", [["img_a", "img_b", "img_c"], ["0000001", "0000002", "17"], ["5", "b_6", "c_7"]], ids=["text-stems", "numeric-stems", "mixed-stems"])
def test_image_and_category_ids_pair_with_ultralytics_predictions(tmp_path, stems):
    from pycocotools.coco import COCO
    from pycocotools.cocoeval import COCOeval

    images = [(stem, *rest) for stem, (_, *rest) in zip(stems, IMAGES)]
    image_dir, label_dir = write_yolo(tmp_path / "data", images)
    with unchanged(tmp_path / "data"):
        coco, _ = yolo_to_coco(image_dir, label_dir, VISDRONE_NAMES)
        write_coco_json(coco, tmp_path / "gt.json")
    predictions = ultralytics_predictions(sorted(image_dir.iterdir()), coco, tmp_path / "val")
    (tmp_path / "predictions.json").write_text(json.dumps(predictions))

    assert {p["image_id"] for p in predictions} == {coco_image_id(image_dir / f"{s}.jpg") for s, *_, boxes in images if boxes}
    assert {p["image_id"] for p in predictions} <= {image["id"] for image in coco["images"]}
    assert {p["category_id"] for p in predictions} == {a["category_id"] for a in coco["annotations"]}

    pair = load_coco_pair(tmp_path / "predictions.json", tmp_path / "gt.json")  # what get_COCO_metrics.py runs
    assert coco_metrics(pair).stats()["AP"] == pytest.approx(1.0)  # every prediction found its ground truth
    if len({type(image["id"]) for image in coco["images"]}) == 1:  # pycocotools itself cannot sort mixed ids
        gt = COCO(str(tmp_path / "gt.json"))
        evaluation = COCOeval(gt, gt.loadRes(str(tmp_path / "predictions.json")), "bbox")
        evaluation.evaluate(), evaluation.accumulate(), evaluation.summarize()
        assert evaluation.stats[0] == pytest.approx(1.0)


def test_id_rules_match_ultralytics():
    assert coco_image_id(Path("x/000123.jpg")) == 123
    assert coco_image_id(Path("x/0000006_00159_d_0000001.jpg")) == "0000006_00159_d_0000001"
    assert coco_category_id(0) == 1


def test_colliding_stems_are_refused(tmp_path):
    image_dir, label_dir = write_yolo(tmp_path, [("1", 32, 32, []), ("001", 32, 32, [])])
    with pytest.raises(DataError, match="both get image_id 1"):
        yolo_to_coco(image_dir, label_dir, VISDRONE_NAMES)


def test_bad_labels(tmp_path):
    image_dir, label_dir = write_yolo(tmp_path)
    (label_dir / "img_b.txt").write_text("3 0.5 0.5 0.2 0.2\n12 0.5 0.5 0.1 0.1\n")
    with pytest.raises(DataError, match=r"img_b\.txt:2: expected a class index 0\.\.9, got 12"):
        yolo_to_coco(image_dir, label_dir, VISDRONE_NAMES)
    (label_dir / "img_b.txt").write_text("3 0.5 0.5 0.2\n3 0.5 0.5 1.5 0.1\n3 0.5 0.5 0.2 0.2\n")
    coco, report = yolo_to_coco(image_dir, label_dir, VISDRONE_NAMES, skip_bad=True)
    assert len(report.bad_lines.messages) == 2 and report.annotations == 3
    assert "expected 5 fields" in report.bad_lines.messages[0] and "normalised" in report.bad_lines.messages[1]


def test_unreadable_image_and_orphan_label_are_listed(tmp_path):
    image_dir, label_dir = write_yolo(tmp_path)
    (image_dir / "broken.jpg").write_bytes(b"\x00\x01")
    (label_dir / "orphan.txt").write_text("0 0.5 0.5 0.1 0.1\n")
    coco, report = yolo_to_coco(image_dir, label_dir, VISDRONE_NAMES)
    assert report.unreadable_images == ["broken.jpg"] and report.labels_without_image == ["orphan.txt"]
    assert report.images == 3
