"""VisDrone-DET's own evaluation protocol, number for number as the official MATLAB toolkit computes it.

The reference is github VisDrone/VisDrone2018-DET-toolkit (evalDET.m, commit 0054457; calcAccuracy.m as of
d615c90). Its rules differ from pycocotools' in ways that move AP by several points, so each is kept here:
- a ground-truth object or a detection at least half inside the ignored regions (category 0) is dropped, the
  share being measured on a pixel map of the regions (each covering rows y..y+h and columns x..x+w inclusive,
  1-based) with the box rounded, and its first row and column left out, as the toolkit's integral image does;
- ground truth with score 0 is an ignore-box: a detection may match it (by intersection over the detection's
  area) and then counts as neither hit nor miss, but the box still counts among the objects to find;
- 'others' (11) and anything else outside 1..10 is never scored;
- maxDets keeps the first rows of each result file as written (not the highest scores), after the drop;
- greedy matching per image and class, highest score first, best unmatched IoU >= threshold (ties: the later
  box); recall over all images, precision, and VOC's all-point AP, at IoU 0.50:0.05:0.95 (MATLAB's colon
  values: the upper half counted down from 0.95, so 0.8 and 0.9 are one ulp below the decimals);
- the class average weighs each class by the number of images holding it (calcAccuracy.m appends a class once
  per such image and averages those rows); AR at maxDets N is the final recall, 0 for a class without detections.
Size buckets (AP of small, medium and large objects, COCO's 32^2 and 96^2 pixel limits) are our extension: the
same matching at maxDets 500, a hit counted in the bucket of its object, a false detection in its own.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from tqdm import tqdm

from ..data.files import image_size, list_images, require_folder
from ..utils.errors import DataError

LOGGER = logging.getLogger("lrsdetr.eval")
CLASSES = tuple(range(1, 11))  # VisDrone's ten scored categories; 0 = ignored region, 11 = others
IGNORED_REGION, OTHERS = 0, 11
MAX_DETS = (1, 10, 100, 500)
# MATLAB's 0.5:0.05:0.95: elements past the middle are computed from the end (0.95 - k*0.05).
THRESHOLDS = np.array([0.5 + k * 0.05 if k <= 4 else 0.95 - (9 - k) * 0.05 for k in range(10)])
SIZE_BUCKETS = {"small": (0.0, 32.0**2), "medium": (32.0**2, 96.0**2), "large": (96.0**2, math.inf)}
METRIC_KEYS = ("AP", "AP50", "AP75", "AR1", "AR10", "AR100", "AR500")
# One padded block of boxes (images x detections x objects) stays under this many elements (16 MB of overlaps).
BLOCK_ELEMENTS = 2_000_000


@dataclass(frozen=True)
class ImageBoxes:
    """One image after the ignored-region drop: `gt` rows x,y,w,h,ignore(0/1),class; `det` rows x,y,w,h,score,class."""

    gt: np.ndarray
    det: np.ndarray


def read_rows(path: Path, what: str) -> np.ndarray:
    """The first six numbers of each non-blank line (commas and/or spaces, CRLF or LF); a bad line is a DataError."""
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise DataError(f"{path}: expected a UTF-8 text file of VisDrone {what} lines") from None
    lines = text.replace(",", " ").splitlines()
    try:  # numpy's C parser: the whole VisDrone val set in about a second
        rows = np.loadtxt(lines, usecols=range(6), ndmin=2, comments=None) if text.strip() else np.zeros((0, 6))
    except ValueError:
        _raise_first_bad_line(path, lines, what)
    _check_rows(rows, path, what, [n for n, line in enumerate(lines, 1) if line.strip()])
    return rows


def _expected(what: str) -> str:
    return "x,y,w,h,score,category[,truncation,occlusion]" if what == "annotation" else "x,y,w,h,score,category,-1,-1"


def _raise_first_bad_line(path: Path, lines: list[str], what: str) -> None:
    for number, line in enumerate(lines, 1):
        fields = line.split()
        if not fields:
            continue
        try:
            [float(f) for f in fields[:6]]
        except ValueError:
            raise DataError(f"{path}:{number}: expected numbers {_expected(what)}, got {','.join(fields)!r}") from None
        if len(fields) < 6:
            raise DataError(f"{path}:{number}: expected at least 6 numbers {_expected(what)}, got {len(fields)}")
    raise DataError(f"{path}: expected lines of numbers {_expected(what)}")


def _check_rows(rows: np.ndarray, path: Path, what: str, numbers: list[int]) -> None:
    problems = (
        (~np.isfinite(rows).all(1), "expected finite numbers"),
        ((rows[:, 2] < 0) | (rows[:, 3] < 0), "expected a width and height >= 0"),
        ((rows[:, 5] != np.round(rows[:, 5])) | (rows[:, 5] < IGNORED_REGION) | (rows[:, 5] > OTHERS), "expected a category 0..11"),
    )
    if what == "annotation":
        problems += ((~np.isin(rows[:, 4], (0, 1)), "expected a score of 0 (ignore) or 1 (evaluated)"),)
        region = rows[:, 5] == IGNORED_REGION
        problems += ((region & (rows[:, :4] != np.round(rows[:, :4])).any(1), "expected whole pixels for an ignored region (category 0)"),)
    for bad, problem in problems:
        if bad.any():
            index = int(np.argmax(bad))
            raise DataError(f"{path}:{numbers[index]}: {problem}, got {','.join(f'{v:g}' for v in rows[index])}")


def matlab_round(values: np.ndarray) -> np.ndarray:
    """MATLAB's round: halves away from zero (numpy rounds them to even)."""
    return np.sign(values) * np.floor(np.abs(values) + 0.5)


