"""TIDE, through tidecv, on box-only GT: each planted error type is found, and its plots are written."""

from __future__ import annotations

import os

import matplotlib
import pytest
from PIL import Image
from test_eval_helpers import coco_gt, crowded_case, image, mixed_case, write_pair

from lrsdetr.eval.inputs import load_coco_pair
from lrsdetr.eval.tide import MAIN_ERRORS, PLOT_PARTS, tide_analysis

GT_BOXES = [(1, 1, (20.0, 20.0, 40.0, 40.0), 0), (1, 2, (200.0, 100.0, 60.0, 30.0), 0), (2, 1, (50.0, 300.0, 80.0, 80.0), 0), (2, 3, (400.0, 50.0, 20.0, 20.0), 0)]


def tide_on(tmp_path, detections: list[dict], boxes: list[tuple] = GT_BOXES, max_dets: int = 100):
    gt = coco_gt([image(1), image(2)], boxes, {1: "pedestrian", 2: "car", 3: "bus"})
    return tide_analysis(load_coco_pair(*write_pair(tmp_path, gt, detections)), max_dets)


def detections_from(boxes: list[tuple], dx: float = 0.0, class_shift: int = 0) -> list[dict]:
    return [
        {"image_id": i, "category_id": 1 + (c - 1 + class_shift) % 3, "bbox": [x + dx * w, y, w, h], "score": 0.9 - 0.1 * n}
        for n, (i, c, (x, y, w, h), _) in enumerate(boxes)
    ]


def only_errors(result, expected: dict[str, int]) -> bool:
    return result.counts == {name: expected.get(name, 0) for name in MAIN_ERRORS}


def test_shifted_boxes_are_localisation_errors(tmp_path):
    result = tide_on(tmp_path, detections_from(GT_BOXES, dx=0.5))  # IoU 1/3: between background (0.1) and positive (0.5)
    assert only_errors(result, {"Loc": 4})
    assert result.ap50 == 0.0 and result.delta_ap["Loc"] == pytest.approx(100.0)


def test_wrong_classes_are_classification_errors(tmp_path):
    result = tide_on(tmp_path, detections_from(GT_BOXES, class_shift=1))
    assert only_errors(result, {"Cls": 4})
    assert result.delta_ap["Cls"] == pytest.approx(100.0) and result.delta_ap["Loc"] == 0.0


def test_duplicates_background_and_misses(tmp_path):
    found = detections_from(GT_BOXES[:3])
    duplicate = {**found[0], "score": 0.1}
    background = {"image_id": 2, "category_id": 2, "bbox": [600.0, 400.0, 30.0, 30.0], "score": 0.95}
    result = tide_on(tmp_path, [*found, duplicate, background])
    assert only_errors(result, {"Dupe": 1, "Bkg": 1, "Miss": 1})
    assert result.delta_ap["Miss"] > 0 and result.delta_ap["Bkg"] > 0


def test_crowd_regions_cost_no_ap(tmp_path):
    """tidecv still lists a detection inside a crowd region as background, but ignores it for AP."""
    crowd = [(2, 2, (300.0, 300.0, 200.0, 150.0), 1)]
    inside_crowd = {"image_id": 2, "category_id": 2, "bbox": [320.0, 310.0, 60.0, 40.0], "score": 0.99}
    result = tide_on(tmp_path, [*detections_from(GT_BOXES), inside_crowd], GT_BOXES + crowd)
    assert result.ap50 == pytest.approx(100.0) and set(result.delta_ap.values()) == {0.0}


def test_max_dets_caps_what_tide_counts(tmp_path):
    pair = load_coco_pair(*write_pair(tmp_path, *crowded_case(150)))
    assert tide_analysis(pair, 100).counts["Miss"] == 50
    assert tide_analysis(pair, 500).counts["Miss"] == 0


def test_plots_are_written_without_leaking_tidecv_state(tmp_path):
    rc_before, environ_before = dict(matplotlib.rcParams), dict(os.environ)
    pair = load_coco_pair(*write_pair(tmp_path / "run", *mixed_case()))
    result = tide_analysis(pair, 500, tmp_path / "plots")
    assert [p.name for p in result.plots] == [f"tide_{part}_maxDets500.png" for part in PLOT_PARTS]
    for path in result.plots:
        assert path.stat().st_size > 10_000
        with Image.open(path) as png:
            assert min(png.size) > 200 and len(png.getcolors(1 << 16) or range(1 << 16)) > 10  # a picture, not a blank
    assert sorted(p.name for p in (tmp_path / "plots").iterdir()) == sorted(p.name for p in result.plots)  # scratch removed
    assert dict(matplotlib.rcParams) == rc_before and dict(os.environ) == environ_before


def test_perfect_predictions_skip_the_plot_with_a_warning(tmp_path, caplog):
    gt = coco_gt([image(1), image(2)], GT_BOXES, {1: "pedestrian", 2: "car", 3: "bus"})
    result = tide_analysis(load_coco_pair(*write_pair(tmp_path, gt, detections_from(GT_BOXES))), 100, tmp_path / "plots")
    assert result.ap50 == pytest.approx(100.0) and result.plots == []
    assert "TIDE plot skipped" in caplog.text


@pytest.mark.parametrize("empty", ["detections", "objects"])
def test_no_detections_or_no_objects_skip_tide_with_a_warning(tmp_path, caplog, empty):
    gt = coco_gt([image(1)], [] if empty == "objects" else GT_BOXES[:2], {1: "pedestrian", 2: "car"})
    detections = [] if empty == "detections" else detections_from(GT_BOXES[:2])
    assert tide_analysis(load_coco_pair(*write_pair(tmp_path, gt, detections)), 100) is None
    assert "TIDE skipped" in caplog.text
