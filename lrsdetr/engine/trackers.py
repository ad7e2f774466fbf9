"""Ultralytics' multi-object trackers (ByteTrack, BoT-SORT) driven frame by frame from our own detections.

Ultralytics runs its trackers only inside `model.track`, on whole frames. Its tracker classes take any detections
with `conf`, `cls` and `xywh` (an Ultralytics `Boxes`) and the frame, so we feed them ours: whole-frame or sliced
(SAHI) `Results`, which is how tracking over sliced 4K drone frames becomes possible. A tracker is named as
Ultralytics names them ('bytetrack', 'botsort': their cfg/trackers YAMLs) or given as a YAML of one's own;
BoT-SORT's ReID (with_reid) needs a model Ultralytics downloads, so it is refused in one line.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from ultralytics.engine.results import Results
from ultralytics.trackers import BOTSORT, BYTETracker
from ultralytics.utils import YAML, IterableSimpleNamespace
from ultralytics.utils.checks import check_yaml

from ..utils.errors import DataError

TRACKERS = {"bytetrack": BYTETracker, "botsort": BOTSORT}  # Ultralytics' trackers we drive; a YAML names one as tracker_type
TRACK_COLUMNS = 8  # what a tracker returns per track: x1, y1, x2, y2, id, score, class, detection index


def tracker_file(tracker: str) -> Path | None:
    """The user's YAML that --tracker names (None for one of Ultralytics' own by name)."""
    return None if tracker in TRACKERS else Path(tracker)


def tracker_config(tracker: str) -> IterableSimpleNamespace:
    """The settings of --tracker: Ultralytics' bytetrack.yaml / botsort.yaml by name, or a YAML file, checked."""
    path = tracker_file(tracker)
    if path is None:
        path = Path(check_yaml(f"{tracker}.yaml"))
    elif path.suffix not in (".yaml", ".yml") or not path.is_file():
        raise DataError(f"--tracker {tracker}: expected {' or '.join(TRACKERS)}, or a tracker YAML file (tracker_type: bytetrack ...)")
    try:
        settings = YAML.load(path)
    except Exception as error:  # a YAML syntax error, whichever parser raised it
        raise DataError(f"--tracker {tracker}: cannot read this YAML ({type(error).__name__}); expected Ultralytics' tracker settings") from None
    if not isinstance(settings, dict) or settings.get("tracker_type") not in TRACKERS:
        raise DataError(f"--tracker {tracker}: tracker_type {settings.get('tracker_type') if isinstance(settings, dict) else None!r}; expected one of {', '.join(TRACKERS)}")
    if settings.get("with_reid"):
        raise DataError(f"--tracker {tracker}: with_reid: True needs a ReID model that Ultralytics downloads; set it to False")
    default = YAML.load(check_yaml(f"{settings['tracker_type']}.yaml"))
    missing = sorted(set(default) - set(settings))
    if missing:
        raise DataError(f"--tracker {tracker}: misses {', '.join(missing)} (see Ultralytics' {settings['tracker_type']}.yaml)")
    return IterableSimpleNamespace(**settings)


def new_tracker(config: IterableSimpleNamespace):
    """A fresh tracker (one per sequence: IDs start again at 1)."""
    return TRACKERS[config.tracker_type](args=config)


def update(tracker, result: Results) -> np.ndarray:
    """Feed one frame's detections; the confirmed tracks as rows x1, y1, x2, y2, id, score, class, detection index."""
    tracks = tracker.update(result.boxes.cpu().numpy(), result.orig_img)
    return np.asarray(tracks, dtype=np.float64).reshape(-1, TRACK_COLUMNS)
