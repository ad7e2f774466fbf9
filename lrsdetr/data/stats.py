"""What a YOLO data set holds: images, objects per image, per-class counts, and box sizes by COCO area range.

Small-object detection lives or dies by the share of small boxes, so sizes are counted the COCO way
(area in pixels of the image as displayed: small < 32^2, medium < 96^2, large otherwise), per class.

    lrsdetr stats --folder DIR [--data data.yaml] [--out stats.png]   (also: python -m lrsdetr.data.stats DIR ...)

DIR is a YOLO images folder (or a root holding one); labels are found as Ultralytics finds them, in the
`labels` folder beside the last `images` folder of each image's path.
"""

from __future__ import annotations

import io
import sys
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from matplotlib.figure import Figure
from tqdm import tqdm

from lrsdetr.data.files import (
    IMAGE_SUFFIXES,
    BadLines,
    image_size,
    require_folder,
    require_writable,
    truncated_jpeg,
    truncated_warnings,
    write_bytes_atomic,
)
from lrsdetr.data.visdrone import VISDRONE_NAMES
from lrsdetr.data.yolo import label_folder, label_path, read_class_names, read_yolo_labels
from lrsdetr.utils.command import Command
from lrsdetr.utils.errors import DataError
from lrsdetr.utils.guard import CommandPaths

SIZE_RANGES = (("small", 0.0, 32.0**2), ("medium", 32.0**2, 96.0**2), ("large", 96.0**2, float("inf")))


def size_range(area: float) -> str:
    """COCO's name for a box of `area` square pixels."""
    return next(name for name, low, high in SIZE_RANGES if low <= area < high)


@dataclass
class DatasetStats:
    names: list[str]
    objects_per_image: list[int] = field(default_factory=list)
    boxes: list[tuple[int, float]] = field(default_factory=list)  # (class, area in pixels)
    unreadable_images: list[str] = field(default_factory=list)
    truncated_images: list[str] = field(default_factory=list)

    def counts(self) -> dict[str, Counter]:
        """Per class name: box counts by size range ('small', 'medium', 'large')."""
        table = {name: Counter() for name in self.names}
        for cls, area in self.boxes:
            table[self.names[cls]][size_range(area)] += 1
        return table

    def share(self, size: str) -> float:
        """Fraction of all boxes in the COCO size range `size` (0 when there are no boxes)."""
        return sum(size_range(area) == size for _, area in self.boxes) / max(len(self.boxes), 1)

    def table(self) -> str:
        per_image = np.array(self.objects_per_image or [0])
        lines = [
            f"images: {len(self.objects_per_image)}   objects: {len(self.boxes)}   per image: mean {per_image.mean():.1f}, max {per_image.max()}",
            f"{'class':<16}{'count':>8}{'small':>8}{'medium':>8}{'large':>8}",
        ]
        counts = self.counts()
        for name, sizes in [*counts.items(), ("all", sum(counts.values(), Counter()))]:
            lines.append(f"{name:<16}{sum(sizes.values()):>8}" + "".join(f"{sizes[s]:>8}" for s, _, _ in SIZE_RANGES))
        lines.append("share: " + ", ".join(f"{s} {self.share(s):.1%}" for s, _, _ in SIZE_RANGES))
        lines += [f"skipped (unreadable image): {name}" for name in self.unreadable_images]
        lines += truncated_warnings(self.truncated_images)
        return "\n".join(lines)

    def plot_png(self) -> bytes:
        """Three panels (per-class counts by size, objects per image, box size histogram) as PNG bytes."""
        colours = {"small": "tab:red", "medium": "tab:orange", "large": "tab:blue"}
        fig = Figure(figsize=(15, 4.5))  # no pyplot: leaves the caller's backend and figures alone
        by_class, per_image, sizes = fig.subplots(1, 3)
        counts, left = self.counts(), np.zeros(len(self.names))
        for size, _, _ in SIZE_RANGES:
            values = np.array([counts[name][size] for name in self.names])
            by_class.barh(self.names, values, left=left, color=colours[size], label=size)
            left += values
        by_class.invert_yaxis()
        by_class.set(title="objects per class", xlabel="boxes")
        by_class.legend()
        per_image.hist(self.objects_per_image, bins=20, color="tab:gray")
        per_image.set(title=f"objects per image ({len(self.objects_per_image)} images)", xlabel="objects", ylabel="images")
        sides = np.sqrt([area for _, area in self.boxes]) if self.boxes else np.zeros(0)
        bins = np.linspace(0, max(128.0, float(sides.max(initial=0))), 40)
        for size, low, high in SIZE_RANGES:
            sizes.hist(sides[(sides**2 >= low) & (sides**2 < high)], bins=bins, color=colours[size], label=size)
        for edge in (32, 96):
            sizes.axvline(edge, color="black", linewidth=0.8, linestyle="--")
        sizes.set(title="box size (COCO ranges)", xlabel="sqrt(area) in pixels", ylabel="boxes")
        sizes.legend()
        fig.tight_layout()
        buffer = io.BytesIO()
        fig.savefig(buffer, format="png", dpi=100, metadata={"Software": None})
        return buffer.getvalue()


