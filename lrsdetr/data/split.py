"""Split one images + labels folder into train/val/test by ratios, reproducibly for a seed.

Files are hard-linked or copied, never moved, so the source stays whole. Images without a label file are
kept (as background); the split sizes round by largest remainder so they always add up to the image count.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field
from pathlib import Path

from tqdm import tqdm

from lrsdetr.data.files import link_or_copy, list_images, refuse_leftovers, refuse_shared_stems, require_folder, require_writable, texts_without_image, truncated_jpeg, truncated_warnings
from lrsdetr.data.yolo import label_file
from lrsdetr.utils.errors import DataError

SPLITS = ("train", "val", "test")


def split_sizes(count: int, ratios: tuple[float, float, float]) -> tuple[int, int, int]:
    """Image counts per split: floors of `count * ratio`, the leftover images going to the largest remainders."""
    numbers = len(ratios) == len(SPLITS) and all(isinstance(r, (int, float)) and math.isfinite(r) and r >= 0 for r in ratios)
    if not (numbers and math.isclose(sum(ratios), 1.0, abs_tol=1e-6)):
        raise DataError(f"ratios {tuple(ratios)}: expected 3 non-negative numbers (train, val, test) adding up to 1")
    exact = [count * r for r in ratios]
    sizes = [math.floor(x) for x in exact]
    by_remainder = sorted(range(len(SPLITS)), key=lambda i: sizes[i] - exact[i])  # stable: ties keep split order
    for i in by_remainder[: count - sum(sizes)]:
        sizes[i] += 1
    return tuple(sizes)


@dataclass
class SplitReport:
    sizes: dict[str, int] = field(default_factory=dict)
    background: int = 0
    labels_without_image: list[str] = field(default_factory=list)
    truncated_images: list[str] = field(default_factory=list)

    def summary(self) -> str:
        lines = [", ".join(f"{split} {n}" for split, n in self.sizes.items()) + f" images ({self.background} without labels, kept as background)"]
        return "\n".join([*lines, *(f"skipped (label without image): {name}" for name in self.labels_without_image), *truncated_warnings(self.truncated_images)])


def assign_splits(images: list[Path], ratios: tuple[float, float, float], seed: int) -> dict[str, list[Path]]:
    """Shuffle the name-sorted `images` with `seed` and cut them by `ratios`: the same inputs, the same split."""
    order = sorted(images, key=lambda p: p.name)
    random.Random(seed).shuffle(order)
    assignment, start = {}, 0
    for split, size in zip(SPLITS, split_sizes(len(order), ratios)):
        assignment[split] = sorted(order[start : start + size], key=lambda p: p.name)
        start += size
    return assignment


def split_dataset(image_dir: Path, label_dir: Path, out: Path, ratios: tuple[float, float, float] = (0.8, 0.1, 0.1), seed: int = 0, link: bool = True) -> SplitReport:
    """Write `out/images/<split>` and `out/labels/<split>` for train/val/test (a split of ratio 0 is not created)."""
    image_dir = require_folder(Path(image_dir), "image_path", "a folder of images")
    label_dir = require_folder(Path(label_dir), "label_path", "a folder of YOLO .txt labels")
    out = Path(out)
    if not isinstance(seed, int):
        raise DataError(f"seed {seed!r}: expected an integer")
    images = list_images(image_dir)
    if not images:
        raise DataError(f"image_path {image_dir}: no images")
    refuse_shared_stems(images, "image_path")
    assignment = {split: chosen for split, chosen in assign_splits(images, ratios, seed).items() if chosen}
    targets = [out / kind / split for split in assignment for kind in ("images", "labels")]
    for folder in targets:
        require_writable(folder, "out")
    for split, chosen in assignment.items():
        # an earlier split with other ratios or seed would leak images between splits
        refuse_leftovers(out / "images" / split, {p.name for p in chosen}, "out", "an empty or identically split out folder")
        refuse_leftovers(out / "labels" / split, {label_file(p, label_dir).name for p in chosen}, "out", "an empty or identically split out folder")

    report = SplitReport(labels_without_image=texts_without_image(label_dir, images))
    with tqdm(total=len(images), desc="split", unit="image") as progress:
        for split, chosen in assignment.items():
            for image in chosen:
                if truncated_jpeg(image):
                    report.truncated_images.append(image.name)
                labels = label_file(image, label_dir)
                # the label first: if writing stops between the two, no image is left that reads as background
                if labels.is_file():
                    link_or_copy(labels, label_file(image, out / "labels" / split), link=link)
                else:
                    report.background += 1
                link_or_copy(image, out / "images" / split / image.name, link=link)
                progress.update()
            report.sizes[split] = len(chosen)
    return report
