"""What track.py keeps of a sequence: its tracks in VisDrone-MOT's format, a drawn video, counts across a line, and
a per-class summary.

The MOT file has one line per track and frame, `frame,id,x,y,w,h,score,class,-1,-1` (frames from 1; class = the
model's class + 1, VisDrone's category numbers for a VisDrone-trained model). Ultralytics' trackers let a track's
class follow its latest detection; VisDrone-MOT's trajectory AP needs one class per track (its toolkit stops on a
track that changes class), so each track is written with the class its detections scored most for, summed over
its frames. A line given as two points counts the tracks whose box centre crosses it between two frames: 'in'
toward the side its right-hand normal points to (for a line drawn left to right, downward in the frame), 'out'
the other way, per class.
"""

from __future__ import annotations

import os
from collections import defaultdict, deque
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np
from ultralytics.utils.plotting import colors

from ..utils.errors import DataError

MIN_OBJECT_FRAMES = 5  # a track seen in fewer frames is not counted among the summary's objects (flicker, false starts)


def parse_line(text: str | None) -> tuple[float, float, float, float] | None:
    """--line 'x1,y1,x2,y2' (frame pixels) as four numbers; None for no line."""
    if text in (None, ""):
        return None
    try:
        values = tuple(float(v) for v in str(text).split(","))
    except ValueError:
        values = ()
    if len(values) != 4 or not all(np.isfinite(values)) or values[:2] == values[2:]:
        raise DataError(f"--line {text}: expected two different points x1,y1,x2,y2 in frame pixels, e.g. 0,300,1280,300")
    return values


def parse_classes(value) -> list[int] | None:
    """--classes '0,3' (or 3) as class indices; None for every class."""
    if value in (None, ""):
        return None
    try:
        classes = [int(v) for v in str(value).split(",") if v.strip()]
    except ValueError:
        classes = []
    if not classes or min(classes) < 0:
        raise DataError(f"--classes {value}: expected class indices of the model from 0, comma-separated, e.g. 0,3")
    return classes


@dataclass
class LineCounter:
    """Crossings of a line segment by track centres, per track (classes are given at the end)."""

    line: tuple[float, float, float, float]
    last: dict[int, tuple[float, float]] = field(default_factory=dict)
    crossings: list[tuple[int, str]] = field(default_factory=list)  # (track id, 'in' or 'out')

    def _side(self, x: float, y: float) -> float:
        x1, y1, x2, y2 = self.line
        return (x2 - x1) * (y - y1) - (y2 - y1) * (x - x1)

    def update(self, tracks: np.ndarray) -> None:
        """Count the tracks (rows x1, y1, x2, y2, id, ...) whose centre moved across the segment since their last frame."""
        x1, y1, x2, y2 = self.line
        for row in tracks:
            track, centre = int(row[4]), ((row[0] + row[2]) / 2, (row[1] + row[3]) / 2)
            before = self.last.get(track)
            self.last[track] = centre
            if before is None:
                continue
            s0, s1 = self._side(*before), self._side(*centre)
            if (s0 > 0) == (s1 > 0):
                continue
            # the movement's own line must separate the segment's two ends too
            dx, dy = centre[0] - before[0], centre[1] - before[1]
            e1 = dx * (y1 - before[1]) - dy * (x1 - before[0])
            e2 = dx * (y2 - before[1]) - dy * (x2 - before[0])
            if e1 * e2 <= 0:
                self.crossings.append((track, "in" if s1 > 0 else "out"))

    def counts(self, names: dict[int, str]) -> dict[str, dict[str, int]]:
        """{class name: {'in': n, 'out': n}} given each track's class name."""
        counted: dict[str, dict[str, int]] = defaultdict(lambda: {"in": 0, "out": 0})
        for track, way in self.crossings:
            counted[names.get(track, "?")][way] += 1
        return dict(counted)