def dataset_stats(folder: Path, names: list[str] | tuple[str, ...] = VISDRONE_NAMES) -> DatasetStats:
    """Statistics of every image under `folder` (recursively) and its YOLO labels; no label file = background."""
    folder = require_folder(Path(folder), "folder", "a YOLO images folder")
    images = sorted(p for p in folder.rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES and p.is_file())
    if not images:
        raise DataError(f"folder {folder}: no images")
    stats, bad = DatasetStats(list(names)), BadLines()
    for image in tqdm(images, desc="stats", unit="image"):
        size = image_size(image)
        if size is None:
            stats.unreadable_images.append(str(image))
            continue
        if truncated_jpeg(image):
            stats.truncated_images.append(str(image))
        labels = label_path(image)
        boxes = read_yolo_labels(labels, bad, nc=len(names)) if labels.is_file() else []
        stats.objects_per_image.append(len(boxes))
        stats.boxes += [(box.cls, box.w * size[0] * box.h * size[1]) for box in boxes]
    return stats


STATS_DOC = """Statistics of a YOLO data set: images, objects per image, per-class counts and box sizes (COCO area ranges),
printed as a table and plotted.

Example: lrsdetr stats --folder dataset/images/train --data dataset/data.yaml --out train_stats.png
--folder is a YOLO images folder (or a root holding one); the labels are found as Ultralytics finds them.
"""

STATS_DEFAULTS = {"folder": "dataset/images", "data": None, "out": "dataset_stats.png"}


def report(params: dict) -> None:
    """Print the table, save the plot."""
    folder, data = Path(params["folder"]), params["data"]
    stats = dataset_stats(folder, read_class_names(Path(data)) if data else VISDRONE_NAMES)
    print(stats.table())
    write_bytes_atomic(Path(params["out"]), stats.plot_png())
    print(f"plot saved to {params['out']}")


def stats_paths(params: dict) -> CommandPaths:
    """Reads the images, their labels and the data.yaml; writes the plot."""
    folder = Path(params["folder"])
    require_writable(Path(params["out"]), "--out", is_file=True)
    return CommandPaths(params).reads("--folder", folder, label_folder(folder)).reads("--data", params["data"]).writes("--out", params["out"])


COMMAND = Command("stats", "statistics of a YOLO data set: objects, classes, box sizes", STATS_DOC, STATS_DEFAULTS, stats_paths, report)


def main(argv: list[str] | None = None) -> int:
    """`python -m lrsdetr.data.stats DIR [--data ...] [--out ...]`: the older spelling of `lrsdetr stats --folder DIR ...`."""
    argv = list(sys.argv[1:] if argv is None else argv)
    return COMMAND(["--folder", *argv] if argv and not argv[0].startswith("-") else argv)


if __name__ == "__main__":
    raise SystemExit(main())
