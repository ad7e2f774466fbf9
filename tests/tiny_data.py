"""A tiny YOLO dataset drawn by the tests: coloured rectangles on a noisy background."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

COLOURS = [(40, 40, 220), (40, 200, 40), (220, 60, 40)]  # BGR, one per class


def write_tiny_dataset(root: Path, n_train: int = 8, n_val: int = 4, size: int = 128, seed: int = 0, nc: int = 3) -> Path:
    """Write images/{train,val}, labels/{train,val} and data.yaml under `root`; return the yaml path."""
    rng = np.random.default_rng(seed)
    for split, count in (("train", n_train), ("val", n_val)):
        (root / "images" / split).mkdir(parents=True, exist_ok=True)
        (root / "labels" / split).mkdir(parents=True, exist_ok=True)
        for i in range(count):
            image = rng.integers(90, 140, (size, size, 3), dtype=np.uint8)
            lines = []
            for _ in range(rng.integers(2, 5)):
                cls = int(rng.integers(0, nc))
                w, h = (int(v) for v in rng.integers(size // 10, size // 3, 2))
                x, y = int(rng.integers(0, size - w)), int(rng.integers(0, size - h))
                cv2.rectangle(image, (x, y), (x + w - 1, y + h - 1), COLOURS[cls % len(COLOURS)], -1)
                lines.append(f"{cls} {(x + w / 2) / size:.6f} {(y + h / 2) / size:.6f} {w / size:.6f} {h / size:.6f}")
            cv2.imwrite(str(root / "images" / split / f"{i:04d}.jpg"), image)
            (root / "labels" / split / f"{i:04d}.txt").write_text("\n".join(lines) + "\n")
    names = "\n".join(f"  {i}: class{i}" for i in range(nc))
    data_yaml = root / "data.yaml"
    data_yaml.write_text(f"path: {root}\ntrain: images/train\nval: images/val\nnames:\n{names}\n")
    return data_yaml
