"""COCO box metrics (the summary table and per-class AP) with a detections-per-image cap that really applies.

pycocotools' `summarize()` finds AP's maxDets by the value 100, so with maxDets=[1, 10, 500] its AP reads -1
and the table still says 100. We run pycocotools' (or faster-coco-eval's, which gives the same arrays)
evaluate/accumulate and read every number from the accumulated precision/recall arrays by index.
"""

from __future__ import annotations

import contextlib
import io
from collections import Counter
from dataclasses import asdict, dataclass

import numpy as np

from .inputs import LOGGER, CocoPair, EvalInputError, id_order

BACKENDS = ("faster_coco_eval", "pycocotools")
COCO_MAX_DETS = 100
VISDRONE_MAX_DETS = 500
AREA_SUFFIXES = {"small": "s", "medium": "m", "large": "l"}


@dataclass(frozen=True)
class CocoNumber:
    """One line of the summary table: AP or AR at an IoU (None: mean over 0.50:0.95), area range and maxDets."""

    key: str
    kind: str
    iou: float | None
    area: str
    max_dets: int
    value: float

    def label(self) -> str:
        """The line pycocotools prints, with the maxDets that was really used."""
        title = "Average Precision  (AP)" if self.kind == "AP" else "Average Recall     (AR)"
        iou = "0.50:0.95" if self.iou is None else f"{self.iou:0.2f}"
        return f" {title} @[ IoU={iou:<9} | area={self.area:>6s} | maxDets={self.max_dets:>3d} ] = {self.value:0.3f}"


@dataclass(frozen=True)
class ClassAP:
    """AP over IoU 0.50:0.95 and AP at IoU 0.50 for one category (-1: no ground truth of that class)."""

    category_id: int | str
    name: str
    n_gt: int
    ap: float
    ap50: float


@dataclass(frozen=True)
class CocoMetrics:
    """COCO's summary (AP at `max_dets`, AR at each maxDets step) and per-class AP; -1 means no GT in range."""

    max_dets: int
    backend: str
    summary: list[CocoNumber]
    per_class: list[ClassAP]

    def stats(self) -> dict[str, float]:
        """Summary values by key: AP, AP50, AP75, APs, APm, APl, AR1, AR10, AR<maxDets>..., ARs, ARm, ARl."""
        return {number.key: number.value for number in self.summary}

    def as_dict(self) -> dict:
        return {"max_dets": self.max_dets, "backend": self.backend, "summary": self.stats(), "per_class": [asdict(c) for c in self.per_class]}


def check_options(max_dets: int, backend: str) -> None:
    """Reject a bad --max_dets or --backend before any file is read."""
    max_dets_steps(max_dets)
    if backend not in BACKENDS:
        raise EvalInputError(f"--backend: expected one of {', '.join(BACKENDS)}, got {backend!r}")


def max_dets_steps(max_dets: int) -> list[int]:
    """COCO's maxDets steps (1, 10, 100) up to `max_dets`, ending at it: [1, 10, 100] or, for VisDrone, [1, 10, 100, 500]."""
    if isinstance(max_dets, bool) or not isinstance(max_dets, int) or max_dets < 1:
        raise EvalInputError(f"--max_dets: expected a whole number >= 1 (COCO: {COCO_MAX_DETS}, VisDrone: {VISDRONE_MAX_DETS}), got {max_dets!r}")
    return sorted({step for step in (1, 10, COCO_MAX_DETS) if step < max_dets} | {max_dets})


