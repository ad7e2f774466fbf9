"""A photo turned by its EXIF orientation: labels are normalised to the size as displayed, which is how
Ultralytics (and OpenCV) read it for training and validation."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image
from source_tree import unchanged

from lrsdetr.data.coco import yolo_to_coco
from lrsdetr.data.files import image_size
from lrsdetr.data.stats import dataset_stats
from lrsdetr.data.visdrone import convert_visdrone

STORED = (60, 40)  # width, height of the pixels in the file
ROTATE_90 = 6  # EXIF orientation: turn clockwise to display, so the photo shows 40 wide and 60 high


def rotated_jpeg(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    exif = Image.Exif()
    exif[0x0112] = ROTATE_90
    pixels = np.random.default_rng(0).integers(0, 255, (STORED[1], STORED[0], 3), dtype=np.uint8)
    Image.fromarray(pixels).save(path, quality=95, exif=exif)
    return path


def displayed_size(path: Path) -> tuple[int, int]:
    """(width, height) as OpenCV decodes the file, the way Ultralytics' loaders see it."""
    height, width = cv2.imread(str(path)).shape[:2]
    return width, height


def test_image_size_is_the_displayed_size(tmp_path):
    image = rotated_jpeg(tmp_path / "a.jpg")
    assert Image.open(image).size == STORED and displayed_size(image) == (40, 60)
    assert image_size(image) == (40, 60)


@pytest.mark.parametrize("mask_ignored", [False, True])
def test_visdrone_labels_are_normalised_to_the_displayed_image(tmp_path, mask_ignored):
    src = tmp_path / "vd"
    rotated_jpeg(src / "images" / "a.jpg")
    (src / "annotations").mkdir()
    (src / "annotations" / "a.txt").write_text("0,0,20,30,1,4,0,0\n30,50,10,10,0,0,0,0\n")  # a car, and an ignored region
    with unchanged(src):
        convert_visdrone(src, tmp_path / "yolo", "train", mask_ignored=mask_ignored)
    out_image = tmp_path / "yolo" / "images" / "train" / "a.jpg"
    assert displayed_size(out_image) == (40, 60)  # a painted copy is written upright
    assert (tmp_path / "yolo" / "labels" / "train" / "a.txt").read_text() == "3 0.250000 0.250000 0.500000 0.500000\n"


def test_coco_ground_truth_and_stats_use_the_displayed_image(tmp_path):
    root = tmp_path / "data"
    rotated_jpeg(root / "images" / "a.jpg")
    (root / "labels").mkdir()
    (root / "labels" / "a.txt").write_text("0 0.5 0.5 0.5 0.25\n")
    with unchanged(root):
        coco, _ = yolo_to_coco(root / "images", root / "labels", ["car"])
        stats = dataset_stats(root / "images", ["car"])
    assert coco["images"][0] == {"id": "a", "file_name": "a.jpg", "width": 40, "height": 60}
    assert coco["annotations"][0]["bbox"] == [10.0, 22.5, 20.0, 15.0]
    assert stats.boxes == [(0, 300.0)]  # an area, the same either way round