class SequenceTracks:
    """The confirmed tracks of one sequence, frame by frame, for its MOT file and summary."""

    def __init__(self) -> None:
        self.rows: list[np.ndarray] = []  # frame, id, x, y, w, h, score, model class

    def add(self, frame: int, tracks: np.ndarray) -> None:
        if len(tracks):
            x1, y1, x2, y2, ids, scores, classes = (tracks[:, k] for k in range(7))
            self.rows.append(np.stack([np.full(len(tracks), frame), ids, x1, y1, x2 - x1, y2 - y1, scores, classes], 1))

    def table(self) -> np.ndarray:
        """All rows, each track with one class: the one its scores sum highest for (ties: the lower class)."""
        rows = np.concatenate(self.rows) if self.rows else np.zeros((0, 8))
        for track in np.unique(rows[:, 1]):
            mine = rows[:, 1] == track
            classes, index = np.unique(rows[mine, 7], return_inverse=True)
            rows[mine, 7] = classes[np.argmax(np.bincount(index, weights=rows[mine, 6]))]
        return rows

    @staticmethod
    def mot_text(rows: np.ndarray) -> str:
        """VisDrone-MOT lines: frame,id,x,y,w,h,score,class,-1,-1 (class = model class + 1)."""
        return "".join(f"{int(f)},{int(i)},{x:.2f},{y:.2f},{w:.2f},{h:.2f},{s:.4f},{int(c) + 1},-1,-1\n" for f, i, x, y, w, h, s, c in rows)

    @staticmethod
    def classes(rows: np.ndarray) -> dict[int, int]:
        """{track id: model class}."""
        return {int(track): int(cls) for track, cls in zip(rows[:, 1], rows[:, 7])}


def summarise(rows: np.ndarray, names: dict[int, str]) -> dict[str, dict[str, float]]:
    """Per class (and 'all'): tracks, their mean length in frames, and objects (tracks of >= MIN_OBJECT_FRAMES frames)."""
    summary = {}
    groups = {names.get(int(c), str(int(c))): rows[rows[:, 7] == c] for c in np.unique(rows[:, 7])}
    for name, mine in {**groups, "all": rows}.items():
        lengths = np.unique(mine[:, 1], return_counts=True)[1]
        summary[name] = {"tracks": int(len(lengths)), "mean_length": float(lengths.mean()) if len(lengths) else 0.0,
                         "objects": int((lengths >= MIN_OBJECT_FRAMES).sum())}
    return summary


class DrawnVideo:
    """The frames with each track's box, ID and class, and a trail of its last centres; written under a temporary
    name and renamed once the sequence is done (an interrupted sequence leaves no video)."""

    def __init__(self, path: Path, fps: float, size: tuple[int, int], trail: int, line: tuple | None, names: dict[int, str], line_width: int | None) -> None:
        self.path, self.partial = path, path.with_name(f".{path.name}.partial.mp4")
        path.parent.mkdir(parents=True, exist_ok=True)
        self.writer = cv2.VideoWriter(str(self.partial), cv2.VideoWriter_fourcc(*"mp4v"), fps, size)
        if not self.writer.isOpened():
            raise DataError(f"{self.partial}: OpenCV cannot write an mp4 video here; expected a writable folder")
        self.trails: dict[int, deque] = defaultdict(lambda: deque(maxlen=max(trail, 1)))
        self.trail, self.line, self.names = trail, line, names
        self.thickness = line_width or max(1, round(min(size) / 400))

    def write(self, frame: np.ndarray, tracks: np.ndarray, counts: dict[str, dict[str, int]] | None) -> None:
        drawn = frame.copy()
        for x1, y1, x2, y2, track, _, cls, _ in tracks:
            colour = colors(int(track), True)
            trail = self.trails[int(track)]
            trail.append((int((x1 + x2) / 2), int((y1 + y2) / 2)))
            if self.trail > 1 and len(trail) > 1:
                cv2.polylines(drawn, [np.array(trail, np.int32)], False, colour, self.thickness)
            cv2.rectangle(drawn, (int(x1), int(y1)), (int(x2), int(y2)), colour, self.thickness)
            cv2.putText(drawn, f"{int(track)} {self.names.get(int(cls), int(cls))}", (int(x1), max(int(y1) - 3, 10)),
                        cv2.FONT_HERSHEY_SIMPLEX, 0.35 * self.thickness, colour, 1, cv2.LINE_AA)
        if self.line is not None:
            x1, y1, x2, y2 = (int(v) for v in self.line)
            cv2.line(drawn, (x1, y1), (x2, y2), (0, 255, 255), self.thickness + 1)
            text = "  ".join(f"{name} in {c['in']} out {c['out']}" for name, c in sorted((counts or {}).items()))
            cv2.putText(drawn, text, (5, 15), cv2.FONT_HERSHEY_SIMPLEX, 0.4 * self.thickness, (0, 255, 255), 1, cv2.LINE_AA)
        self.writer.write(drawn)

    def finish(self) -> None:
        self.writer.release()
        os.replace(self.partial, self.path)

    def abandon(self) -> None:
        self.writer.release()
        self.partial.unlink(missing_ok=True)
