"""CLEAR-MOT and identity measures of one sequence and class, and their sums, as VisDrone-MOT's Task 4B computes them.

The toolkit (evaluateTrackB.m) scores each sequence and class with the MOTChallenge devkit it carries:
clearMOTMex.cpp + CLEAR_MOT_HUN.m (MOTA, MOTP, MT, PT, ML, FP, FN, IDs, FM) and costBlockMex.cpp + IDmeasures.m
(IDF1, IDP, IDR), then sums the counts over sequences and classes (evaluateBenchmark.m). Their rules, kept here:
- a ground-truth box and a result box match at IoU >= 0.5 (1 - IoU <= 0.5); a pairing of the previous frame is
  kept while it still matches, the rest are paired by the minimum-cost matching (lrsdetr.eval.mot_matching);
- an ID switch is counted only when the object was also in the ground truth of the frame before;
- MT / PT / ML: tracked for >= 80% / between / < 20% of its frames; the devkit's PT test compares the last
  result frame with the object's number of boxes (find(..., 'last') gives an index, not a frame), so an object
  tracked for 20-80% of its frames is in none of the three when the results end earlier;
- a fragmentation is a tracked -> untracked step between an object's first and last tracked frame (frames where
  it is not annotated count as untracked);
- the identity measures pair whole trajectories by minimum cost (IDFP + IDFN) over per-frame matches at IoU >= 0.5.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np
from scipy.optimize import linear_sum_assignment

from .mot_inputs import FRAME, H, ID, W, X, Y
from .mot_matching import min_cost_matching

THRESHOLD = 0.5  # IoU
PADDING = 1e9  # clearMOTMex's cost of a pair that may not match
TIE_BREAK = 1e-9  # clearMOTMex adds this times the pair's number to each admissible cost
METRICS = ("IDF1", "IDP", "IDR", "Rcll", "Prcn", "FAR", "GT", "MT", "PT", "ML", "FP", "FN", "IDs", "FM", "MOTA", "MOTP", "MOTAL")


@dataclass
class Counts:
    """What evaluateBenchmark.m sums over sequences and classes."""

    num_gt: int = 0
    num_pred: int = 0
    idtp: int = 0
    idfn: int = 0
    idfp: int = 0
    mt: int = 0
    pt: int = 0
    ml: int = 0
    fm: int = 0
    frames: int = 0  # the last ground-truth frame (FAR's denominator)
    objects: int = 0  # ground-truth trajectories
    matches: int = 0
    gt_boxes: int = 0
    fp: int = 0
    fn: int = 0
    switches: int = 0
    distance: float = 0.0  # sum of 1 - IoU over the matches

    def __add__(self, other: Counts) -> Counts:
        return Counts(**{f.name: getattr(self, f.name) + getattr(other, f.name) for f in fields(self)})


def box_iou(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """IoU of boxes (..., 4: left, top, width, height), broadcast against each other, as the devkit's boxiou computes
    it (the same operations in the same order; 0/0 is NaN, which matches nothing)."""
    l1, t1, w1, h1 = np.moveaxis(a, -1, 0)
    l2, t2, w2, h2 = np.moveaxis(b, -1, 0)
    x_overlap = np.maximum(0.0, np.minimum(l1 + w1, l2 + w2) - np.maximum(l1, l2))
    y_overlap = np.maximum(0.0, np.minimum(t1 + h1, t2 + h2) - np.maximum(t1, t2))
    intersection = x_overlap * y_overlap
    with np.errstate(divide="ignore", invalid="ignore"):
        return intersection / (w1 * h1 + w2 * h2 - intersection)


def _by_frame(rows: np.ndarray, ids: np.ndarray, frames: int) -> list[dict[int, np.ndarray]]:
    """Per frame (0-based), {id: box}."""
    per_frame: list[dict[int, np.ndarray]] = [{} for _ in range(frames)]
    for row, track in zip(rows, ids):
        per_frame[int(row[FRAME]) - 1][int(track)] = row[[X, Y, W, H]]
    return per_frame


def _pair_distance(gt: dict[int, np.ndarray], res: dict[int, np.ndarray], pairs: list[tuple[int, int]]) -> np.ndarray:
    """1 - IoU of each (object, result) pair."""
    if not pairs:
        return np.zeros(0)
    return 1 - box_iou(np.array([gt[g] for g, _ in pairs]), np.array([res[r] for _, r in pairs]))


def _pair_unmatched(gt: dict[int, np.ndarray], res: dict[int, np.ndarray], current: dict[int, int]) -> None:
    """Add to `current` the pairs the minimum-cost matching makes among the boxes not yet paired in this frame."""
    free_gt = sorted(g for g in gt if g not in current)
    taken = set(current.values())
    free_res = sorted(r for r in res if r not in taken)
    if not free_gt or not free_res:
        return
    distance = 1 - box_iou(np.array([gt[g] for g in free_gt])[:, None], np.array([res[r] for r in free_res])[None])
    admissible = distance <= THRESHOLD
    if not admissible.any():
        return
    size = max(len(free_gt), len(free_res))
    cost = np.full((size, size), PADDING)
    order = np.cumsum(admissible.ravel()).reshape(admissible.shape) - 1  # the pair's number, row by row
    block = cost[: len(free_gt), : len(free_res)]
    block[admissible] = distance[admissible] + TIE_BREAK * order[admissible]
    for row, column in enumerate(min_cost_matching(cost)):
        if cost[row, column] != PADDING:
            current[free_gt[row]] = free_res[column]


def clear_mot(gt: np.ndarray, res: np.ndarray) -> Counts:
    """clearMOTMex + CLEAR_MOT_HUN for one sequence and class (rows sorted by frame, ids as in the files)."""
    gt_ids = np.unique(gt[:, ID], return_inverse=True)[1]
    res_ids = np.unique(res[:, ID], return_inverse=True)[1] if len(res) else np.zeros(0, np.int64)
    frames = int(max(gt[:, FRAME].max(), res[:, FRAME].max() if len(res) else 0))
    objects = int(gt_ids.max()) + 1
    gt_at, res_at = _by_frame(gt, gt_ids, frames), _by_frame(res, res_ids, frames)
    tracked = np.zeros((frames, objects), dtype=np.int64)  # the result id + 1 each object is paired with
    last: dict[int, int] = {}  # object -> the result it was last paired with
    previous: dict[int, int] = {}
    counts = Counts(frames=int(gt[:, FRAME].max()), objects=objects, gt_boxes=len(gt))
    for t in range(frames):
        kept = [(g, r) for g, r in sorted(previous.items()) if g in gt_at[t] and r in res_at[t]]
        current = {g: r for (g, r), d in zip(kept, _pair_distance(gt_at[t], res_at[t], kept)) if d <= THRESHOLD}
        _pair_unmatched(gt_at[t], res_at[t], current)
        if t:
            counts.switches += sum(g in gt_at[t - 1] and g in last and last[g] != r for g, r in current.items())
        for g, r in current.items():
            tracked[t, g] = r + 1
        counts.distance += float(_pair_distance(gt_at[t], res_at[t], list(current.items())).sum())
        counts.matches += len(current)
        counts.fp += len(res_at[t]) - len(current)
        counts.fn += len(gt_at[t]) - len(current)
        last.update(current)
        previous = current
    _track_states(counts, gt, gt_ids, tracked, int(res[:, FRAME].max()) if len(res) else None)
    return counts


def _track_states(counts: Counts, gt: np.ndarray, gt_ids: np.ndarray, tracked: np.ndarray, last_result_frame: int | None) -> None:
    """MT, PT, ML and fragmentations of each object, as CLEAR_MOT_HUN.m decides them."""
    for g in range(tracked.shape[1]):
        frames = gt[gt_ids == g, FRAME].astype(np.int64)
        share = (tracked[frames - 1, g] > 0).sum() / len(frames)
        if share < 0.2:
            counts.ml += 1
        elif last_result_frame is not None and last_result_frame >= len(frames) and share <= 0.8:
            counts.pt += 1
        elif share >= 0.8:
            counts.mt += 1
        on = np.flatnonzero(tracked[:, g])
        if len(on):
            span = tracked[on[0] : on[-1] + 1, g] > 0
            counts.fm += int((span[:-1] & ~span[1:]).sum())


def id_measures(gt: np.ndarray, res: np.ndarray, counts: Counts) -> None:
    """IDmeasures.m: trajectories paired by minimum IDFP + IDFN (per-frame matches at IoU >= 0.5; a NaN IoU, of two
    empty boxes, counts as a match there, as costBlockMex's `iou < threshold` test has it)."""
    gt_ids, gt_index = np.unique(gt[:, ID], return_inverse=True)
    res_ids, res_index = np.unique(res[:, ID], return_inverse=True) if len(res) else (np.zeros(0), np.zeros(0, np.int64))
    gt_len, res_len = np.bincount(gt_index, minlength=len(gt_ids)), np.bincount(res_index, minlength=len(res_ids))
    hits = np.zeros((len(gt_ids), len(res_ids)))
    for frame in np.intersect1d(gt[:, FRAME], res[:, FRAME]):  # rows are sorted by frame
        g = _rows_of(gt, frame)
        r = _rows_of(res, frame)
        matched = ~(box_iou(gt[g][:, None, [X, Y, W, H]], res[r][None, :, [X, Y, W, H]]) < THRESHOLD)
        rows, cols = np.nonzero(matched)
        np.add.at(hits, (gt_index[g[rows]], res_index[r[cols]]), 1)
    n_gt, n_res = len(gt_ids), len(res_ids)
    forbidden = float(gt_len.sum() + res_len.sum() + 1)
    cost = np.zeros((n_gt + n_res, n_gt + n_res))
    cost[:n_gt, :n_res] = (gt_len[:, None] - hits) + (res_len[None, :] - hits)
    cost[:n_gt, n_res:] = np.where(np.eye(n_gt, dtype=bool), gt_len[:, None], forbidden)  # an object left unpaired
    cost[n_gt:, :n_res] = np.where(np.eye(n_res, dtype=bool), res_len[None, :], forbidden)  # a result left unpaired
    rows, cols = linear_sum_assignment(cost)
    pair = (rows < n_gt) & (cols < n_res)
    idfn = (gt_len[rows[pair]] - hits[rows[pair], cols[pair]]).sum() + gt_len[rows[(rows < n_gt) & (cols >= n_res)]].sum()
    idfp = (res_len[cols[pair]] - hits[rows[pair], cols[pair]]).sum() + res_len[cols[(rows >= n_gt) & (cols < n_res)]].sum()
    counts.num_gt, counts.num_pred = len(gt), len(res)
    counts.idfn, counts.idfp, counts.idtp = int(idfn), int(idfp), int(len(gt) - idfn)


def _rows_of(rows: np.ndarray, frame: float) -> np.ndarray:
    """Indices of the rows of `frame` in rows sorted by frame."""
    return np.arange(np.searchsorted(rows[:, FRAME], frame, "left"), np.searchsorted(rows[:, FRAME], frame, "right"))


def score(gt: np.ndarray, res: np.ndarray) -> Counts:
    """The counts of one sequence and class (`gt` not empty)."""
    counts = clear_mot(gt, res)
    id_measures(gt, res, counts)
    return counts


def summary(counts: Counts) -> dict[str, float]:
    """evaluateBenchmark.m's 17 numbers from summed counts (percent where the toolkit prints percent; NaN where it
    divides by zero, as MATLAB does)."""
    c = {f.name: np.float64(getattr(counts, f.name)) for f in fields(counts)}
    with np.errstate(divide="ignore", invalid="ignore"):
        idp = np.float64(0.0) if c["num_pred"] == 0 else c["idtp"] / (c["idtp"] + c["idfp"])
        motp = (1 - c["distance"] / c["matches"]) * 100
        values = {
            "IDF1": 2 * c["idtp"] / (c["num_gt"] + c["num_pred"]) * 100,
            "IDP": idp * 100,
            "IDR": c["idtp"] / (c["idtp"] + c["idfn"]) * 100,
            "Rcll": c["matches"] / c["gt_boxes"] * 100,
            "Prcn": c["matches"] / (c["fp"] + c["matches"]) * 100,
            "FAR": c["fp"] / c["frames"],
            "GT": c["objects"], "MT": c["mt"], "PT": c["pt"], "ML": c["ml"], "FP": c["fp"], "FN": c["fn"], "IDs": c["switches"], "FM": c["fm"],
            "MOTA": (1 - (c["fn"] + c["fp"] + c["switches"]) / c["gt_boxes"]) * 100,
            "MOTP": np.float64(0.0) if np.isnan(motp) else motp,
            "MOTAL": (1 - (c["fn"] + c["fp"] + np.log10(c["switches"] + 1)) / c["gt_boxes"]) * 100,
        }
    return {key: float(values[key]) for key in METRICS}
