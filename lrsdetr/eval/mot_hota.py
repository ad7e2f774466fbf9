"""HOTA, DetA and AssA beside the toolkit's measures, computed by the `trackeval` package (Luiten et al., IJCV 2021).

trackeval is given exactly the boxes the toolkit's Task 4B scores: per sequence and class, the ground truth and
results after VisDrone's ignored-region drop, the split of trajectories that change class, and the clip to the
last annotated frame; only the pairs of sequence and class with ground truth, as the toolkit scores them.
Similarity is box IoU. A class is its sequences combined (trackeval's combine_sequences); "all" pools the five
classes' detections (combine_classes_det_averaged), as the toolkit's overall MOTA pools their counts. Each number
is trackeval's mean over its 19 localisation thresholds (alpha = 0.05 .. 0.95), in percent.
"""

from __future__ import annotations

import numpy as np
from trackeval.metrics import HOTA

from .mot_clear import box_iou
from .mot_inputs import FRAME, H, ID, W, X, Y

FIELDS = ("HOTA", "DetA", "AssA")


def hota_data(gt: np.ndarray, res: np.ndarray) -> dict:
    """trackeval's per-sequence input: per frame the ids (0-based) and the IoU of every ground-truth box with every
    result box."""
    gt_ids, gt_index = np.unique(gt[:, ID], return_inverse=True)
    res_ids, res_index = np.unique(res[:, ID], return_inverse=True) if len(res) else (np.zeros(0), np.zeros(0, np.int64))
    frames = int(max(gt[:, FRAME].max(), res[:, FRAME].max() if len(res) else 0))
    data = {"num_gt_dets": len(gt), "num_tracker_dets": len(res), "num_gt_ids": len(gt_ids), "num_tracker_ids": len(res_ids),
            "gt_ids": [], "tracker_ids": [], "similarity_scores": [], "num_timesteps": frames}
    for frame in range(1, frames + 1):
        g, r = gt[:, FRAME] == frame, res[:, FRAME] == frame
        data["gt_ids"].append(gt_index[g])
        data["tracker_ids"].append(res_index[r])
        with np.errstate(invalid="ignore"):
            iou = box_iou(gt[g][:, None, [X, Y, W, H]], res[r][None, :, [X, Y, W, H]]).reshape(int(g.sum()), int(r.sum()))
        data["similarity_scores"].append(np.nan_to_num(iou, nan=0.0))
    return data


def hota(per_class: dict[str, list[tuple[np.ndarray, np.ndarray]]]) -> dict[str, dict[str, float]]:
    """{class: {HOTA, DetA, AssA}, 'all': ...} from {class: [(gt, res) of each sequence with ground truth]}."""
    metric = HOTA()
    combined = {}
    for name, pairs in per_class.items():
        sequences = {str(i): metric.eval_sequence(hota_data(gt, res)) for i, (gt, res) in enumerate(pairs)}
        combined[name] = metric.combine_sequences(sequences) if sequences else metric.eval_sequence(_empty())
    combined["all"] = metric.combine_classes_det_averaged(combined)
    return {name: {field: float(np.mean(result[field]) * 100) for field in FIELDS} for name, result in combined.items()}


def _empty() -> dict:
    return {"num_gt_dets": 0, "num_tracker_dets": 0, "num_gt_ids": 0, "num_tracker_ids": 0}
