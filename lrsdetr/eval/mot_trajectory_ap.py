"""Trajectory AP of VisDrone-MOT's Task 4A (no detections given), as the toolkit's evaluateTrackA.m computes it.

A result track is a whole trajectory with one class and, as its score, the mean of its boxes' scores. It hits a
ground-truth trajectory of its class when the share of frames in which they overlap enough, out of the frames
either is in, reaches the trajectory IoU threshold (0.25, 0.50, 0.75). A box overlaps enough at IoU >= the
object's own threshold, min(0.5, w*h / ((w+10)*(h+10))), lenient with small objects, in the toolkit's +1-pixel
box convention. Tracks are taken per sequence from the highest score, each hitting the free trajectory it overlaps
most (the first of equals); AP is VOC's all-point AP over all sequences, per class; a class of the five scored
with no ground-truth trajectory has AP 0. Rules kept from the toolkit:
- ground truth is only read for frames 1..(the number of frames), results are not clipped;
- results are dropped in ignored regions with the frame size of the *last* sequence (evaluateTrackA.m reuses the
  variable of its ground-truth loop), which matters only where sequences differ in size;
- a track of a class outside the five scored classes, or whose boxes lie in frames where it meets no trajectory,
  is a false positive; a ground-truth trajectory of class 0 or 11 left after the drop is not counted (the toolkit
  stops with an index error there).
A result track that changes class cannot be scored this way (the toolkit stops with 'Find multiple labels in a
tracklet'): `trajectory_ap` returns the track and its classes instead.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .mot_inputs import CLASS, FRAME, H, ID, SCORE, W, X, Y

TRACK_THRESHOLDS = (0.25, 0.50, 0.75)
BOX_IOU = 0.5  # the most a box's own threshold can be
PIXEL_TOLERANCE = 10  # the toolkit's allowance that lowers the threshold of small objects
SCORED_RANGE = range(1, 11)  # classes with an AP (calcAP.m's 1:10)


@dataclass(frozen=True)
class Video:
    """One sequence for Task 4A: ground truth after the drop and breakGts, results after the drop, its frame count."""

    gt: np.ndarray
    res: np.ndarray
    frames: int


@dataclass(frozen=True)
class ClassChange:
    """A result track with more than one class: its sequence index, id and classes."""

    video: int
    track: float
    classes: tuple[int, ...]


def _corners(rows: np.ndarray) -> np.ndarray:
    """[x1, y1, x2, y2] in the toolkit's inclusive pixels: x2 = w + x - 1, as evaluateTrackA.m writes it."""
    return np.stack([rows[:, X], rows[:, Y], rows[:, W] + rows[:, X] - 1, rows[:, H] + rows[:, Y] - 1], 1)


def _overlap(bb: np.ndarray, gt: np.ndarray) -> np.ndarray:
    """evaluateTrackA.m's box overlap of aligned rows (n, 4), -inf where the boxes do not meet."""
    iw = np.minimum(bb[:, 2], gt[:, 2]) - np.maximum(bb[:, 0], gt[:, 0]) + 1
    ih = np.minimum(bb[:, 3], gt[:, 3]) - np.maximum(bb[:, 1], gt[:, 1]) + 1
    union = (bb[:, 2] - bb[:, 0] + 1) * (bb[:, 3] - bb[:, 1] + 1) + (gt[:, 2] - gt[:, 0] + 1) * (gt[:, 3] - gt[:, 1] + 1) - iw * ih
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where((iw > 0) & (ih > 0), iw * ih / union, -np.inf)


def _gt_tracks(video: Video) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Ground-truth rows of frames 1..frames with their trajectory index (in order of first appearance), the
    trajectories' classes, and each row's own box threshold."""
    gt = video.gt[video.gt[:, FRAME] <= video.frames]
    gt = gt[np.argsort(gt[:, FRAME], kind="stable")]
    ids, first, index = np.unique(gt[:, ID], return_index=True, return_inverse=True)
    rank = np.argsort(np.argsort(first, kind="stable"), kind="stable")  # trajectories numbered by first appearance
    index = rank[index]
    labels = np.zeros(len(ids))
    labels[rank] = gt[first, CLASS]
    corners = _corners(gt)
    gt_w, gt_h = corners[:, 3] - corners[:, 1] + 1, corners[:, 2] - corners[:, 0] + 1
    threshold = np.minimum(BOX_IOU, (gt_w * gt_h) / ((gt_w + PIXEL_TOLERANCE) * (gt_h + PIXEL_TOLERANCE)))
    return gt, index, labels, threshold


def _res_tracks(res: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Each result row's track index (tracks sorted by id), the tracks' classes and mean scores (summed in order)."""
    ids, index = np.unique(res[:, ID], return_inverse=True)
    labels = np.zeros(len(ids))
    labels[index] = res[:, CLASS]
    scores = np.zeros(len(ids))
    for track in range(len(ids)):  # sequential sums, as MATLAB's mean adds
        values = res[index == track, SCORE]
        scores[track] = np.cumsum(values)[-1] / len(values)
    return index, labels, scores


