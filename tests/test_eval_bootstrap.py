"""The scoring spread: a bootstrap draw is scored as pycocotools scores those images, and the spread behaves as one."""

from __future__ import annotations

import json

import numpy as np
import pytest
from test_eval_coco_metrics import COCO_KEYS, pycocotools_eval
from test_eval_helpers import coco_gt, image, mixed_case, write_pair

from lrsdetr.eval.bootstrap import KEYS, ImageDraws, scoring_spread
from lrsdetr.eval.coco_metrics import coco_metrics
from lrsdetr.eval.inputs import load_coco_pair


@pytest.fixture(scope="module")
def mixed(tmp_path_factory):
    return load_coco_pair(*write_pair(tmp_path_factory.mktemp("mixed"), *mixed_case()))


def copied_as_files(folder, gt: dict, detections: list[dict], picks: list[int]):
    """The draw written out the plain way: each picked image's GT and detections copied under a new image id."""
    images = [image(f"draw{n}") for n in range(len(picks))]
    boxes, found = [], []
    for n, index in enumerate(picks):
        old = gt["images"][index]["id"]
        boxes += [(f"draw{n}", a["category_id"], a["bbox"], a["iscrowd"]) for a in gt["annotations"] if a["image_id"] == old]
        found += [{**d, "image_id": f"draw{n}"} for d in detections if d["image_id"] == old]
    names = {c["id"]: c["name"] for c in gt["categories"]}
    return write_pair(folder, coco_gt(images, boxes, names), found)


def test_the_whole_set_drawn_once_each_scores_as_the_set(mixed):
    whole = coco_metrics(mixed, backend="pycocotools").stats()
    drawn = ImageDraws(mixed).score(list(range(len(mixed.images))))
    assert drawn == pytest.approx({key: whole[key] for key in KEYS}, abs=1e-12)


def test_a_draw_with_repeats_scores_as_pycocotools_on_those_images_copied(tmp_path):
    gt, detections = mixed_case()
    gt["images"].reverse()  # a file whose images are not in id order: picks name positions in the file
    draws = ImageDraws(load_coco_pair(*write_pair(tmp_path / "reversed", gt, detections)))
    for draw, picks in enumerate(([0, 0, 3, 5, 5, 5, 1], [6, 2, 2, 7], [4, 1, 0, 0, 0, 3, 2, 6, 5, 7])):
        reference = dict(zip(COCO_KEYS, pycocotools_eval(*copied_as_files(tmp_path / str(draw), gt, detections, picks)).stats))
        assert draws.score(picks) == pytest.approx({key: reference[key] for key in KEYS}, abs=1e-12)


def half_found(n_images: int) -> tuple[dict, list[dict]]:
    """Every other image's objects found exactly, the rest missed: a set whose score depends on which images are drawn."""
    boxes = [(i, 1, (10.0 + 30 * k, 10.0, 16.0, 16.0), 0) for i in range(1, n_images + 1) for k in range(3)]
    found = [{"image_id": i, "category_id": 1, "bbox": list(box), "score": 0.9} for i, _, box, _ in boxes if i % 2]
    return coco_gt([image(i) for i in range(1, n_images + 1)], boxes, {1: "car"}), found


def test_the_spread_is_zero_for_a_perfect_model_and_shrinks_with_the_set(tmp_path):
    gt, found = half_found(64)
    perfect = [{"image_id": a["image_id"], "category_id": 1, "bbox": a["bbox"], "score": 0.9} for a in gt["annotations"]]
    exact = scoring_spread(load_coco_pair(*write_pair(tmp_path / "exact", gt, perfect)), [8, 64], resamples=30)
    assert all(value == 0 for size in exact.values() for value in size.values())
    spread = scoring_spread(load_coco_pair(*write_pair(tmp_path / "half", gt, found)), [8, 64], resamples=150)
    assert spread[64]["AP"] > 0
    assert 1.8 < spread[8]["AP"] / spread[64]["AP"] < 4.5  # sqrt(64 / 8) = 2.8 for a mean over images
    assert json.dumps(spread)  # plain numbers, as result.json stores them
