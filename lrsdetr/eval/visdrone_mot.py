"""VisDrone-MOT's own protocol, number for number as the official MATLAB toolkit computes it, with HOTA beside it.

The reference is github VisDrone/VisDrone2018-MOT-toolkit (evaluateTrackB.m at 608d9b1, evaluateTrackA.m at
2dc45b4, eval/ at 70de032 with classEval.m at d9b7ff2, utils/IDmeasures.m at ef86852, and the MOTChallenge devkit's
clearMOTMex / costBlockMex / CLEAR_MOT_HUN / evaluateBenchmark it calls). Each sequence is prepared as the toolkit
prepares it, then scored two ways:
- ignored regions (class 0) and 'others' (class 11) of the ground truth are dropped areas: a ground-truth box of
  any class at least half inside those of its frame is dropped (dropObjects.m, measured on the pixel map of the
  frame's size as the DET protocol does it, lrsdetr.eval.visdrone); the regions mostly drop themselves, so the
  results are then dropped only in what is left of them;
- a ground-truth trajectory that changes class is split into one trajectory per class (breakGts.m);
- results after the last annotated frame are not scored (Task 4B);
- Task 4B (lrsdetr.eval.mot_clear): per sequence and class, only where the class has ground truth (results of a
  class a sequence does not hold are not counted), over the five classes car, bus, truck, pedestrian, van;
  numbers per sequence, per class (a class without ground truth anywhere scores 0, as the toolkit prints it) and
  overall;
- Task 4A (lrsdetr.eval.mot_trajectory_ap): trajectory AP at 0.25, 0.50, 0.75 and their mean, per class and the
  mean over the five;
- HOTA, DetA, AssA (lrsdetr.eval.mot_hota, by trackeval) on exactly what Task 4B scores.
The toolkit also writes `<sequence>_clean.txt` into the annotations folder and, when it finds one there, reads
it instead of preparing the ground truth again (one left by Task 4A makes Task 4B read trajectories already
split, and the reverse stops Task 4A). Nothing is written here: every run prepares the ground truth afresh, as the
toolkit does on a clean folder. Where the toolkit stops with an error (an empty results file, a result track that
changes class in Task 4A), this module scores what is well defined and says so.
"""

from __future__ import annotations

import numpy as np
from tqdm import tqdm

from .mot_clear import Counts, score, summary
from .mot_hota import hota
from .mot_inputs import CLASS, FRAME, ID, IGNORED_REGION, OTHERS, X, Sequence, load_sequences
from .mot_trajectory_ap import TRACK_THRESHOLDS, Video, class_changes, trajectory_ap
from .visdrone import matlab_round, outside_ignored, region_integral

# evalMOT.m's evalClassSet, in its order: VisDrone-MOT scores five of the ten classes.
EVAL_CLASSES = {"car": 4, "bus": 9, "truck": 6, "pedestrian": 1, "van": 5}
DROPPED_AREAS = (IGNORED_REGION, OTHERS)