def region_integral(regions: np.ndarray, width: int, height: int):
    """Integral image of the ignored-region map, as a function of 1-based (row, col) arrays; exact, without the map.

    The map is a union of rectangles, so it is constant on the cells between their edges: the integral at a point
    is the sum over cells of covered rows times covered columns up to that point.
    """
    x, y = regions[:, 0], regions[:, 1]
    x2, y2 = np.minimum(width, x + regions[:, 2]), np.minimum(height, y + regions[:, 3])
    rows = np.unique(np.concatenate([[1, height + 1], y, y2 + 1]).clip(1, height + 1))
    cols = np.unique(np.concatenate([[1, width + 1], x, x2 + 1]).clip(1, width + 1))
    row_cover = (rows[:-1, None] >= y) & (rows[:-1, None] <= y2)  # cells x regions
    col_cover = (cols[:-1, None] >= x) & (cols[:-1, None] <= x2)
    covered = (row_cover.astype(np.float64) @ col_cover.T.astype(np.float64)) > 0  # row cells x column cells

    def at(r: np.ndarray, c: np.ndarray) -> np.ndarray:
        row_share = np.clip(np.minimum(r[:, None], rows[None, 1:] - 1) - rows[None, :-1] + 1, 0, None)
        col_share = np.clip(np.minimum(c[:, None], cols[None, 1:] - 1) - cols[None, :-1] + 1, 0, None)
        return ((row_share @ covered) * col_share).sum(1)

    return at


def outside_ignored(boxes: np.ndarray, at, width: int, height: int) -> np.ndarray:
    """True for boxes less than half inside the ignored regions, measured as dropObjectsInIgr.m (and the MOT
    toolkit's dropObjects.m) does: the box rounded, its first row and column left out."""
    pos = np.maximum(1, matlab_round(boxes[:, :4]))
    x, y = pos[:, 0].clip(1, width), pos[:, 1].clip(1, height)
    w, h = pos[:, 2], pos[:, 3]
    x2, y2 = np.minimum(width, x + w), np.maximum(1, np.minimum(height, y + h))
    inside = at(y, x) + at(y2, x2) - at(y, x2) - at(y2, x)
    return inside / (h * w) < 0.5


def drop_ignored(annotation: np.ndarray, detections: np.ndarray, size: tuple[int, int] | None) -> ImageBoxes:
    """Objects (ignore flag = score 0) and detections left after the ignored-region drop; `size` is (width, height)."""
    regions = annotation[annotation[:, 5] == IGNORED_REGION, :4]
    objects = annotation[annotation[:, 5] != IGNORED_REGION]
    if len(regions):
        width, height = size
        at = region_integral(np.maximum(1, regions), width, height)
        objects = objects[outside_ignored(objects, at, width, height)]
        detections = detections[outside_ignored(detections, at, width, height)]
    gt = objects.copy()
    gt[:, 4] = objects[:, 4] == 0  # score 0: an ignore-box
    return ImageBoxes(gt, detections)


