"""Sliced inference finds a small object that whole-frame inference at the same input size misses.

A constructed detector stands in for a trained one: it sees what a network sees (the frame resized to imgsz)
and reports dark blobs of at least MIN_SIDE pixels there. A 14 px square in a 1024 px frame is 3.5 px at
imgsz 256, so the whole-frame pass misses it; in 256 px tiles it keeps its 14 px and is found, and the box
comes back in frame coordinates.

Tiles sent `batch` at a time through an untrained LRS-DETR-B give the detections SAHI's own one-tile-at-a-time
prediction gives, whole-frame pass, merge and `max_det` cap included.
"""

import os
from types import SimpleNamespace

import cv2
import numpy as np
import pytest
import torch
from sahi.predict import get_sliced_prediction

from lrsdetr.data.synth import draw_scene
from lrsdetr.models import RTDETR
from lrsdetr.tools.sliced import Slicing, sahi_detector, sliced_predict

IMGSZ, MIN_SIDE = 256, 8
SQUARE = (700, 300, 714, 314)  # x1, y1, x2, y2 in the 1024 x 1024 frame


class BlobDetector:
    """Ultralytics-model stand-in: called on BGR images, returns results with .boxes.data (x1 y1 x2 y2 score cls)."""

    names = {0: "blob"}
    overrides = {"task": "detect"}

    def __call__(self, images, imgsz=IMGSZ, **_):
        return [SimpleNamespace(boxes=SimpleNamespace(data=self.detect(image, imgsz))) for image in images]

    @staticmethod
    def detect(image: np.ndarray, imgsz: int) -> torch.Tensor:
        height, width = image.shape[:2]
        seen = cv2.resize(image, (imgsz, imgsz), interpolation=cv2.INTER_AREA).min(axis=2)
        count, _, stats, _ = cv2.connectedComponentsWithStats((seen < 60).astype(np.uint8))
        rows = []
        for x, y, w, h, _ in stats[1:count]:
            if min(w, h) >= MIN_SIDE:
                sx, sy = width / imgsz, height / imgsz
                rows.append([x * sx, y * sy, (x + w) * sx, (y + h) * sy, 0.9, 0])
        return torch.tensor(rows, dtype=torch.float32).reshape(-1, 6)


@pytest.fixture
def frame():
    image = np.full((1024, 1024, 3), 160, np.uint8)
    x1, y1, x2, y2 = SQUARE
    image[y1:y2, x1:x2] = 20
    return image


def test_whole_frame_misses_the_small_object(frame):
    assert len(BlobDetector.detect(frame, IMGSZ)) == 0


def test_sliced_inference_finds_it_in_frame_coordinates(frame):
    detector = sahi_detector(BlobDetector(), conf=0.25, imgsz=IMGSZ, device="cpu")
    result = sliced_predict(detector, frame, Slicing(size=256, overlap=0.2), path="frame.jpg")
    assert len(result.boxes) == 1
    assert result.boxes.xyxy[0].tolist() == pytest.approx(SQUARE, abs=2)
    assert result.names == {0: "blob"} and result.path == "frame.jpg"


def test_sahi_device_choice_leaves_cuda_visible_devices_alone(monkeypatch):
    monkeypatch.delenv("CUDA_VISIBLE_DEVICES", raising=False)
    sahi_detector(BlobDetector(), conf=0.25, imgsz=IMGSZ, device="cpu")
    assert "CUDA_VISIBLE_DEVICES" not in os.environ


TILES = Slicing(size=128, overlap=0.2)  # on a 448 x 200 frame: 10 tiles, a multiple of neither 3 nor 4


@pytest.fixture(scope="module")
def drone_frame():
    """A synthetic 448 x 200 drone frame (BGR) and SAHI's wrapper around an untrained LRS-DETR-B at imgsz 128."""
    frame, _ = draw_scene(448, 200, np.random.default_rng(3))
    torch.manual_seed(0)
    return frame, sahi_detector(RTDETR("lrs-detr-b.yaml"), conf=0.25, imgsz=128, device="cpu")


@pytest.fixture(scope="module")
def sahi_one_at_a_time(drone_frame):
    """SAHI's sliced prediction as sliced_predict called it before tiles were batched: one tile per forward pass."""
    frame, detector = drone_frame
    prediction = get_sliced_prediction(np.ascontiguousarray(frame[..., ::-1]), detector, TILES.size, TILES.size, TILES.overlap, TILES.overlap,
                                       perform_standard_pred=TILES.full_frame, postprocess_type=TILES.merge,
                                       postprocess_match_metric=TILES.match_metric, postprocess_match_threshold=TILES.match_threshold, verbose=0)
    return torch.tensor([[*p.bbox.to_xyxy(), p.score.value, p.category.id] for p in prediction.object_prediction_list])


def assert_same_detections(found: torch.Tensor, expected: torch.Tensor) -> None:
    """The same boxes (within 1e-4 px), scores (1e-5) and classes, in any order (batching may reorder equal scores)."""
    assert found.shape == expected.shape
    nearest = torch.cdist(found[:, :4].double(), expected[:, :4].double()).argmin(1)
    assert len(nearest.unique()) == len(expected)
    torch.testing.assert_close(found[:, :4], expected[nearest, :4], atol=1e-4, rtol=0)
    torch.testing.assert_close(found[:, 4], expected[nearest, 4], atol=1e-5, rtol=0)
    assert torch.equal(found[:, 5], expected[nearest, 5])


@pytest.mark.parametrize("batch", [1, 3, 4])
def test_batched_tiles_give_sahis_one_at_a_time_detections(drone_frame, sahi_one_at_a_time, batch):
    frame, detector = drone_frame
    passes = []
    network = detector.model.predictor.model.model  # the fused copy Ultralytics' predictor runs (set up by the fixture)
    hook = network.register_forward_pre_hook(lambda module, inputs: passes.append(len(inputs[0])))
    try:
        result = sliced_predict(detector, frame, Slicing(TILES.size, TILES.overlap, batch=batch), max_det=100_000)
    finally:
        hook.remove()
    assert passes == [batch] * (10 // batch) + [10 % batch] * (10 % batch > 0) + [1]  # the 10 tiles, then the whole frame
    assert len(sahi_one_at_a_time) > 100  # the untrained model scores every query near 0.5: a crowded merge
    assert_same_detections(result.boxes.data, sahi_one_at_a_time)


@pytest.mark.parametrize("batch", [3, 4])
def test_the_max_det_cap_keeps_the_same_boxes_of_the_merged_frame(drone_frame, sahi_one_at_a_time, batch):
    frame, detector = drone_frame
    scores = sahi_one_at_a_time[:, 4].sort(descending=True).values
    cap = next(k for k in range(len(scores) // 3, len(scores)) if scores[k - 1] - scores[k] > 1e-5)  # not between near-equal scores
    kept = [sliced_predict(detector, frame, Slicing(TILES.size, TILES.overlap, batch=n), max_det=cap).boxes.data for n in (1, batch)]
    assert len(kept[0]) == cap < len(scores)
    assert_same_detections(kept[1], kept[0])
