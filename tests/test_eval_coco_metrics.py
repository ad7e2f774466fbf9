"""Our COCO numbers are pycocotools' numbers, on either backend, and --max_dets really changes them."""

from __future__ import annotations

import contextlib
import io
import json

import numpy as np
import pytest
from pycocotools.coco import COCO
from pycocotools.cocoeval import COCOeval
from test_eval_helpers import crowded_case, mixed_case, write_pair

from lrsdetr.eval.coco_metrics import BACKENDS, coco_metrics, max_dets_steps
from lrsdetr.eval.inputs import load_coco_pair

COCO_KEYS = ["AP", "AP50", "AP75", "APs", "APm", "APl", "AR1", "AR10", "AR100", "ARs", "ARm", "ARl"]


def pycocotools_eval(pred_json, anno_json, category_ids: list | None = None) -> COCOeval:
    """pycocotools exactly as its README runs it, from the files, with its default maxDets [1, 10, 100]."""
    with contextlib.redirect_stdout(io.StringIO()):
        gt = COCO(str(anno_json))
        evaluator = COCOeval(gt, gt.loadRes(str(pred_json)), "bbox")
        if category_ids is not None:
            evaluator.params.catIds = category_ids
        evaluator.evaluate()
        evaluator.accumulate()
        evaluator.summarize()
    return evaluator


@pytest.fixture(scope="module")
def mixed_files(tmp_path_factory):
    return write_pair(tmp_path_factory.mktemp("mixed"), *mixed_case())


@pytest.mark.parametrize("backend", BACKENDS)
def test_summary_equals_pycocotools(mixed_files, backend):
    pred_json, anno_json = mixed_files
    reference = pycocotools_eval(pred_json, anno_json).stats
    metrics = coco_metrics(load_coco_pair(pred_json, anno_json), 100, backend)
    assert list(metrics.stats()) == COCO_KEYS
    np.testing.assert_allclose(list(metrics.stats().values()), reference, rtol=0, atol=1e-9)
    assert all(0 < value < 1 for value in reference)  # the case exercises every area range, none trivially
    assert [number.max_dets for number in metrics.summary] == [100] * 6 + [1, 10, 100] + [100] * 3
    assert all(f"maxDets={number.max_dets:>3d} ] = {number.value:0.3f}" in number.label() for number in metrics.summary)


def test_per_class_ap_equals_pycocotools_on_that_class(mixed_files):
    pred_json, anno_json = mixed_files
    per_class = {c.category_id: c for c in coco_metrics(load_coco_pair(pred_json, anno_json)).per_class}
    for category_id in (1, 2, 3):
        stats = pycocotools_eval(pred_json, anno_json, [category_id]).stats
        assert per_class[category_id].ap == pytest.approx(stats[0], abs=1e-9)
        assert per_class[category_id].ap50 == pytest.approx(stats[1], abs=1e-9)
    gt = json.loads(anno_json.read_text())
    assert per_class[1].n_gt == sum(a["category_id"] == 1 and not a["iscrowd"] for a in gt["annotations"])
    assert (per_class[4].ap, per_class[4].ap50, per_class[4].n_gt) == (-1.0, -1.0, 0)  # predicted, never in the GT


def test_backends_agree_when_capping_at_500(tmp_path):
    gt, detections = mixed_case(seed=3)
    gt_crowded, crowded = crowded_case(400)
    gt["images"].append({**gt_crowded["images"][0], "id": 99})
    gt["annotations"] += [{**a, "id": 1000 + a["id"], "image_id": 99} for a in gt_crowded["annotations"]]
    detections += [{**d, "image_id": 99} for d in crowded] * 2  # 800 on one image: the cap bites
    pair = load_coco_pair(*write_pair(tmp_path, gt, detections))
    fast, reference = (coco_metrics(pair, 500, backend) for backend in BACKENDS)
    np.testing.assert_allclose(list(fast.stats().values()), list(reference.stats().values()), rtol=0, atol=1e-9)
    np.testing.assert_allclose([c.ap for c in fast.per_class], [c.ap for c in reference.per_class], rtol=0, atol=1e-9)


def test_max_dets_500_keeps_the_detections_coco_drops(tmp_path, caplog):
    """150 objects found exactly: COCO's cap keeps 100 (recall 2/3), VisDrone's 500 keeps all (recall 1)."""
    pair = load_coco_pair(*write_pair(tmp_path, *crowded_case(150)))
    coco, visdrone = coco_metrics(pair, 100), coco_metrics(pair, 500)
    assert "in 1 (image, class) pairs there are more than 100 detections" in caplog.text
    assert coco.stats()["AR100"] == pytest.approx(100 / 150)
    assert coco.stats()["AP"] == pytest.approx(67 / 101)  # precision 1 at the recall points 0.00 ... 0.66, then 0
    assert visdrone.stats()["AR500"] == pytest.approx(1.0) and visdrone.stats()["AP"] == pytest.approx(1.0)
    assert visdrone.stats()["AR100"] == pytest.approx(100 / 150)  # VisDrone's AR@100 is still reported
    assert list(visdrone.stats()) == [*COCO_KEYS[:8], "AR100", "AR500", "ARs", "ARm", "ARl"]
    assert visdrone.summary[0].label().endswith("maxDets=500 ] = 1.000")


def test_max_dets_steps():
    assert max_dets_steps(100) == [1, 10, 100]
    assert max_dets_steps(500) == [1, 10, 100, 500]
    assert max_dets_steps(5) == [1, 5]


def test_ids_as_file_stems_and_zero_based_annotation_ids_give_the_same_numbers(tmp_path, mixed_files):
    """faster-coco-eval needs whole-number image ids and both libraries read annotation id 0 as 'unmatched'."""
    gt, detections = mixed_case()
    stem = {im["id"]: f"0000{im['id']:03d}_00{im['id']}_d_0000{im['id']}" for im in gt["images"]}
    gt["images"] = [{**im, "id": stem[im["id"]], "file_name": stem[im["id"]] + ".jpg"} for im in gt["images"]]
    gt["annotations"] = [{**a, "id": a["id"] - 1, "image_id": stem[a["image_id"]]} for a in gt["annotations"]]
    detections = [{**d, "image_id": stem[d["image_id"]]} for d in detections]
    renamed = coco_metrics(load_coco_pair(*write_pair(tmp_path, gt, detections)), 100, "faster_coco_eval")
    original = coco_metrics(load_coco_pair(*mixed_files), 100, "faster_coco_eval")
    assert renamed.stats() == pytest.approx(original.stats(), abs=1e-12)


def test_no_detections_give_zeros_with_a_warning(tmp_path, caplog):
    gt, _ = mixed_case()
    metrics = coco_metrics(load_coco_pair(*write_pair(tmp_path, gt, [])))
    assert "holds no detections" in caplog.text
    assert set(metrics.stats().values()) == {0.0}
    assert [c.ap for c in metrics.per_class] == [0.0, 0.0, 0.0, -1.0]
