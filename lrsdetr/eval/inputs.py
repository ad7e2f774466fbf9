"""Read a COCO ground-truth file and a COCO results file, and check that they describe the same images.

Every metric in this package reads the pair through `load_coco_pair`, so a user's mistake (a missing file,
predictions made on other images, class ids that the GT does not know) is caught once, here, and reported
as one `EvalInputError` line that names the file and says what was expected.
"""

from __future__ import annotations

import json
import logging
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..utils.errors import DataError

LOGGER = logging.getLogger("lrsdetr.eval")
DETECTION_KEYS = ("image_id", "category_id", "bbox", "score")
DETECTION_FORMAT = "{image_id, category_id, bbox: [x, y, width, height], score}"
GT_KEYS = ("images", "annotations", "categories")
ANNOTATION_KEYS = ("image_id", "category_id", "bbox")


class EvalInputError(DataError, ValueError):
    """A mistake in the user's files or arguments: the script prints this one line and exits with status 2."""


@dataclass(frozen=True)
class CocoPair:
    """Ground truth and predictions checked against each other, boxes as [x, y, w, h] floats.

    `annotations` always carry `area` and `iscrowd` (filled with w*h and 0 where the file has none);
    `categories` maps category id to name (the id as text where the file names none).
    """

    pred_path: Path
    anno_path: Path
    images: list[dict]
    annotations: list[dict]
    categories: dict[Any, str]
    predictions: list[dict]


def load_coco_pair(pred_json: str | Path, anno_json: str | Path) -> CocoPair:
    """Load both files and check every prediction against the GT (raises `EvalInputError`)."""
    pred_path, anno_path = Path(pred_json), Path(anno_json)
    gt = _read_json(anno_path, "--anno_json")
    dets = _read_json(pred_path, "--pred_json")
    images, annotations, categories = _check_ground_truth(gt, anno_path)
    predictions = _check_predictions(dets, pred_path)
    _check_ids_match(predictions, images, categories, pred_path, anno_path)
    if not predictions:
        LOGGER.warning(f"WARNING: --pred_json {pred_path} holds no detections: every metric is 0")
    return CocoPair(pred_path, anno_path, images, annotations, categories, predictions)


def id_order(value: int | str) -> tuple:
    """Sort key for ids that may be numbers or file stems: numbers in numeric order, then text."""
    return (isinstance(value, str), value)


def _read_json(path: Path, argument: str) -> Any:
    if not path.is_file():
        raise EvalInputError(f"{argument} {path}: {'is a folder, expected a' if path.is_dir() else 'no such'} JSON file")
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise EvalInputError(f"{argument} {path}: not valid JSON ({error})") from None


def _check_ground_truth(gt: Any, path: Path) -> tuple[list[dict], list[dict], dict[Any, str]]:
    where = f"--anno_json {path}"
    if not isinstance(gt, dict):
        hint = " (a list is a predictions file: did you swap --pred_json and --anno_json?)" if isinstance(gt, list) else ""
        raise EvalInputError(f"{where}: expected a COCO ground-truth object with {', '.join(GT_KEYS)}, got a {type(gt).__name__}{hint}")
    missing = [key for key in GT_KEYS if not isinstance(gt.get(key), list)]
    if missing:
        raise EvalInputError(f"{where}: expected a COCO ground-truth object with {', '.join(GT_KEYS)} lists, missing {', '.join(missing)}")
    images = gt["images"]
    if not all(isinstance(image, dict) and _is_id(image.get("id")) for image in images):
        raise EvalInputError(f"{where}: every entry of 'images' needs an 'id' (a whole number or text)")
    if not all(isinstance(category, dict) and _is_id(category.get("id")) for category in gt["categories"]):
        raise EvalInputError(f"{where}: every entry of 'categories' needs an 'id' (a whole number or text)")
    for key in ("images", "categories"):
        _refuse_repeated_ids(gt[key], f"{where}: '{key}'")
    categories = {category["id"]: str(category.get("name", category["id"])) for category in gt["categories"]}
    image_ids = {image["id"] for image in images}
    annotations = []
    for index, ann in enumerate(gt["annotations"]):
        problem = _record_problem(ann, ANNOTATION_KEYS)
        if problem:
            raise EvalInputError(f"{where}: annotation #{index} {problem}")
        bbox = _box(ann["bbox"], f"{where}: annotation #{index}")
        if ann["image_id"] not in image_ids or ann["category_id"] not in categories:
            raise EvalInputError(f"{where}: annotation #{index} names image_id {ann['image_id']!r} / category_id {ann['category_id']!r}, which 'images' / 'categories' do not list")
        area = ann.get("area")
        area = float(area) if isinstance(area, (int, float)) and math.isfinite(area) else bbox[2] * bbox[3]
        annotations.append({"image_id": ann["image_id"], "category_id": ann["category_id"], "bbox": bbox, "area": area, "iscrowd": int(bool(ann.get("iscrowd", 0)))})
    return images, annotations, categories


