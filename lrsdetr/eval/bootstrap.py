"""How much of a COCO score is the luck of which images were scored: the spread over bootstrap resamples.

A validation set is a sample of the images a model will meet. Drawing `size` images from it with replacement,
many times, and scoring each draw gives the spread a set of `size` such images would show (for `size` below the
set's own, the m-out-of-n bootstrap); a difference between two models smaller than that spread cannot be told
from the choice of images. Each draw is a whole COCO evaluation (faster-coco-eval's, the same numbers as
pycocotools' at a fraction of the time), a drawn image renumbered so that an image drawn twice counts twice.
"""

from __future__ import annotations

import statistics
from collections import defaultdict

import numpy as np

from .coco_metrics import COCO_MAX_DETS, coco_metrics
from .inputs import CocoPair

RESAMPLES = 200


def resampled(pair: CocoPair, picks: list[int]) -> CocoPair:
    """The pair over the images at `picks` (positions in `pair.images`, repeats allowed), each draw a new image."""
    truths, found = defaultdict(list), defaultdict(list)
    for ann in pair.annotations:
        truths[ann["image_id"]].append(ann)
    for det in pair.predictions:
        found[det["image_id"]].append(det)
    images, annotations, predictions = [], [], []
    for new_id, index in enumerate(picks, start=1):
        old_id = pair.images[index]["id"]
        images.append({**pair.images[index], "id": new_id})
        annotations += [{**ann, "image_id": new_id} for ann in truths[old_id]]
        predictions += [{**det, "image_id": new_id} for det in found[old_id]]
    for number, ann in enumerate(annotations, start=1):
        ann["id"] = number
    return CocoPair(pair.pred_path, pair.anno_path, images, annotations, pair.categories, predictions)


def scoring_spread(pair: CocoPair, sizes: list[int], keys: tuple[str, ...] = ("AP", "AP50", "APs"),
                   resamples: int = RESAMPLES, seed: int = 0, max_dets: int = COCO_MAX_DETS) -> dict[int, dict[str, float]]:
    """Per set size, per metric: the standard deviation (in %) of the score over `resamples` draws of that many
    images with replacement from the pair's images."""
    generator = np.random.default_rng(seed)
    spread = {}
    for size in sizes:
        scores = defaultdict(list)
        for _ in range(resamples):
            picks = generator.integers(0, len(pair.images), size).tolist()
            stats = coco_metrics(resampled(pair, picks), max_dets, "faster_coco_eval", warn=False).stats()  # said once by the full score
            for key in keys:
                scores[key].append(100 * stats[key])
        spread[size] = {key: statistics.stdev(values) for key, values in scores.items()}
    return spread
