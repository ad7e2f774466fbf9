"""Synthetic COCO ground truth and predictions for the evaluation tests (no tests here, only builders).

The GT has the fields our YOLO->COCO converter writes (images: id/file_name/width/height; annotations:
id/image_id/category_id/bbox/area/iscrowd; categories: id/name) and nothing else: no 'segmentation'.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

SIZES = (12.0, 55.0, 130.0)  # sides of small (< 32^2), medium and large (> 96^2) boxes


def coco_gt(images: list[dict], boxes: list[tuple], names: dict[int, str]) -> dict:
    """A GT dict from (image_id, category_id, [x, y, w, h], iscrowd) tuples; annotation ids from 1."""
    annotations = [
        {"id": n, "image_id": image_id, "category_id": cid, "bbox": list(box), "area": box[2] * box[3], "iscrowd": crowd}
        for n, (image_id, cid, box, crowd) in enumerate(boxes, start=1)
    ]
    return {"images": images, "annotations": annotations, "categories": [{"id": cid, "name": name} for cid, name in names.items()]}


def image(image_id: int | str, width: int = 640, height: int = 480) -> dict:
    return {"id": image_id, "file_name": f"{image_id}.jpg", "width": width, "height": height}


def mixed_case(seed: int = 0) -> tuple[dict, list[dict]]:
    """8 images, 3 classes with GT plus one without, small/medium/large boxes, localisation noise, wrong classes,
    background false positives, misses, a crowd region, tied scores, an image with no GT and one with no detections."""
    rng = np.random.default_rng(seed)
    images = [image(i) for i in range(1, 9)]
    boxes, detections = [], []
    for image_id in range(1, 8):
        for _ in range(int(rng.integers(4, 16))):
            side = float(rng.choice(SIZES)) * rng.uniform(0.7, 1.3)
            w, h = side * rng.uniform(0.8, 1.25), side * rng.uniform(0.8, 1.25)
            x, y = rng.uniform(0, 640 - w), rng.uniform(0, 480 - h)
            cid = int(rng.integers(1, 4))
            boxes.append((image_id, cid, (x, y, w, h), int(rng.random() < 0.04)))
            if image_id == 7 or rng.random() < 0.15:
                continue  # image 7 has no detections at all; otherwise a miss
            label = cid if rng.random() < 0.85 else 1 + cid % 3
            jitter = rng.normal(0, 0.12, 2) * (w, h)
            score = round(float(rng.uniform(0.05, 1.0)), 1)  # coarse scores: many ties
            detections.append({"image_id": image_id, "category_id": label, "bbox": [x + jitter[0], y + jitter[1], w, h], "score": score})
    for image_id in (*range(1, 7), 8):  # background false positives, all of image 8's
        for _ in range(int(rng.integers(1, 5))):
            w, h = rng.uniform(8, 120, 2)
            detections.append({"image_id": image_id, "category_id": int(rng.integers(1, 5)), "bbox": [*rng.uniform(0, 400, 2), w, h], "score": float(rng.random())})
    return coco_gt(images, boxes, {1: "pedestrian", 2: "car", 3: "bus", 4: "tricycle"}), detections


def crowded_case(n_objects: int = 150) -> tuple[dict, list[dict]]:
    """One image with `n_objects` small boxes, each found exactly, scores all distinct: COCO's 100 cap drops a third."""
    boxes = [(1, 1, (float(20 * (k % 30)), float(20 * (k // 30)), 16.0, 16.0), 0) for k in range(n_objects)]
    detections = [{"image_id": 1, "category_id": 1, "bbox": list(box), "score": 1.0 - k / (2 * n_objects)} for k, (_, _, box, _) in enumerate(boxes)]
    return coco_gt([image(1)], boxes, {1: "pedestrian"}), detections


def write_pair(folder: Path, gt: dict, detections: list[dict]) -> tuple[Path, Path]:
    """Write predictions.json and data_test.json in `folder`; return (pred_json, anno_json)."""
    folder.mkdir(parents=True, exist_ok=True)
    pred_json, anno_json = folder / "predictions.json", folder / "data_test.json"
    pred_json.write_text(json.dumps(detections))
    anno_json.write_text(json.dumps(gt))
    return pred_json, anno_json
