"""Time lrsdetr.eval.visdrone.evaluate on a VisDrone-val-sized set: 548 images, ~73 objects and 500 detections each.

Example: python benchmarks/visdrone_eval.py --workdir /tmp/visdrone_bench
The set is drawn once into --workdir (2000x1500 blank JPEGs, annotations with ignored regions and score-0 boxes
in VisDrone's class frequencies, a few images crowded with hundreds of objects, result files of 500 rows sorted by score: 60% near an object, the rest
anywhere), then reading + scoring is timed. The target is under 60 s on 2 CPU cores.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
from PIL import Image

from lrsdetr.eval.visdrone import evaluate
from lrsdetr.utils.command import Command
from lrsdetr.utils.guard import CommandPaths

DEFAULTS = {"workdir": "/tmp/visdrone_eval_bench", "images": 548, "objects": 73, "detections": 500}

# Share of each category 1..10 among VisDrone-DET val objects (pedestrian ... motor), roughly.
CLASS_SHARE = np.array([0.23, 0.13, 0.03, 0.36, 0.05, 0.02, 0.02, 0.01, 0.01, 0.14])


def _lines(rows: np.ndarray, integer: bool) -> str:
    return "".join(",".join(str(int(v)) if integer or float(v).is_integer() else f"{v:.2f}" for v in row) + "\n" for row in rows)


def draw_set(root: Path, images: int, objects: int, detections: int, seed: int = 0) -> Path:
    """Write root/images, root/annotations, root/results (skipped when root/results is already complete)."""
    rng = np.random.default_rng(seed)
    folders = {name: root / name for name in ("images", "annotations", "results")}
    if folders["results"].is_dir() and len(list(folders["results"].glob("*.txt"))) == images:
        return root
    for folder in folders.values():
        folder.mkdir(parents=True, exist_ok=True)
    width, height = 2000, 1500
    blank = root / "blank.jpg"
    Image.new("RGB", (width, height)).save(blank, quality=50)
    for k in range(images):
        stem = f"{k:07d}_00000_d_{k:07d}"
        (folders["images"] / f"{stem}.jpg").write_bytes(blank.read_bytes())
        n = int(np.clip(rng.lognormal(np.log(objects) - 0.32, 0.8), 1, 900))  # heavy-tailed, mean ~objects, as VisDrone's
        wh = rng.lognormal(3.0, 0.7, (n, 2)).clip(2, 400)
        xy = rng.uniform(0, 1, (n, 2)) * [width, height]
        gt = np.column_stack([xy, wh, (rng.random(n) > 0.01).astype(int), rng.choice(10, n, p=CLASS_SHARE) + 1, rng.integers(0, 3, (n, 2))])
        regions = np.column_stack([rng.uniform(0, 1, (3, 2)) * [width, height], rng.uniform(50, 400, (3, 2)), np.zeros((3, 4))])
        (folders["annotations"] / f"{stem}.txt").write_text(_lines(np.round(np.vstack([gt, regions])), integer=True))
        near = rng.integers(0, n, int(detections * 0.6))
        det_near = gt[near, :4] + rng.normal(0, 2, (len(near), 4))
        det_far = np.column_stack([rng.uniform(0, 1, (detections - len(near), 2)) * [width, height], rng.lognormal(3.0, 0.7, (detections - len(near), 2))])
        boxes = np.vstack([det_near, det_far])
        classes = np.concatenate([np.where(rng.random(len(near)) < 0.8, gt[near, 5], rng.integers(1, 11, len(near))), rng.integers(1, 11, len(det_far))])
        scores = np.round(rng.random(detections), 4)
        order = np.argsort(-scores, kind="stable")
        rows = np.column_stack([boxes[:, :2], np.abs(boxes[:, 2:]) + 1, scores, classes, -np.ones((detections, 2))])[order]
        (folders["results"] / f"{stem}.txt").write_text(_lines(rows, integer=False))
    blank.unlink()
    return root


def main(params: dict) -> None:
    start = time.perf_counter()
    root = draw_set(Path(params["workdir"]), params["images"], params["objects"], params["detections"])
    print(f"set in {root} ({time.perf_counter() - start:.1f} s to draw or find)")
    start = time.perf_counter()
    result = evaluate(root / "annotations", root / "results", root / "images")
    seconds = time.perf_counter() - start
    print(" ".join(f"{key} {value:.2f}" for key, value in result.items()))
    print(f"evaluate: {seconds:.1f} s for {params['images']} images x {params['detections']} detections (target < 60 s on 2 cores)")


COMMAND = Command("bench visdrone-eval", "time the VisDrone evaluator on a VisDrone-val-sized set", __doc__, DEFAULTS,
                  lambda params: CommandPaths(params).writes("--workdir", params["workdir"]), main, script="benchmarks/visdrone_eval.py")