def _refuse_repeated_ids(entries: list[dict], where: str) -> None:
    """Two categories (or images) with one id would be merged into one by the evaluators, without a word."""
    first: dict[Any, int] = {}
    for index, entry in enumerate(entries):
        if entry["id"] in first:
            raise EvalInputError(f"{where} #{first[entry['id']]} and #{index} both have id {entry['id']!r}, expected each id once")
        first[entry["id"]] = index


def _check_predictions(dets: Any, path: Path) -> list[dict]:
    where = f"--pred_json {path}"
    if not isinstance(dets, list):
        hint = " (this looks like a ground-truth file: did you swap --pred_json and --anno_json?)" if isinstance(dets, dict) and "annotations" in dets else ""
        raise EvalInputError(f"{where}: expected a list of detections {DETECTION_FORMAT}, got a {type(dets).__name__}{hint}")
    predictions = []
    for index, det in enumerate(dets):
        problem = _record_problem(det, DETECTION_KEYS)
        if problem:
            raise EvalInputError(f"{where}: detection #{index} {problem}, expected {DETECTION_FORMAT}")
        score = det["score"]
        if not isinstance(score, (int, float)) or not math.isfinite(score):
            raise EvalInputError(f"{where}: detection #{index} has score {score!r}, expected a finite number")
        bbox = _box(det["bbox"], f"{where}: detection #{index}")
        predictions.append({"image_id": det["image_id"], "category_id": det["category_id"], "bbox": bbox, "score": float(score)})
    return predictions


def _record_problem(record: Any, keys: tuple[str, ...]) -> str | None:
    """What is wrong with one annotation or detection, if anything, before its values are read."""
    if not isinstance(record, dict):
        return f"is a {type(record).__name__}"
    missing = [key for key in keys if key not in record]
    if missing:
        return f"lacks {', '.join(missing)}"
    bad_ids = [f"{key} {record[key]!r}" for key in ("image_id", "category_id") if not _is_id(record[key])]
    return f"has {', '.join(bad_ids)} (ids are whole numbers or text)" if bad_ids else None


def _is_id(value: Any) -> bool:
    return isinstance(value, (int, str)) and not isinstance(value, bool)


def _box(bbox: Any, where: str) -> list[float]:
    if not (isinstance(bbox, list) and len(bbox) == 4 and all(isinstance(v, (int, float)) and math.isfinite(v) for v in bbox)):
        raise EvalInputError(f"{where} has bbox {bbox!r}, expected [x, y, width, height] as 4 finite numbers")
    if bbox[2] < 0 or bbox[3] < 0:  # a corner pair (x1, y1, x2, y2) read as a size, or a sign error: AP would be 0 without a word
        raise EvalInputError(f"{where} has bbox {bbox!r} with a negative width or height, expected [x, y, width, height] with width, height >= 0")
    return [float(v) for v in bbox]


def _check_ids_match(predictions: list[dict], images: list[dict], categories: dict, pred_path: Path, anno_path: Path) -> None:
    """The usual pairing mistake: predictions.json names images by file stem, the GT json by another id."""
    image_ids = {image["id"] for image in images}
    unknown_images = sorted({det["image_id"] for det in predictions} - image_ids, key=id_order)
    if unknown_images:
        stems = {Path(str(image.get("file_name", ""))).stem for image in images}
        hint = " These are the GT's file-name stems, which Ultralytics' predictions.json uses as image_id: make the GT json with image id = file stem." if {str(i) for i in unknown_images} <= stems else ""
        raise EvalInputError(
            f"--pred_json {pred_path}: {len(unknown_images)} image_id(s) not in --anno_json {anno_path}, e.g. {_few(unknown_images)} "
            f"(GT image ids look like {_few(sorted(image_ids, key=id_order))}): the GT json must be made from the same images as the predictions.{hint}"
        )
    predicted_classes = {det["category_id"] for det in predictions}
    unknown_classes = sorted(predicted_classes - set(categories), key=id_order)
    if unknown_classes:
        shift = next((s for s in (1, -1) if all(isinstance(c, int) and c + s in categories for c in predicted_classes)), None)
        hint = f" Every category_id{shift:+d} is in the GT: one side numbers classes from 0, the other from 1 (Ultralytics writes class index + 1)." if shift else ""
        raise EvalInputError(
            f"--pred_json {pred_path}: category_id(s) {_few(unknown_classes)} not in --anno_json {anno_path}, whose categories are "
            f"{_few(sorted(categories, key=id_order), 12)}: predictions and GT must use the same class ids.{hint}"
        )


def _few(values: list, count: int = 3) -> str:
    shown = ", ".join(repr(v) for v in values[:count])
    return f"{shown}, ..." if len(values) > count else shown
