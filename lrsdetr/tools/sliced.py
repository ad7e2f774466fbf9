"""Sliced inference for large drone frames, with SAHI (Akyon et al., ICIP 2022).

VisDrone frames are up to 2000x1500 px; shrunk to a 640 px input, a 12 px pedestrian becomes 4 px and is lost.
SAHI cuts the frame into overlapping tiles, runs the detector on each tile at the model's input size, shifts the
boxes back and removes the duplicates along tile borders, optionally with one whole-frame pass for objects
larger than a tile. Duplicates are dropped by NMS on IoU by default: in crowded scenes of small objects,
merging boxes into their union (SAHI's GREEDYNMM on intersection-over-smaller) also swallows neighbours and
low-score boxes (on 1280x960 synthetic frames: AP50 0.23 with NMS/IoU, 0.18 with GREEDYNMM/IoS).
SAHI's own RT-DETR wrapper takes our model as is: it calls `ultralytics.RTDETR`, which `import lrsdetr`
makes our class. SAHI sends `batch` tiles per call to it, and Ultralytics' predictor runs them as one batch: one
forward pass of N stacked tiles instead of N passes (the whole-frame pass stays a call of its own).
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np
import torch
from sahi.models.base import DetectionModel
from sahi.models.rtdetr import RTDetrDetectionModel
from sahi.predict import get_sliced_prediction
from ultralytics.engine.results import Results

from ..cfg import IMGSZ, MAX_DET
from ..models import RTDETR


@dataclass(frozen=True)
class Slicing:
    """How a frame is cut and merged back."""

    size: int = IMGSZ  # tile side in frame pixels (each tile is then resized to the model's imgsz)
    overlap: float = 0.2  # share of a tile shared with its neighbour, so that border objects are whole in one
    full_frame: bool = True  # also run once on the whole frame, for objects larger than a tile
    merge: str = "NMS"  # SAHI's postprocess: NMS (drop the weaker box), GREEDYNMM or NMM (merge boxes into their union)
    match_metric: str = "IOU"  # IOU, or IOS (intersection over the smaller box)
    match_threshold: float = 0.5
    # Tiles per forward pass (1: one at a time); the detections are the same. Why 4: on 2 CPU threads, a 2000x1500
    # frame of 640 px tiles took the same time with 1, 4 or 8 within the noise of a loaded machine (0.91-1.18x;
    # `lrsdetr bench latency` prints the ratio; docs/speed.md), as a CPU does the same convolutions either way; on a
    # GPU one tile per call leaves it mostly idle, and 4 tiles of 640 px keep a call's activations small (no GPU
    # measurement yet).
    batch: int = 4


# The commands' slicing flags (detect, track), with the defaults of `Slicing`: off unless asked for.
SLICING_FLAGS = {"slice": False, "slice_size": Slicing.size, "slice_overlap": Slicing.overlap,
                 "slice_full_frame": Slicing.full_frame, "slice_merge": Slicing.merge, "slice_match": Slicing.match_metric,
                 "slice_batch": Slicing.batch}


def sahi_detector(model: RTDETR, conf: float, imgsz: int, device: str | None = None) -> DetectionModel:
    """SAHI's RT-DETR wrapper around an already loaded model.

    SAHI's device selection also writes CUDA_VISIBLE_DEVICES (-1 for 'cpu'), which would hide the GPUs from
    anything this process starts later; the variable is put back as it was.
    """
    visible = os.environ.get("CUDA_VISIBLE_DEVICES")
    try:
        return RTDetrDetectionModel(model=model, confidence_threshold=conf, image_size=imgsz, device=device or None)
    finally:
        if visible is None:
            os.environ.pop("CUDA_VISIBLE_DEVICES", None)
        else:
            os.environ["CUDA_VISIBLE_DEVICES"] = visible


def sliced_predict(detector: DetectionModel, image: np.ndarray, slicing: Slicing, path: str = "", names: dict | None = None,
                   max_det: int = MAX_DET) -> Results:
    """Detections on a BGR frame as Ultralytics `Results` (boxes in frame pixels), so they plot and save as usual:
    the `max_det` highest-scoring boxes of the whole frame (each tile gives up to the model's own cap, so the merged
    frame can hold tens of thousands at a low `conf`)."""
    prediction = get_sliced_prediction(
        np.ascontiguousarray(image[..., ::-1]),  # SAHI takes RGB arrays
        detector,
        slice_height=slicing.size,
        slice_width=slicing.size,
        overlap_height_ratio=slicing.overlap,
        overlap_width_ratio=slicing.overlap,
        perform_standard_pred=slicing.full_frame,
        postprocess_type=slicing.merge,
        postprocess_match_metric=slicing.match_metric,
        postprocess_match_threshold=slicing.match_threshold,
        batch_size=slicing.batch,
        verbose=0,
    )
    rows = [[*p.bbox.to_xyxy(), p.score.value, p.category.id] for p in prediction.object_prediction_list]
    boxes = torch.tensor(rows, dtype=torch.float32).reshape(-1, 6)
    boxes = boxes[boxes[:, 4].argsort(descending=True, stable=True)[:max_det]]
    names = names if names is not None else {int(k): v for k, v in detector.category_mapping.items()}
    return Results(image, path=path, names=names, boxes=boxes)