def _overlaps(det: np.ndarray, gt: np.ndarray, ignore: np.ndarray) -> np.ndarray:
    """compOas.m on padded blocks: IoU, or intersection over the detection's area for ignore-boxes. (..., D, G)."""
    dx, dy, dw, dh = (det[..., :, None, k] for k in range(4))
    gx, gy, gw, gh = (gt[..., None, :, k] for k in range(4))
    w = np.minimum(dx + dw, gx + gw) - np.maximum(dx, gx)
    h = np.minimum(dy + dh, gy + gh) - np.maximum(dy, gy)
    inter = w * h
    det_area = dw * dh
    union = np.where(ignore[..., None, :], det_area, det_area + gw * gh - inter)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where((w > 0) & (h > 0), inter / union, 0.0)


def _match_block(det: np.ndarray, gt: np.ndarray, gt_valid: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """evalRes.m for a block of images at every threshold at once.

    det (I, D, 5) sorted by score within each image, gt (I, G, 5) ignore-boxes last. Returns each detection's
    match (T, I, D): 1 hit, 0 false, -1 on an ignore-box; and the index of the object it hit (T, I, D), -1 if none.
    """
    ignore = gt[..., 4] == 1
    overlaps = _overlaps(det, gt, ignore)
    normal, ignorable = gt_valid & ~ignore, gt_valid & ignore
    thresholds = THRESHOLDS[:, None, None]
    images, dets, objects = overlaps.shape
    taken = np.zeros((len(THRESHOLDS), images, objects), dtype=bool)
    match = np.zeros((len(THRESHOLDS), images, dets), dtype=np.int8)
    hit = np.full((len(THRESHOLDS), images, dets), -1, dtype=np.int64)
    for r in range(dets):
        over = overlaps[:, r, :][None]  # (1, I, G)
        reach = over >= thresholds
        free = reach & normal & ~taken
        found = free.any(-1)
        best = objects - 1 - np.where(free, over, -1.0)[..., ::-1].argmax(-1)  # the highest overlap, ties: the later
        t, i = np.nonzero(found)
        taken[t, i, best[t, i]] = True
        hit[t, i, r] = best[t, i]
        on_ignore = ~found & (reach & ignorable).any(-1)
        match[:, :, r] = np.where(found, 1, np.where(on_ignore, -1, 0))
    return match, hit


@dataclass
class ClassMatches:
    """Every kept detection of one class in the toolkit's ranking order, with its match at each threshold."""

    match: np.ndarray  # (T, N) int8
    det_area: np.ndarray  # (N,)
    hit_area: np.ndarray  # (T, N) area of the object hit, nan for none
    objects: int  # ground truth of the class, ignore-boxes included (the toolkit counts them)
    object_areas: np.ndarray  # (objects,)


def _pad(rows: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Per-image (n, 5) arrays stacked into (images, longest or 1, 5), with the mask of real rows."""
    longest = max([1, *(len(r) for r in rows)])
    padded = np.zeros((len(rows), longest, 5))
    for i, r in enumerate(rows):
        padded[i, : len(r)] = r
    return padded, np.arange(longest)[None, :] < np.array([len(r) for r in rows])[:, None]


def match_class(images: list[ImageBoxes], category: int, max_dets: int) -> ClassMatches:
    """Match one class's detections (the first `max_dets` rows of each image) and rank them over all images."""
    gts, dets = [], []
    for boxes in images:
        gt = boxes.gt[boxes.gt[:, 5] == category, :5]
        gts.append(gt[np.argsort(gt[:, 4], kind="stable")])
        det = boxes.det[:max_dets]
        det = det[det[:, 5] == category, :5]
        dets.append(det[np.argsort(-det[:, 4], kind="stable")])
    used = [i for i in range(len(images)) if len(dets[i])]
    parts = []  # per block: score, image, rank, det area, match, area of the object hit
    for block in _blocks(used, dets, gts):
        det, det_valid = _pad([dets[i] for i in block])
        gt, gt_valid = _pad([gts[i] for i in block])
        match, hit = _match_block(det, gt, gt_valid)
        gt_area = gt[..., 2] * gt[..., 3]
        rows, ranks = np.nonzero(det_valid)
        hits = hit[:, rows, ranks]
        hit_area = np.where(hits >= 0, gt_area[rows[None], hits.clip(0)], np.nan)
        parts.append((det[rows, ranks, 4], np.asarray(block)[rows], ranks, det[rows, ranks, 2] * det[rows, ranks, 3], match[:, rows, ranks], hit_area))
    all_gt = np.concatenate(gts) if gts else np.zeros((0, 5))
    if not parts:
        empty = np.zeros((len(THRESHOLDS), 0))
        return ClassMatches(empty.astype(np.int8), np.zeros(0), empty, len(all_gt), all_gt[:, 2] * all_gt[:, 3])
    score, image, rank, det_area = (np.concatenate([p[k] for p in parts]) for k in range(4))
    match, hit_area = (np.concatenate([p[k] for p in parts], 1) for k in (4, 5))
    # The toolkit concatenates the images in order, each sorted by score, then sorts by -score stably.
    order = np.lexsort((rank, image, -score))
    return ClassMatches(match[:, order], det_area[order], hit_area[:, order], len(all_gt), all_gt[:, 2] * all_gt[:, 3])


def _blocks(used: list[int], dets: list[np.ndarray], gts: list[np.ndarray]) -> list[list[int]]:
    """Images grouped so that each padded block stays small; similar sizes together waste little padding."""
    by_size = sorted(used, key=lambda i: (len(dets[i]), len(gts[i])))
    blocks, current, most_det, most_gt = [], [], 0, 0
    for i in by_size:
        d, g = max(most_det, len(dets[i])), max(most_gt, len(gts[i]), 1)
        if current and (len(current) + 1) * d * g > BLOCK_ELEMENTS:
            blocks.append(current)
            current, d, g = [], len(dets[i]), max(len(gts[i]), 1)
        current.append(i)
        most_det, most_gt = d, g
    return blocks + ([current] if current else [])


def recall_precision(match: np.ndarray, objects: int) -> tuple[np.ndarray, np.ndarray]:
    """Cumulative recall and precision along the ranking (T, N); ignore-box matches count as neither."""
    tp = np.cumsum(match == 1, axis=1)
    fp = np.cumsum(match == 0, axis=1)
    return tp / max(1, objects), tp / np.maximum(1, fp + tp)


def voc_ap(recall: np.ndarray, precision: np.ndarray) -> np.ndarray:
    """VOCap.m for each row: the area under the precision envelope, all points (T,)."""
    rows = recall.shape[0]
    mrec = np.concatenate([np.zeros((rows, 1)), recall, np.ones((rows, 1))], 1)
    mpre = np.concatenate([np.zeros((rows, 1)), precision, np.zeros((rows, 1))], 1)
    envelope = np.maximum.accumulate(mpre[:, ::-1], axis=1)[:, ::-1]
    return ((mrec[:, 1:] - mrec[:, :-1]) * envelope[:, 1:]).sum(1)


def _bucket_ap(matches: ClassMatches, low: float, high: float) -> np.ndarray:
    """AP per threshold (T,) in one size bucket: hits by their object's area, false detections by their own."""
    in_bucket = lambda area: (area >= low) & (area < high)  # noqa: E731
    det_in = in_bucket(matches.det_area)[None]
    hit_in = in_bucket(np.nan_to_num(matches.hit_area, nan=-1.0))
    keep = np.where(matches.match == 1, hit_in, np.where(matches.match == 0, det_in, False))
    match = np.where(keep, matches.match, 2)  # 2: left out of this bucket
    objects = int(in_bucket(matches.object_areas).sum())
    recall, precision = recall_precision(match, objects)
    return voc_ap(recall, precision) * 100


def evaluate_images(images: list[ImageBoxes], verbose: bool = True) -> dict:
    """The toolkit's seven numbers (percent, unrounded) and our size-bucket APs for images after the drop."""
    ap = np.zeros((len(CLASSES), len(THRESHOLDS)))
    ar = np.zeros((len(CLASSES), len(THRESHOLDS), len(MAX_DETS)))
    weight = np.zeros(len(CLASSES))
    buckets = {name: (np.zeros((len(CLASSES), len(THRESHOLDS))), np.zeros(len(CLASSES))) for name in SIZE_BUCKETS}
    for c, category in enumerate(tqdm(CLASSES, desc="VisDrone protocol, categories", unit="class", disable=not verbose)):
        weight[c] = sum(bool((boxes.gt[:, 5] == category).any()) for boxes in images)
        for m, max_dets in enumerate(MAX_DETS):
            matches = match_class(images, category, max_dets)
            recall, precision = recall_precision(matches.match, matches.objects)
            if recall.shape[1]:
                ar[c, :, m] = recall[:, -1] * 100
        ap[c] = voc_ap(recall, precision) * 100  # maxDets 500, as calcAccuracy.m computes it after its loop
        for name, (low, high) in SIZE_BUCKETS.items():
            bucket_ap = _bucket_ap(matches, low, high)
            buckets[name][0][c] = bucket_ap
            buckets[name][1][c] = sum(bool(((b.gt[:, 5] == category) & _area_in(b.gt, low, high)).any()) for b in images)
    if not weight.sum():
        raise DataError("the annotations hold no object of categories 1..10 outside ignored regions: nothing to score")
    result = {
        "AP": _weighted(ap.mean(1), weight),
        "AP50": _weighted(ap[:, 0], weight),
        "AP75": _weighted(ap[:, 5], weight),
        **{f"AR{n}": _weighted(ar[:, :, m].mean(1), weight) for m, n in enumerate(MAX_DETS)},
    }
    for name, (bucket_ap, bucket_weight) in buckets.items():
        result[f"AP_{name}"] = _weighted(bucket_ap.mean(1), bucket_weight) if bucket_weight.sum() else float("nan")
    return result


def _area_in(gt: np.ndarray, low: float, high: float) -> np.ndarray:
    area = gt[:, 2] * gt[:, 3]
    return (area >= low) & (area < high)


def _weighted(values: np.ndarray, weight: np.ndarray) -> float:
    return float((values * weight).sum() / weight.sum())


def load_images(annotations: str | Path, results: str | Path, images: str | Path | None, verbose: bool = True) -> tuple[list[ImageBoxes], list[str]]:
    """Read the annotation and result folders (one `<stem>.txt` per image) and drop what ignored regions cover.

    Images are read (their headers) only where an annotation has ignored regions. A missing result file scores
    as no detections, with one warning; so does a result file for no annotated image.
    """
    anno_dir = require_folder(Path(annotations), "--anno_dir", "VisDrone annotation files <image>.txt")
    res_dir = require_folder(Path(results), "--res_dir", "VisDrone result files <image>.txt")
    anno_files = sorted(anno_dir.glob("*.txt"))
    if not anno_files:
        raise DataError(f"--anno_dir {anno_dir}: no .txt annotation files")
    image_files = {p.stem: p for p in list_images(require_folder(Path(images), "--img_dir", "the images, for their sizes"))} if images is not None else {}
    missing, loaded = [], []
    for anno_file in tqdm(anno_files, desc="VisDrone protocol, reading", unit="image", disable=not verbose):
        annotation = read_rows(anno_file, "annotation")
        res_file = res_dir / anno_file.name
        if res_file.is_file():
            detections = read_rows(res_file, "result")
        else:
            missing.append(anno_file.name)
            detections = np.zeros((0, 6))
        size = _size(anno_file, image_files, images) if (annotation[:, 5] == IGNORED_REGION).any() else None
        loaded.append(drop_ignored(annotation, detections, size))
    names = {p.name for p in anno_files}
    extra = sorted(p.name for p in res_dir.glob("*.txt") if p.name not in names)
    warnings = []
    if missing:
        warnings.append(f"warning: {len(missing)} image(s) have no result file in {res_dir} (e.g. {missing[0]}): scored as no detections")
    if extra:
        warnings.append(f"warning: {len(extra)} result file(s) in {res_dir} have no annotation (e.g. {extra[0]}): not scored")
    for warning in warnings:
        LOGGER.warning(warning)
    return loaded, warnings


def _size(anno_file: Path, image_files: dict[str, Path], images: str | Path | None) -> tuple[int, int]:
    if images is None:
        raise DataError(f"{anno_file}: has ignored regions, whose pixel map needs the image size: give --img_dir")
    image = image_files.get(anno_file.stem)
    size = image_size(image) if image else None
    if size is None:
        raise DataError(f"--img_dir {images}: no readable image {anno_file.stem}.jpg (or other format) for {anno_file.name}, needed for its ignored regions")
    return size


def evaluate(annotations: str | Path, results: str | Path, images: str | Path | None = None, verbose: bool = True) -> dict:
    """VisDrone-DET toolkit's AP, AP50, AP75, AR1, AR10, AR100, AR500 (percent, unrounded) + AP_small/medium/large.

    `annotations`, `results`: folders of `<image stem>.txt` in VisDrone's format; `images`: the images, read for
    their sizes where an annotation has ignored regions. AP_small/medium/large are our extension (module doc).
    """
    loaded, _ = load_images(annotations, results, images, verbose)
    return evaluate_images(loaded, verbose)
