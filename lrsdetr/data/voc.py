"""Pascal VOC XML annotations to YOLO labels, with class names taken from a data.yaml.

VOC boxes are `xmin ymin xmax ymax` in pixels of the image size given in the XML's `<size>`; they are read
as box edges (no 1-based shift), clipped to the image, and dropped (counted) when nothing is left.
"""

from __future__ import annotations

import math
import xml.etree.ElementTree as ElementTree
from dataclasses import dataclass, field
from pathlib import Path

from tqdm import tqdm

from lrsdetr.data.files import BadLines, refuse_leftovers, require_folder, require_writable, write_text_atomic
from lrsdetr.data.yolo import clip_box, yolo_line
from lrsdetr.utils.errors import DataError


@dataclass(frozen=True)
class VocObject:
    name: str
    xmin: float
    ymin: float
    xmax: float
    ymax: float


@dataclass(frozen=True)
class VocAnnotation:
    width: int
    height: int
    objects: list[VocObject]


def _number(element: ElementTree.Element, tag: str) -> float:
    text = element.findtext(tag)
    if text is None:
        raise ValueError(f"expected a <{tag}> element")
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not math.isfinite(value):
        raise ValueError(f"expected a finite number in <{tag}>, got {text.strip()!r}")
    return value


def read_voc(path: Path, bad: BadLines) -> VocAnnotation:
    """One VOC file; a malformed `<object>` goes to `bad`, a file without a usable `<size>` is an error."""
    try:
        root = ElementTree.parse(path).getroot()
    except ElementTree.ParseError as error:
        raise DataError(f"{path}:{error.position[0]}: not well-formed XML ({error})") from None
    size = root.find("size")
    try:
        width, height = (int(_number(size, tag)) for tag in ("width", "height")) if size is not None else (0, 0)
    except ValueError as problem:
        raise DataError(f"{path}: <size>: {problem}") from None
    if width <= 0 or height <= 0:
        raise DataError(f"{path}: expected <size> with a positive <width> and <height>")
    objects = []
    for number, element in enumerate(root.iter("object"), start=1):
        try:
            name = (element.findtext("name") or "").strip()
            box = element.find("bndbox")
            if not name or box is None:
                raise ValueError("expected <name> and <bndbox>")
            objects.append(VocObject(name, *(_number(box, tag) for tag in ("xmin", "ymin", "xmax", "ymax"))))
        except ValueError as problem:
            bad.report(f"{path}: object {number}", str(problem))
    return VocAnnotation(width, height, objects)


@dataclass
class VocReport:
    files: int = 0
    labels: int = 0
    degenerate: int = 0
    bad_lines: BadLines = field(default_factory=BadLines)

    def summary(self) -> str:
        return "\n".join(filter(None, [f"{self.files} files, {self.labels} labels written, {self.degenerate} empty after clipping", self.bad_lines.summary()]))


def yolo_lines(annotation: VocAnnotation, class_index: dict[str, int], path: Path, report: VocReport) -> list[str]:
    """Label lines for one file; an object whose name is not a class is a DataError naming the file and class."""
    lines = []
    for obj in annotation.objects:
        if obj.name not in class_index:
            raise DataError(f"{path}: unknown class {obj.name!r} (expected one of the data.yaml names: {', '.join(class_index)})")
        x1, y1, x2, y2 = clip_box(obj.xmin, obj.ymin, obj.xmax, obj.ymax, annotation.width, annotation.height)
        if x2 <= x1 or y2 <= y1:
            report.degenerate += 1
            continue
        lines.append(yolo_line(class_index[obj.name], x1, y1, x2, y2, annotation.width, annotation.height))
    return lines


def convert_voc(src: Path, out: Path, names: list[str], skip_bad: bool = False) -> VocReport:
    """Write `out/<stem>.txt` for every `src/*.xml`; every file is read and checked before anything is written."""
    src, out = require_folder(Path(src), "src", "a folder of Pascal VOC .xml files"), Path(out)
    require_writable(out, "out")
    report = VocReport(bad_lines=BadLines(skip_bad))
    class_index = {name: cls for cls, name in enumerate(names)}
    files = sorted(src.glob("*.xml"))
    if not files:
        raise DataError(f"src {src}: no .xml files (expected Pascal VOC annotations)")
    labels = {}
    for path in files:
        labels[path.stem] = yolo_lines(read_voc(path, report.bad_lines), class_index, path, report)
    refuse_leftovers(out, {f"{stem}.txt" for stem in labels}, "out", "an empty folder or one converted from the same annotations")
    for stem, lines in tqdm(labels.items(), desc="xml2txt", unit="file"):
        write_text_atomic(out / f"{stem}.txt", "".join(f"{line}\n" for line in lines))
        report.labels += len(lines)
    report.files = len(labels)
    return report
