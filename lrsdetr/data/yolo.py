"""The YOLO format Ultralytics trains on: one `class cx cy w h` line per box, normalised to the image size,
and class names in a data.yaml.

Every converter formats and parses labels here, so all of them agree on the 6-decimal text and on what a
malformed line is.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import yaml

from lrsdetr.data.files import BadLines, parse_lines
from lrsdetr.utils.errors import DataError


@dataclass(frozen=True)
class YoloBox:
    """One label: class index and centre/size as fractions of the image width and height."""

    cls: int
    cx: float
    cy: float
    w: float
    h: float

    def to_pixels(self, width: int, height: int) -> tuple[float, float, float, float]:
        """(left, top, width, height) in pixels of a `width` x `height` image (the COCO bbox)."""
        w, h = self.w * width, self.h * height
        return self.cx * width - w / 2, self.cy * height - h / 2, w, h


def clip_box(x1: float, y1: float, x2: float, y2: float, width: int, height: int) -> tuple[float, float, float, float]:
    """(x1, y1, x2, y2) clipped to a `width` x `height` image (may be empty: x2 <= x1 or y2 <= y1)."""
    return max(x1, 0.0), max(y1, 0.0), min(x2, float(width)), min(y2, float(height))


def yolo_line(cls: int, x1: float, y1: float, x2: float, y2: float, width: int, height: int) -> str:
    """The label line for the pixel box (x1, y1)-(x2, y2) in a `width` x `height` image."""
    return f"{cls} {(x1 + x2) / 2 / width:.6f} {(y1 + y2) / 2 / height:.6f} {(x2 - x1) / width:.6f} {(y2 - y1) / height:.6f}"


def label_file(image: Path, label_dir: Path) -> Path:
    """Where the labels of `image` live: same stem, `.txt`, in `label_dir`."""
    return label_dir / f"{image.stem}.txt"


def label_path(image: Path) -> Path:
    """Ultralytics' rule: the last `images` folder in the path becomes `labels`, the suffix `.txt`."""
    parts = list(image.parts)
    if "images" not in parts[:-1]:
        raise DataError(f"{image}: no 'images' folder in the path, so its labels cannot be found (expected .../images/.../name.jpg)")
    index = len(parts) - 2 - parts[-2::-1].index("images")
    parts[index] = "labels"
    return Path(*parts).with_suffix(".txt")


def label_folder(folder: Path) -> Path:
    """The folder holding the labels of the images under `folder` (itself when they sit inside it)."""
    return label_path(Path(folder) / "x.jpg").parent if "images" in Path(folder).parts else Path(folder)


def _parse(text: str, nc: int | None) -> YoloBox:
    fields = text.split()
    if len(fields) != 5:
        raise ValueError(f"expected 5 fields 'class cx cy w h', got {len(fields)}")
    try:
        number, cx, cy, w, h = (float(f) for f in fields)
    except ValueError:
        raise ValueError(f"expected an integer class and 4 numbers, got {text.strip()!r}") from None
    if not number.is_integer():  # '1.0' is class 1, as Ultralytics reads it; '1.5' is no class
        raise ValueError(f"expected an integer class, got {fields[0]!r}")
    cls = int(number)
    if cls < 0 or (nc is not None and cls >= nc):
        raise ValueError(f"expected a class index {'>= 0' if nc is None else f'0..{nc - 1}'}, got {cls}")
    if not all(math.isfinite(v) and 0 <= v <= 1 for v in (cx, cy, w, h)):
        raise ValueError(f"expected normalised coordinates in 0..1, got {text.strip()!r}")
    if w <= 0 or h <= 0:
        raise ValueError(f"expected a positive width and height, got w={w} h={h}")
    return YoloBox(cls, cx, cy, w, h)


def read_yolo_labels(path: Path, bad: BadLines, nc: int | None = None) -> list[YoloBox]:
    """The boxes of one label file (blank lines ignored; a malformed line, or a class not below `nc`, goes to `bad`)."""
    return parse_lines(path, partial(_parse, nc=nc), bad)


def read_class_names(data_yaml: Path) -> list[str]:
    """The class names of an Ultralytics data.yaml, in class-index order (`names` as a list or an index map)."""
    try:
        data = yaml.safe_load(Path(data_yaml).read_text(encoding="utf-8"))
    except OSError:
        raise DataError(f"data {data_yaml}: cannot read the file (expected an Ultralytics data.yaml)") from None
    except yaml.YAMLError as error:
        raise DataError(f"data {data_yaml}: not valid YAML ({' '.join(str(error).split())})") from None
    names = data.get("names") if isinstance(data, dict) else None
    if isinstance(names, dict) and sorted(names) == list(range(len(names))):
        return [str(names[i]) for i in range(len(names))]
    if isinstance(names, list) and names:
        return [str(name) for name in names]
    raise DataError(f"data {data_yaml}: expected a 'names' list or a map 0..n-1 -> name")
