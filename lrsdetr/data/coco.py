"""YOLO labels to a COCO ground-truth JSON that pairs with the `predictions.json` Ultralytics writes.

COCO evaluation (get_COCO_metrics.py) matches predictions to ground truth by `image_id` and `category_id`, so
both must be what ultralytics 8.4.190's DetectionValidator writes for the same images:
- `image_id`: the image file's stem, as an int when the stem is numeric (`pred_to_json`);
- `category_id`: `class_map[class]`, which for any dataset other than COCO itself is `class + 1`
  (`init_metrics` sets `class_map = list(range(1, nc + 1))`), so category ids run 1..nc.
VisDrone's file names are not numeric, so their image ids are strings. pycocotools and get_COCO_metrics.py
pair those; faster-coco-eval used directly casts every image id to int and so needs numeric file stems.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from tqdm import tqdm

from lrsdetr.data.files import BadLines, image_size, list_images, require_folder, texts_without_image, truncated_jpeg, truncated_warnings, write_text_atomic
from lrsdetr.data.yolo import label_file, label_path, read_yolo_labels
from lrsdetr.utils.errors import DataError


def coco_image_id(image: Path) -> int | str:
    """The `image_id` Ultralytics writes for `image`: its stem, as an int where the stem is numeric."""
    stem = image.stem
    return int(stem) if stem.isnumeric() else stem


def coco_category_id(cls: int) -> int:
    """The `category_id` Ultralytics writes for class index `cls` on a non-COCO dataset."""
    return cls + 1


@dataclass
class CocoReport:
    """What went into the JSON and what was left out."""

    images: int = 0
    annotations: int = 0
    background_images: int = 0
    labels_without_image: list[str] = field(default_factory=list)
    unreadable_images: list[str] = field(default_factory=list)
    truncated_images: list[str] = field(default_factory=list)
    bad_lines: BadLines = field(default_factory=BadLines)

    def summary(self) -> str:
        lines = [f"{self.images} images ({self.background_images} without labels), {self.annotations} annotations"]
        lines += [f"skipped (label without image): {name}" for name in self.labels_without_image]
        lines += [f"skipped (unreadable image): {name}" for name in self.unreadable_images]
        return "\n".join(filter(None, [*lines, *truncated_warnings(self.truncated_images), self.bad_lines.summary()]))


def _check_image_ids(images: list[Path]) -> None:
    """Two files with one id (`1.jpg` and `001.png`) could not be told apart when pairing."""
    owner: dict[int | str, Path] = {}
    for image in images:
        image_id = coco_image_id(image)
        if image_id in owner:
            raise DataError(f"image_path: {owner[image_id].name} and {image.name} both get image_id {image_id!r} (Ultralytics uses the file stem); rename one")
        owner[image_id] = image


def _pixels(value: float) -> float:
    return round(value, 3) + 0.0  # + 0.0 turns -0.0 into 0.0


def yolo_to_coco(image_dir: Path, label_dir: Path, names: list[str] | tuple[str, ...], skip_bad: bool = False) -> tuple[dict, CocoReport]:
    """The COCO ground truth of the images in `image_dir` with their YOLO labels from `label_dir`.

    An image without a label file is background (an image entry with no annotations); a class index outside
    `names` is a malformed line.
    """
    image_dir = require_folder(Path(image_dir), "image_path", "a folder of images")
    label_dir = require_folder(Path(label_dir), "label_path", "a folder of YOLO .txt labels")
    images = list_images(image_dir)
    if not images:
        raise DataError(f"image_path {image_dir}: no images")
    report = CocoReport(bad_lines=BadLines(skip_bad), labels_without_image=texts_without_image(label_dir, images))
    return images_to_coco(images, lambda image: label_file(image, label_dir), names, report), report


def split_to_coco(images: list[Path], names: list[str] | tuple[str, ...]) -> tuple[dict, CocoReport]:
    """The COCO ground truth of a split given as image files (a data.yaml's list file, or several entries), each
    image's labels where Ultralytics looks for them (its last `images` folder read as `labels`)."""
    report = CocoReport()
    return images_to_coco(images, label_path, names, report), report


def images_to_coco(images: list[Path], label_of: Callable[[Path], Path], names: list[str] | tuple[str, ...], report: CocoReport) -> dict:
    """The COCO ground truth of `images`, the labels of each read from `label_of(image)`; what is left out goes in
    `report`."""
    _check_image_ids(images)
    coco: dict = {
        "info": {"description": f"ground truth from YOLO labels; category_id = class index + 1 ({len(names)} classes)"},
        "images": [],
        "annotations": [],
        "categories": [{"id": coco_category_id(cls), "name": name, "supercategory": "none"} for cls, name in enumerate(names)],
    }
    for image in tqdm(images, desc="yolo2coco", unit="image"):
        size = image_size(image)
        if size is None:
            report.unreadable_images.append(image.name)
            continue
        width, height = size
        if truncated_jpeg(image):
            report.truncated_images.append(image.name)
        image_id = coco_image_id(image)
        coco["images"].append({"id": image_id, "file_name": image.name, "width": width, "height": height})
        labels = label_of(image)
        boxes = read_yolo_labels(labels, report.bad_lines, nc=len(names)) if labels.is_file() else []
        report.background_images += not boxes
        for box in boxes:
            bbox = [_pixels(v) for v in box.to_pixels(width, height)]
            coco["annotations"].append(
                {"id": len(coco["annotations"]) + 1, "image_id": image_id, "category_id": coco_category_id(box.cls), "bbox": bbox, "area": _pixels(bbox[2] * bbox[3]), "iscrowd": 0}
            )
    report.images = len(coco["images"])
    report.annotations = len(coco["annotations"])
    return coco


def write_coco_json(coco: dict, path: Path) -> None:
    """Compact, key order as built, so the same labels always give the same bytes."""
    write_text_atomic(Path(path), json.dumps(coco, separators=(",", ":")) + "\n")
