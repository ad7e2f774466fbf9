"""Sliced inference finds a small object that whole-frame inference at the same input size misses.

A constructed detector stands in for a trained one: it sees what a network sees (the frame resized to imgsz)
and reports dark blobs of at least MIN_SIDE pixels there. A 14 px square in a 1024 px frame is 3.5 px at
imgsz 256, so the whole-frame pass misses it; in 256 px tiles it keeps its 14 px and is found, and the box
comes back in frame coordinates.
"""

import os
from types import SimpleNamespace

import cv2
import numpy as np
import pytest
import torch
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