def drop_ignored(rows: np.ndarray, areas_from: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """dropObjects.m: the rows (sorted by frame) less than half inside their frame's class-0 and class-11 boxes of
    `areas_from`."""
    width, height = size
    rows = rows[np.argsort(rows[:, FRAME], kind="stable")]
    areas = areas_from[np.isin(areas_from[:, CLASS], DROPPED_AREAS)]
    keep = np.ones(len(rows), dtype=bool)
    for frame in np.unique(areas[:, FRAME]):
        here = np.flatnonzero(rows[:, FRAME] == frame)
        if len(here):
            regions = np.maximum(1, matlab_round(areas[areas[:, FRAME] == frame][:, X : X + 4]))
            keep[here] = outside_ignored(rows[here][:, X : X + 4], region_integral(regions, width, height), width, height)
    return rows[keep]


def break_tracks(gt: np.ndarray) -> np.ndarray:
    """breakGts.m: ids renumbered 1..n (by value); a trajectory's boxes of its second, third ... class (by class
    number) get new ids n+1, n+2, ..."""
    gt = gt.copy()
    if not len(gt):
        return gt
    gt[:, ID] = np.unique(gt[:, ID], return_inverse=True)[1] + 1
    new_id = gt[:, ID].max() + 1
    for track in np.unique(gt[:, ID]):
        mine = gt[:, ID] == track
        for category in np.unique(gt[mine, CLASS])[1:]:
            gt[mine & (gt[:, CLASS] == category), ID] = new_id
            new_id += 1
    return gt


def prepare(sequence: Sequence) -> tuple[np.ndarray, np.ndarray]:
    """evaluateTrackB.m's ground truth and results of one sequence, ready to split by class."""
    gt = break_tracks(drop_ignored(sequence.gt, sequence.gt, sequence.size))
    res = drop_ignored(sequence.res, gt, sequence.size)
    res = res[res[:, FRAME] <= gt[:, FRAME].max()] if len(gt) else res[:0]
    return gt, res


def evaluate_sequences(sequences: list[Sequence], verbose: bool = True) -> dict:
    """Task 4B per sequence, class and overall, Task 4A's trajectory AP, and HOTA; see the module doc."""
    per_pair: dict[tuple[str, str], Counts] = {}
    hota_input: dict[str, list[tuple[np.ndarray, np.ndarray]]] = {name: [] for name in EVAL_CLASSES}
    videos = []
    for sequence in tqdm(sequences, desc="VisDrone-MOT protocol", unit="sequence", disable=not verbose):
        gt, res = prepare(sequence)
        for name, category in EVAL_CLASSES.items():
            gt_c, res_c = gt[gt[:, CLASS] == category], res[res[:, CLASS] == category]
            if len(gt_c):
                per_pair[sequence.name, name] = score(gt_c, res_c)
                hota_input[name].append((gt_c, res_c))
        videos.append(Video(gt, drop_ignored(sequence.res, gt, sequences[-1].size), sequence.frames))
    total = lambda pairs: sum(pairs, Counts())  # noqa: E731
    classes = {name: summary(total([c for (_, n), c in per_pair.items() if n == name])) for name in EVAL_CLASSES}
    result = {
        "overall": summary(total(per_pair.values())),
        "classes": {name: {key: 0.0 if np.isnan(v) else v for key, v in metrics.items()} for name, metrics in classes.items()},
        "sequences": {s.name: summary(total([c for (n, _), c in per_pair.items() if n == s.name])) for s in sequences},
        "hota": hota(hota_input),
    }
    result["trajectory_ap"], result["warnings"] = _task_a(videos, sequences)
    return result


def _task_a(videos: list[Video], sequences: list[Sequence]) -> tuple[dict | None, list[str]]:
    """Trajectory AP per class and averaged over the five, or None and why."""
    changes = class_changes(videos)
    if changes:
        first = changes[0]
        return None, [f"Task 4A (trajectory AP) not scored: {len(changes)} result track(s) change class, e.g. track {first.track:g} of "
                      f"{sequences[first.video].name} (classes {', '.join(map(str, first.classes))}); the toolkit stops there too "
                      "('Find multiple labels in a tracklet'). Write one class per track (track.py does)"]
    aps = trajectory_ap(videos, tuple(EVAL_CLASSES.values()))
    per_class = {name: _ap_fields(aps[category]) for name, category in EVAL_CLASSES.items()}
    mean = {key: float(np.mean([per_class[name][key] for name in EVAL_CLASSES])) for key in per_class["car"]}
    return {"classes": per_class, **mean}, []


def _ap_fields(values: list[float]) -> dict[str, float]:
    """AP (the mean of the three, summed in the toolkit's order) and AP@each trajectory IoU threshold."""
    mean = values[0]
    for value in values[1:]:
        mean = mean + value
    return {"AP": mean / len(values), **{f"AP@{t:.2f}": v for t, v in zip(TRACK_THRESHOLDS, values)}}


def evaluate_mot(anno_dir, res_dir, seq_dir, verbose: bool = True) -> dict:
    """VisDrone-MOT's numbers for the results in `res_dir` (<sequence>.txt) against `anno_dir` (<sequence>.txt),
    for every sequence folder of `seq_dir`."""
    return evaluate_sequences(load_sequences(anno_dir, res_dir, seq_dir), verbose)