def class_changes(videos: list[Video]) -> list[ClassChange]:
    """The result tracks with more than one class."""
    changes = []
    for number, video in enumerate(videos):
        for track in np.unique(video.res[:, ID]):
            classes = np.unique(video.res[video.res[:, ID] == track, CLASS])
            if len(classes) > 1:
                changes.append(ClassChange(number, float(track), tuple(int(c) for c in classes)))
    return changes


def _video_hits(video: Video, evaluated: tuple[int, ...]) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(tp (T, tracks), track classes, track scores, ground-truth trajectories per class) of one sequence, tracks in
    the toolkit's order (highest mean score first, ties by id)."""
    gt, gt_index, gt_labels, threshold = _gt_tracks(video)
    res_index, res_labels, res_scores = _res_tracks(video.res)
    order = np.argsort(-res_scores, kind="stable")
    n_res, n_gt = len(res_labels), len(gt_labels)
    matched, common = np.zeros((n_res, n_gt)), np.zeros((n_res, n_gt))
    for frame in np.intersect1d(video.res[:, FRAME], gt[:, FRAME]):
        r, g = np.flatnonzero(video.res[:, FRAME] == frame), np.flatnonzero(gt[:, FRAME] == frame)
        rr, gg = np.repeat(r, len(g)), np.tile(g, len(r))
        np.add.at(common, (res_index[rr], gt_index[gg]), 1)
        hit = _overlap(_corners(video.res[rr]), _corners(gt[gg])) >= threshold[gg]
        hit &= np.isin(res_labels[res_index[rr]], evaluated)
        np.add.at(matched, (res_index[rr[hit]], gt_index[gg[hit]]), 1)
    res_frames = np.bincount(res_index, minlength=n_res)
    gt_frames = np.bincount(gt_index, minlength=n_gt)
    with np.errstate(divide="ignore", invalid="ignore"):
        overlap = matched / (res_frames[:, None] + gt_frames[None, :] - common)
    same = res_labels[:, None] == gt_labels[None, :]
    tp = np.zeros((len(TRACK_THRESHOLDS), n_res))
    taken = np.zeros((len(TRACK_THRESHOLDS), n_gt), dtype=bool)
    for position, track in enumerate(order):
        for o, limit in enumerate(TRACK_THRESHOLDS):
            free = same[track] & ~taken[o] & (overlap[track] >= limit)
            if free.any():
                best = int(np.argmax(np.where(free, overlap[track], -np.inf)))
                tp[o, position], taken[o, best] = 1, True
    per_class = np.array([(gt_labels == c).sum() for c in SCORED_RANGE])
    return tp, res_labels[order], res_scores[order], per_class


def voc_ap(recall: np.ndarray, precision: np.ndarray) -> float:
    """VOCap.m: the area under the precision envelope, summed over the points where recall changes."""
    mrec = np.concatenate([[0.0], recall, [1.0]])
    mpre = np.concatenate([[0.0], precision, [0.0]])
    mpre = np.maximum.accumulate(mpre[::-1])[::-1]
    changes = np.flatnonzero(mrec[1:] != mrec[:-1]) + 1
    return float(np.cumsum((mrec[changes] - mrec[changes - 1]) * mpre[changes])[-1]) if len(changes) else 0.0


def trajectory_ap(videos: list[Video], evaluated: tuple[int, ...]) -> dict[int, list[float]]:
    """{class: [AP at each of TRACK_THRESHOLDS]} (percent) for the classes `evaluated`; call `class_changes` first."""
    parts = [_video_hits(video, evaluated) for video in videos]
    tp = np.concatenate([p[0] for p in parts], 1)
    labels = np.concatenate([p[1] for p in parts])
    scores = np.concatenate([p[2] for p in parts])
    trajectories = sum(p[3] for p in parts)
    order = np.argsort(-scores, kind="stable")
    tp, labels = tp[:, order], labels[order]
    aps = {}
    for category in evaluated:
        count = trajectories[category - 1]
        mine = labels == category
        aps[category] = [0.0] * len(TRACK_THRESHOLDS)
        if count:
            for o in range(len(TRACK_THRESHOLDS)):
                hits = np.cumsum(tp[o, mine])
                misses = np.cumsum(1 - tp[o, mine])
                with np.errstate(divide="ignore", invalid="ignore"):
                    aps[category][o] = voc_ap(hits / count, hits / (misses + hits)) * 100
    return aps
