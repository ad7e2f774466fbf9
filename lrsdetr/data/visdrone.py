"""VisDrone-DET annotations to YOLO labels (ARCHITECTURE.md section 5).

A native line is `left,top,width,height,score,category,truncation,occlusion` in pixels. Categories 1..10 are
the ten classes (YOLO class = category - 1); 0 marks an ignored region (a crowd or a far-off area nobody
labelled) and 11 "others": neither is a label. Ignored regions can also be painted with the image mean, since
an unlabelled crowd left in the picture teaches the detector that people are background.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np
from tqdm import tqdm

from lrsdetr.data.files import BadLines, image_size, link_or_copy, list_images, parse_lines, refuse_leftovers, refuse_shared_stems, require_folder, require_writable, texts_without_image, truncated_jpeg, truncated_warnings, write_bytes_atomic, write_text_atomic
from lrsdetr.data.yolo import clip_box, label_file, yolo_line
from lrsdetr.utils.errors import DataError

VISDRONE_NAMES = ("pedestrian", "people", "bicycle", "car", "van", "truck", "tricycle", "awning-tricycle", "bus", "motor")
IGNORED_REGION = 0
OTHERS = 11
# A label at least this much inside painted-over ignored regions shows nothing left to detect (the VisDrone
# toolkit uses the same half-overlap rule to discard boxes in ignored regions).
MASKED_OUT_FRACTION = 0.5
JPEG_QUALITY = 95


@dataclass(frozen=True)
class VisDroneBox:
    """One annotation line; coordinates in pixels of the image as displayed (EXIF orientation applied)."""

    left: float
    top: float
    width: float
    height: float
    score: int
    category: int
    truncation: int
    occlusion: int

    def clipped(self, width: int, height: int) -> tuple[float, float, float, float]:
        """(x1, y1, x2, y2) clipped to a `width` x `height` image (may be empty: x2 <= x1 or y2 <= y1)."""
        return clip_box(self.left, self.top, self.left + self.width, self.top + self.height, width, height)

    def line(self) -> str:
        """The native text line (integer pixel values print without a decimal point, as in VisDrone's files)."""
        values = (self.left, self.top, self.width, self.height, self.score, self.category, self.truncation, self.occlusion)
        return ",".join(str(int(v)) if float(v).is_integer() else str(v) for v in values)


def _parse(text: str) -> VisDroneBox:
    fields = text.strip().split(",")
    if len(fields) == 9 and fields[-1].strip() == "":  # some VisDrone files end their lines with a comma
        fields = fields[:8]
    if len(fields) != 8:
        raise ValueError(f"expected 8 comma-separated fields 'left,top,width,height,score,category,truncation,occlusion', got {len(fields)}")
    try:
        left, top, width, height = (float(f) for f in fields[:4])
        score, category, truncation, occlusion = (int(f) for f in fields[4:])
    except ValueError:
        raise ValueError(f"expected 4 numbers and 4 integers, got {text.strip()!r}") from None
    if not all(math.isfinite(v) for v in (left, top, width, height)):
        raise ValueError(f"expected finite coordinates, got {text.strip()!r}")
    if width < 0 or height < 0:
        raise ValueError(f"expected a width and height >= 0, got {width:g} x {height:g}")
    if not IGNORED_REGION <= category <= OTHERS:
        raise ValueError(f"expected a category 0..11, got {category}")
    return VisDroneBox(left, top, width, height, score, category, truncation, occlusion)


def read_visdrone_annotation(path: Path, bad: BadLines) -> list[VisDroneBox]:
    """The boxes of one annotation file (blank lines ignored; a malformed line goes to `bad`)."""
    return parse_lines(path, _parse, bad)


@dataclass
class ConversionReport:
    """What a conversion wrote and what it left out, and why."""

    images: int = 0
    labels: int = 0
    ignored_regions: int = 0
    others: int = 0
    degenerate: int = 0
    masked_out: int = 0
    missing_images: list[str] = field(default_factory=list)
    unreadable_images: list[str] = field(default_factory=list)
    missing_annotations: list[str] = field(default_factory=list)
    truncated_images: list[str] = field(default_factory=list)
    bad_lines: BadLines = field(default_factory=BadLines)

    def summary(self) -> str:
        lines = [
            f"{self.images} images, {self.labels} labels written; not labels: {self.ignored_regions} ignored regions, "
            f"{self.others} 'others', {self.degenerate} empty after clipping, {self.masked_out} inside painted ignored regions"
        ]
        for title, names in (("annotation without image", self.missing_images), ("unreadable image", self.unreadable_images), ("image without annotation", self.missing_annotations)):
            lines += [f"skipped ({title}): {name}" for name in names]
        return "\n".join(filter(None, [*lines, *truncated_warnings(self.truncated_images), self.bad_lines.summary()]))


def _pixel_box(x1: float, y1: float, x2: float, y2: float) -> tuple[slice, slice]:
    """Rows and columns of the pixels a box touches."""
    return slice(math.floor(y1), math.ceil(y2)), slice(math.floor(x1), math.ceil(x2))


def _ignored_mask(boxes: list[VisDroneBox], width: int, height: int) -> np.ndarray:
    mask = np.zeros((height, width), dtype=bool)
    for box in boxes:
        if box.category == IGNORED_REGION:
            mask[_pixel_box(*box.clipped(width, height))] = True
    return mask


def yolo_lines(boxes: list[VisDroneBox], width: int, height: int, report: ConversionReport, masked: np.ndarray | None = None) -> list[str]:
    """YOLO label lines for one image's boxes; counts what is left out in `report`.

    Boxes are clipped to the image and dropped when nothing is left; with `masked` (the painted ignored regions)
    a label at least half painted over is dropped too.
    """
    lines = []
    for box in boxes:
        if box.category == IGNORED_REGION:
            report.ignored_regions += 1
            continue
        if box.category == OTHERS:
            report.others += 1
            continue
        x1, y1, x2, y2 = box.clipped(width, height)
        if x2 <= x1 or y2 <= y1:
            report.degenerate += 1
            continue
        if masked is not None and masked[_pixel_box(x1, y1, x2, y2)].mean() >= MASKED_OUT_FRACTION:
            report.masked_out += 1
            continue
        lines.append(yolo_line(box.category - 1, x1, y1, x2, y2, width, height))
    report.labels += len(lines)
    return lines


def _masked_image(source: Path, masked: np.ndarray) -> bytes | None:
    """`source` upright (EXIF orientation applied: boxes are in displayed pixels) with the `masked` pixels painted
    in the image mean, encoded in its own format; None when it cannot be decoded."""
    image = cv2.imdecode(np.fromfile(source, dtype=np.uint8), cv2.IMREAD_COLOR)
    if image is None:
        return None
    image[masked] = np.round(image.reshape(-1, 3).mean(axis=0)).astype(np.uint8)
    ok, encoded = cv2.imencode(source.suffix, image, [cv2.IMWRITE_JPEG_QUALITY, JPEG_QUALITY])
    if not ok:
        raise DataError(f"{source}: OpenCV cannot write '{source.suffix}' images (expected a common format such as .jpg or .png)")
    return encoded.tobytes()


def _check_split_name(split: str) -> None:
    if not split or split in (".", "..") or any(c in split for c in "/\\"):
        raise DataError(f"split {split!r}: expected a plain folder name such as train, val or test")


def convert_visdrone(src: Path, out: Path, split: str, mask_ignored: bool = False, skip_bad: bool = False, link: bool = True) -> ConversionReport:
    """Convert a VisDrone-DET folder (`images/`, `annotations/`) into `out/images/<split>` and `out/labels/<split>`.

    Images are hard-linked where the file system allows (copied otherwise; painted copies with `mask_ignored`).
    Every annotation is parsed before anything is written, so a malformed line stops the run with nothing half
    done. Nothing under `src` is written; re-running gives the same bytes.
    """
    src, out = Path(src), Path(out)
    _check_split_name(split)
    image_dir = require_folder(src / "images", "src", "a VisDrone-DET folder with images/ and annotations/")
    annotation_dir = require_folder(src / "annotations", "src", "a VisDrone-DET folder with images/ and annotations/")
    out_images, out_labels = out / "images" / split, out / "labels" / split
    for folder in (out_images, out_labels):
        require_writable(folder, "out")

    report = ConversionReport(bad_lines=BadLines(skip_bad))
    images = list_images(image_dir)
    if not images:
        raise DataError(f"src {image_dir}: no images (expected VisDrone .jpg files)")
    refuse_shared_stems(images, "src")
    report.missing_images = texts_without_image(annotation_dir, images)
    annotations = {}
    for image in images:
        annotation = label_file(image, annotation_dir)
        if annotation.is_file():
            annotations[image] = read_visdrone_annotation(annotation, report.bad_lines)
        else:
            report.missing_annotations.append(image.name)
    # files of an earlier run whose image has since left the source would stay in the data set unseen
    wanted = "an empty folder or one converted from the same source"
    refuse_leftovers(out_images, {image.name for image in annotations}, "out", wanted)
    refuse_leftovers(out_labels, {label_file(image, out_labels).name for image in annotations}, "out", wanted)

    for image, boxes in tqdm(annotations.items(), desc=f"visdrone2yolo {split}", unit="image"):
        size = image_size(image)
        if size is None:
            report.unreadable_images.append(image.name)
            continue
        if truncated_jpeg(image):
            report.truncated_images.append(image.name)
        masked = _ignored_mask(boxes, *size) if mask_ignored else None
        painted = None
        if masked is not None and masked.any():
            painted = _masked_image(image, masked)
            if painted is None:
                report.unreadable_images.append(image.name)
                continue
        lines = yolo_lines(boxes, *size, report, masked)
        # the label first: if writing stops between the two, no image is left that reads as background
        write_text_atomic(label_file(image, out_labels), "".join(f"{line}\n" for line in lines))
        if painted is not None:
            write_bytes_atomic(out_images / image.name, painted)
        else:
            link_or_copy(image, out_images / image.name, link=link)
        report.images += 1
    return report
