"""How much of a COCO score is the luck of which images were scored: the spread over bootstrap resamples.

A validation set is a sample of the images a model will meet. Drawing `size` images from it with replacement,
many times, and scoring each draw gives the spread a set of `size` such images would show (for `size` below the
set's own, the m-out-of-n bootstrap); a difference between two models smaller than that spread cannot be told
from the choice of images. COCO matches detections to objects image by image, so pycocotools' per-image matching
is computed once and each draw only re-accumulates the matched images it holds (an image drawn twice counts
twice): a draw scores exactly as pycocotools scores those images copied into a new set, in a fraction of the time.
"""

from __future__ import annotations

import contextlib
import io
import statistics

import numpy as np

from .coco_metrics import COCO_MAX_DETS, evaluator_of, mean_of_valid
from .inputs import CocoPair, id_order

RESAMPLES = 200
KEYS = ("AP", "AP50", "APs")  # the scores a draw gives: AP at IoU 0.50:0.95 and at 0.50, and on small objects


class ImageDraws:
    """pycocotools' evaluation of a pair, matched once, scored on any draw of its images."""

    def __init__(self, pair: CocoPair, max_dets: int = COCO_MAX_DETS) -> None:
        self.evaluator, _ = evaluator_of(pair, "pycocotools")
        params = self.evaluator.params
        params.maxDets = [max_dets]
        params.areaRng, params.areaRngLbl = params.areaRng[:2], params.areaRngLbl[:2]  # all, small: what KEYS need
        with contextlib.redirect_stdout(io.StringIO()):
            self.evaluator.evaluate()
        self.matched = self.evaluator.evalImgs  # [category][area][image], images in id order
        self.images = len(params.imgIds)
        self.blocks = len(self.matched) // self.images
        order = {image_id: n for n, image_id in enumerate(sorted((image["id"] for image in pair.images), key=id_order))}
        self.position = [order[image["id"]] for image in pair.images]  # the evaluator orders images by id

    def score(self, picks: list[int]) -> dict[str, float]:
        """AP, AP50 and APs (0-1) of the images at `picks` (positions in the pair's `images`, repeats allowed)."""
        positions = [self.position[index] for index in picks]
        evaluator = self.evaluator
        evaluator.evalImgs = [self.matched[block * self.images + p] for block in range(self.blocks) for p in positions]
        evaluator.params.imgIds = evaluator._paramsEval.imgIds = list(range(len(picks)))  # one slot per draw
        with contextlib.redirect_stdout(io.StringIO()):
            evaluator.accumulate()
        precision = evaluator.eval["precision"]  # [IoU, recall, category, area (all, small), maxDets]
        return {"AP": mean_of_valid(precision[..., 0, 0]), "AP50": mean_of_valid(precision[0, :, :, 0, 0]),
                "APs": mean_of_valid(precision[..., 1, 0])}


def scoring_spread(pair: CocoPair, sizes: list[int], resamples: int = RESAMPLES, seed: int = 0,
                   max_dets: int = COCO_MAX_DETS) -> dict[int, dict[str, float]]:
    """Per set size, per key of KEYS: the standard deviation (points of %) of the score over `resamples` draws of
    that many images with replacement from the pair's images."""
    draws, generator = ImageDraws(pair, max_dets), np.random.default_rng(seed)
    spread = {}
    for size in sizes:
        scores = [draws.score(generator.integers(0, len(pair.images), size).tolist()) for _ in range(resamples)]
        spread[size] = {key: statistics.stdev(100 * s[key] for s in scores) for key in KEYS}
    return spread
