"""Detections in the VisDrone-DET challenge's submission format, and VisDrone ground truth from YOLO labels.

A result file per image (also for an image with no detection), named `<image stem>.txt`, one detection a line:
`x,y,w,h,score,category,-1,-1` in original-image pixels, categories 1..10 (our class index + 1, as in
predictions.json), sorted by score, at most 500 lines: the toolkit reads only the first 500 rows of each file.
"""

from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path

import numpy as np
from ultralytics.data.utils import IMG_FORMATS

from ..data.coco import coco_image_id, yolo_to_coco
from ..data.files import list_images, require_folder, write_text_atomic
from ..data.visdrone import VISDRONE_NAMES
from ..utils.errors import DataError

MAX_RESULTS = 500
RESULTS_DIR = "visdrone_results"
ANNOTATIONS_DIR = "visdrone_annotations"


def _number(value: float, decimals: int) -> str:
    return np.format_float_positional(round(float(value), decimals) + 0.0, trim="-")


def result_lines(xywh: np.ndarray, scores: np.ndarray, categories: np.ndarray) -> list[str]:
    """Submission lines for one image: highest score first (ties keep their order), at most MAX_RESULTS."""
    order = np.argsort(-np.asarray(scores, dtype=np.float64), kind="stable")[:MAX_RESULTS]
    return [f"{','.join(_number(v, 3) for v in xywh[i])},{_number(scores[i], 5)},{int(categories[i])},-1,-1" for i in order]


def check_categories(categories: np.ndarray, where: str) -> None:
    """VisDrone's format holds the ten categories 1..10 only."""
    bad = [int(c) for c in np.unique(categories) if not 1 <= c <= len(VISDRONE_NAMES)]
    if bad:
        raise DataError(f"{where}: category {bad[0]} has no VisDrone category (expected 1..{len(VISDRONE_NAMES)}: our classes 0..9 + 1); is this a VisDrone-trained model?")


def write_results(folder: Path, detections: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]]) -> Path:
    """One `<stem>.txt` per entry of `detections` (stem -> (xywh, scores, categories 1..10)), each written atomically."""
    for stem, (xywh, scores, categories) in detections.items():
        write_text_atomic(folder / f"{stem}.txt", "".join(f"{line}\n" for line in result_lines(xywh, scores, categories)))
    return folder


class VisDroneResults:
    """detect.py's --save_visdrone: collects each frame's Ultralytics `Results`, writes the files at `close`."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.detections: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]] = {}
        self.frames: dict[str, int] = defaultdict(int)

    def add(self, result) -> None:
        """Boxes of one image (video frames are named `<stem>_<frame>`, as detect.py's labels are)."""
        path = Path(result.path)
        self.frames[result.path] += 1
        stem = path.stem if path.suffix.lower().lstrip(".") in IMG_FORMATS else f"{path.stem}_{self.frames[result.path]}"
        categories = result.boxes.cls.cpu().numpy().astype(int) + 1
        check_categories(categories, f"--save_visdrone, {path.name}")
        self.detections[stem] = (_xyxy_to_xywh(result.boxes.xyxy.cpu().numpy()), result.boxes.conf.cpu().numpy(), categories)

    def close(self) -> str:
        write_results(self.folder, self.detections)
        return f"VisDrone submission files: {len(self.detections)} in {self.folder}"


def _xyxy_to_xywh(xyxy: np.ndarray) -> np.ndarray:
    xyxy = np.asarray(xyxy, dtype=np.float64).reshape(-1, 4)
    return np.concatenate([xyxy[:, :2], xyxy[:, 2:] - xyxy[:, :2]], 1)


def results_from_predictions(pred_json: Path, image_dir: Path, folder: Path) -> Path:
    """A COCO predictions.json (val.py's; category_id = class + 1) as one result file per image of `image_dir`."""
    images = list_images(require_folder(Path(image_dir), "--img_dir", "the images the predictions were made on"))
    stems = {coco_image_id(image): image.stem for image in images}
    try:
        records = json.loads(Path(pred_json).read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError, UnicodeDecodeError) as error:
        raise DataError(f"--pred_json {pred_json}: cannot read a COCO results list ({error})") from None
    if not isinstance(records, list):
        raise DataError(f"--pred_json {pred_json}: expected a list of {{image_id, category_id, bbox, score}}, got a {type(records).__name__}")
    per_image: dict[str, list] = {stem: [] for stem in stems.values()}
    for index, record in enumerate(records):
        where = f"--pred_json {pred_json}: detection #{index}"
        if not isinstance(record, dict) or record.get("image_id") not in stems:
            raise DataError(f"{where}: image_id {record.get('image_id') if isinstance(record, dict) else None!r} is no image of --img_dir {image_dir}")
        try:
            row = [*(float(v) for v in record["bbox"]), float(record["score"]), int(record["category_id"])]
        except (KeyError, TypeError, ValueError):
            row = []
        if len(row) != 6 or not np.isfinite(row).all():
            raise DataError(f"{where}: expected bbox [x, y, w, h], score and category_id as finite numbers")
        per_image[stems[record["image_id"]]].append(row)
    detections = {}
    for stem, rows in per_image.items():
        array = np.array(rows, dtype=np.float64).reshape(-1, 6)
        check_categories(array[:, 5], f"--pred_json {pred_json}")
        detections[stem] = (array[:, :4], array[:, 4], array[:, 5].astype(int))
    return write_results(Path(folder), detections)


def annotations_from_labels(image_dir: Path, label_dir: Path, folder: Path) -> Path:
    """VisDrone annotation files from YOLO labels (score 1, category = class + 1; no ignored regions, no 'others')."""
    coco, report = yolo_to_coco(Path(image_dir), Path(label_dir), VISDRONE_NAMES)
    lines: dict = {image["id"]: [] for image in coco["images"]}
    for ann in coco["annotations"]:
        lines[ann["image_id"]].append(f"{','.join(_number(v, 3) for v in ann['bbox'])},1,{ann['category_id']},0,0")
    for image in coco["images"]:
        write_text_atomic(Path(folder) / f"{Path(image['file_name']).stem}.txt", "".join(f"{line}\n" for line in lines[image["id"]]))
    print(report.summary())
    return Path(folder)
