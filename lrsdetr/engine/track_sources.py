"""What track.py tracks: the sequences a --source names, each checked before anything is written.

A sequence is a video file, or a folder of frames (VisDrone-MOT's sequences/<name>/0000001.jpg ...; frames in name
order). --source is one of them, a folder of them (a folder of sequence folders and/or videos: VisDrone-MOT's
sequences/), or a glob. Before the first frame is tracked, every video must open with a frame rate from 1 to 1000
frames per second (or --fps) and its first frame must decode; every frame of a folder must be readable and of one
size. A video cut short is found when its frames run out before the count its header gives: that sequence then
fails with one line, and the sequences finished before it are kept.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass
from glob import glob
from pathlib import Path

import cv2
import numpy as np
from ultralytics.data.utils import VID_FORMATS

from ..data.files import IMAGE_SUFFIXES, image_size, list_images
from ..utils.errors import DataError

FRAMES_FPS = 30.0  # the drawn video's frame rate for a folder of frames, unless --fps says otherwise
MAX_FPS = 1000.0


@dataclass(frozen=True)
class SourceSequence:
    """One sequence: its name (the video's stem or the folder's name), where it is, its frames (a folder's files;
    empty for a video), their count, frame rate and size (width, height)."""

    name: str
    path: Path
    frames: tuple[Path, ...]
    count: int
    fps: float
    size: tuple[int, int]

    @property
    def is_video(self) -> bool:
        return not self.frames

    def read(self) -> Iterator[np.ndarray]:
        """The frames, BGR; a video that yields fewer than its count is a DataError (truncated)."""
        if not self.is_video:
            for path in self.frames:
                frame = cv2.imread(str(path))
                if frame is None:
                    raise DataError(f"--source {path}: this frame no longer decodes; expected the frames checked at the start")
                yield frame
            return
        capture = cv2.VideoCapture(str(self.path))
        read = 0
        try:
            while True:
                ok, frame = capture.read()
                if not ok:
                    break
                read += 1
                yield frame
        finally:
            capture.release()
        if read < self.count:
            raise DataError(f"--source {self.path}: truncated video, {read} of the {self.count} frames its header gives could be read; "
                            "expected a whole video (re-encode or re-download it)")


def _is_video(path: Path) -> bool:
    return path.is_file() and path.suffix.lower().lstrip(".") in VID_FORMATS


def _frame_rate(fps: float | None, own: float, where: str) -> float:
    """--fps when given, else the video's own; either must be a number of frames per second from 1 to 1000."""
    rate = own if fps is None else fps
    if not (isinstance(rate, (int, float)) and math.isfinite(rate) and 1 <= rate <= MAX_FPS):
        said = f"--fps {fps}" if fps is not None else f"its frame rate reads {own:g}"
        raise DataError(f"{where}: {said}; expected 1 to {MAX_FPS:g} frames per second (give --fps for a video whose header is wrong)")
    return float(rate)


def video_sequence(path: Path, fps: float | None) -> SourceSequence:
    capture = cv2.VideoCapture(str(path))
    try:
        ok, frame = capture.read() if capture.isOpened() else (False, None)
        own, count = capture.get(cv2.CAP_PROP_FPS), int(capture.get(cv2.CAP_PROP_FRAME_COUNT))
    finally:
        capture.release()
    if not ok:
        raise DataError(f"--source {path}: OpenCV cannot read a frame of this video (unreadable, empty or cut short); expected a playable video")
    return SourceSequence(path.stem, path, (), max(count, 1), _frame_rate(fps, own, f"--source {path}"), (frame.shape[1], frame.shape[0]))


def frames_sequence(folder: Path, fps: float | None, frames: list[Path] | None = None) -> SourceSequence:
    """The frames in `folder` (or the image files `frames` a glob named there), in name order."""
    frames = sorted(frames) if frames is not None else list_images(folder)
    if not frames:
        raise DataError(f"--source {folder}: no frames (expected images such as 0000001.jpg, or videos, or folders of them)")
    size = None
    for frame in frames:
        here = image_size(frame)
        if here is None:
            raise DataError(f"--source {frame}: cannot read this frame; expected an image (JPEG, PNG, ...) that decodes")
        if size is not None and here != size:
            raise DataError(f"--source {frame}: {here[0]}x{here[1]} px, but the frames before it are {size[0]}x{size[1]}; "
                            "expected frames of one size in a sequence")
        size = here
    return SourceSequence(folder.name, folder, tuple(frames), len(frames), _frame_rate(fps, FRAMES_FPS, f"--source {folder}"), size)


def _sequence(path: Path, fps: float | None) -> list[SourceSequence]:
    """The sequence(s) at `path`: a video, a folder of frames, or a folder of those."""
    if _is_video(path):
        return [video_sequence(path, fps)]
    if path.is_file():
        raise DataError(f"--source {path}: not a video (expected one of {', '.join(sorted(VID_FORMATS))}, a folder of frames, or a folder of those)")
    if list_images(path):
        return [frames_sequence(path, fps)]
    inner = sorted(p for p in path.iterdir() if _is_video(p) or (p.is_dir() and not p.name.startswith(".")))
    sequences = [s for p in inner for s in ([video_sequence(p, fps)] if _is_video(p) else [frames_sequence(p, fps)] if list_images(p) else [])]
    if not sequences:
        raise DataError(f"--source {path}: no frames, videos or folders of frames in it")
    return sequences


def find_sequences(source: str, fps: float | None = None) -> list[SourceSequence]:
    """Every sequence `source` names (a path or a glob), checked; their names must differ (they name the outputs)."""
    paths = [Path(source)] if Path(source).exists() else sorted(Path(p) for p in glob(source))
    if not paths:
        raise DataError(f"--source {source}: no such file or folder (expected a video, a folder of frames, a folder of those, or a glob)")
    images = [p for p in paths if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES]  # a glob of frames: one sequence
    sequences = [frames_sequence(images[0].parent, fps, images)] if images else []
    sequences += [s for p in paths if p not in images for s in _sequence(p, fps)]
    seen: dict[str, Path] = {}
    for sequence in sequences:
        if sequence.name in seen:
            raise DataError(f"--source {source}: {seen[sequence.name]} and {sequence.path} are both sequence {sequence.name!r}; "
                            "their outputs would share a name, rename one")
        seen[sequence.name] = sequence.path
    return sequences


def source_paths(sequences: list[SourceSequence]) -> list[Path]:
    """What tracking reads: the videos and frame folders (the guard keeps every output out of them)."""
    return [sequence.path for sequence in sequences]