def coco_metrics(pair: CocoPair, max_dets: int = COCO_MAX_DETS, backend: str = "faster_coco_eval") -> CocoMetrics:
    """Evaluate boxes as pycocotools does, keeping the `max_dets` highest-scoring detections of each class in each image."""
    check_options(max_dets, backend)
    steps = max_dets_steps(max_dets)
    _warn_if_capped(pair, max_dets)
    evaluator, category_order = evaluator_of(pair, backend)
    with contextlib.redirect_stdout(io.StringIO()):  # both libraries print progress lines
        evaluator.params.maxDets = steps
        evaluator.evaluate()
        evaluator.accumulate()
    precision, recall = evaluator.eval["precision"], evaluator.eval["recall"]  # [T, R, K, A, M], [T, K, A, M]
    ious, areas = evaluator.params.iouThrs, list(evaluator.params.areaRngLbl)

    def number(key: str, kind: str, iou: float | None = None, area: str = "all", step: int = max_dets) -> CocoNumber:
        t = slice(None) if iou is None else int(np.argmin(np.abs(ious - iou)))
        a, m = areas.index(area), steps.index(step)
        values = precision[t, :, :, a, m] if kind == "AP" else recall[t, :, a, m]
        return CocoNumber(key, kind, iou, area, step, mean_of_valid(values))

    summary = [number("AP", "AP"), number("AP50", "AP", 0.5), number("AP75", "AP", 0.75)]
    summary += [number(f"AP{s}", "AP", area=area) for area, s in AREA_SUFFIXES.items()]
    summary += [number(f"AR{step}", "AR", step=step) for step in steps]
    summary += [number(f"AR{s}", "AR", area=area) for area, s in AREA_SUFFIXES.items()]
    gt_counts = Counter(ann["category_id"] for ann in pair.annotations if not ann["iscrowd"])
    iou50 = int(np.argmin(np.abs(ious - 0.5)))
    per_class = [
        ClassAP(cid, pair.categories[cid], gt_counts[cid], mean_of_valid(precision[:, :, k, 0, -1]), mean_of_valid(precision[iou50, :, k, 0, -1]))
        for k, cid in enumerate(category_order)
    ]
    return CocoMetrics(max_dets, backend, summary, per_class)


def evaluator_of(pair: CocoPair, backend: str) -> tuple:
    """The backend's COCO evaluator over the pair (not yet run), and the category ids in its order."""
    coco_class, eval_class = _backend_classes(backend)
    ground_truth, detections, category_order = _numbered_datasets(pair)
    with contextlib.redirect_stdout(io.StringIO()):
        coco_gt, coco_dt = coco_class(), coco_class()
        coco_gt.dataset, coco_dt.dataset = ground_truth, detections
        coco_gt.createIndex()
        coco_dt.createIndex()
        return eval_class(coco_gt, coco_dt, "bbox"), category_order


def mean_of_valid(values: np.ndarray) -> float:
    """pycocotools' rule: -1 marks 'no ground truth here' and is left out; nothing left gives -1."""
    valid = values[values > -1]
    return float(np.mean(valid)) if valid.size else -1.0


def _backend_classes(backend: str) -> tuple[type, type]:
    if backend == "pycocotools":
        from pycocotools.coco import COCO
        from pycocotools.cocoeval import COCOeval

        return COCO, COCOeval
    from faster_coco_eval import COCO, COCOeval_faster

    return COCO, COCOeval_faster


def _numbered_datasets(pair: CocoPair) -> tuple[dict, dict, list]:
    """GT and detection datasets with ids 1..N, in the same sorted order pycocotools would use on the file's ids.

    faster-coco-eval needs whole-number image ids (ours may be file stems), and both libraries take
    annotation id 0 for 'unmatched', so a GT numbered from 0 could be matched twice.
    """
    image_number = {image_id: n for n, image_id in enumerate(sorted((im["id"] for im in pair.images), key=id_order), start=1)}
    category_order = sorted(pair.categories, key=id_order)
    category_number = {cid: n for n, cid in enumerate(category_order, start=1)}
    images = [{"id": n} for n in image_number.values()]
    categories = [{"id": n} for n in category_number.values()]

    def numbered(records: list[dict], fields: tuple[str, ...]) -> list[dict]:
        return [
            {"id": n, "image_id": image_number[r["image_id"]], "category_id": category_number[r["category_id"]], **{key: r[key] for key in fields}}
            for n, r in enumerate(records, start=1)
        ]

    boxes = [{**det, "area": det["bbox"][2] * det["bbox"][3], "iscrowd": 0} for det in pair.predictions]
    ground_truth = {"images": images, "categories": categories, "annotations": numbered(pair.annotations, ("bbox", "area", "iscrowd"))}
    detections = {"images": images, "categories": categories, "annotations": numbered(boxes, ("bbox", "score", "area", "iscrowd"))}
    return ground_truth, detections, category_order


def _warn_if_capped(pair: CocoPair, max_dets: int) -> None:
    """Say when the cap drops detections (pycocotools caps each class of each image): a reason numbers differ from VisDrone's."""
    per_image_class = Counter((det["image_id"], det["category_id"]) for det in pair.predictions)
    capped = sum(count > max_dets for count in per_image_class.values())
    if capped:
        hint = f" (VisDrone's protocol: --max_dets {VISDRONE_MAX_DETS})" if max_dets < VISDRONE_MAX_DETS else ""
        LOGGER.warning(f"WARNING: in {capped} (image, class) pairs there are more than {max_dets} detections; only the {max_dets} highest-scoring of each count{hint}")
