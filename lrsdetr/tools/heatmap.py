"""Class-activation heatmaps of the detector (pytorch-grad-cam), overlaid on the image with the detections drawn.

A CAM needs a scalar to explain. For a detector it is the sum, over the queries the model is confident about
(score >= conf; the best query if none is), of their class scores (`target='class'`), their box coordinates
('box') or both ('all'). The gradient of that sum with respect to the chosen layers' activations weights the
channels (Grad-CAM and its variants); EigenCAM needs no gradient (first principal component of the
activations). With several layers (e.g. the three neck outputs 21, 24, 27 that feed the decoder), each layer's
map is scaled to the input and the maps are averaged.
"""

from __future__ import annotations

from copy import deepcopy
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import pytorch_grad_cam
import torch
from pytorch_grad_cam.utils.image import show_cam_on_image
from tqdm import tqdm
from ultralytics.utils.torch_utils import select_device

from ..cfg import DETECTION_CONF, IMGSZ
from ..data.files import IMAGE_SUFFIXES, list_images
from ..models import RTDETR
from ..models.outputs import TRAINED_WEIGHTS, pinned_run_folder
from ..utils.atomic import write_bytes_atomic
from ..utils.command import Command
from ..utils.errors import DataError
from ..utils.guard import CommandPaths
from ..utils.run_folder import run_folder
from .checks import require_checkpoint

HEATMAP_DOC = """Class-activation heatmaps (Grad-CAM, Grad-CAM++, XGrad-CAM, EigenCAM, ...) of a trained detector on images,
overlaid with the detections drawn. Works on CPU, offline.

Example: python heatmap.py --weights runs/train/lrs-detr-b/weights/best.pt --source dataset/images/test
Layers are indices into the model's layer list: for LRS-DETR-B 21, 24, 27 are the neck outputs the decoder
reads (strides 8, 16, 32), 20 the SME/Omni-Kernel module, 10 the DPRA encoder, 8 the last DFENet stage.
"""

HEATMAP_DEFAULTS = {
    "weights": TRAINED_WEIGHTS,
    "source": "dataset/images/test",
    "method": "GradCAMPlusPlus",
    "layers": "21,24,27",
    "target": "class",
    "conf": DETECTION_CONF,
    "show_boxes": True,
    "imgsz": IMGSZ,
    "device": "",
    "project": "runs/heatmap",
    "name": "exp",
    "exist_ok": False,
    "trust_checkpoint": False,
}

METHODS = ("GradCAM", "GradCAMPlusPlus", "XGradCAM", "HiResCAM", "LayerCAM", "EigenCAM", "EigenGradCAM", "GradCAMElementWise")
TARGETS = ("class", "box", "all")


class DecoderOutput(torch.nn.Module):
    """The detection model with one tensor out: (batch, queries, 4 box + nc scores), what a CAM target reads."""

    def __init__(self, detector: torch.nn.Module) -> None:
        super().__init__()
        self.detector = detector

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return self.detector(images)[0]


@dataclass
class ConfidentQueries:
    """CAM target: the class scores and/or boxes of the queries chosen on a first, gradient-free pass."""

    queries: torch.Tensor
    classes: torch.Tensor
    target: str = "class"

    def __call__(self, output: torch.Tensor) -> torch.Tensor:
        chosen = output[self.queries]
        total = chosen[:, :4].sum() if self.target in ("box", "all") else output.new_zeros(())
        if self.target in ("class", "all"):
            total = total + chosen[torch.arange(len(self.queries)), 4 + self.classes].sum()
        return total


def confident_queries(output: torch.Tensor, conf: float, target: str) -> ConfidentQueries:
    """Queries scoring >= conf in one image's decoder output (queries, 4 + nc), or the best one if none does."""
    scores, classes = output[:, 4:].max(dim=1)
    queries = torch.nonzero(scores >= conf).flatten()
    if not len(queries):
        queries = scores.argmax().reshape(1)
    return ConfidentQueries(queries, classes[queries], target)


def parse_layers(layers: str | int, count: int) -> list[int]:
    """'21,24,27' -> [21, 24, 27], each a valid index into the model's layer list."""
    indices = [int(text) for text in str(layers).split(",") if text.strip()]
    if not indices or any(not 0 <= i < count for i in indices):
        raise DataError(f"--layers {layers}: expected comma-separated layer indices between 0 and {count - 1}")
    return indices


def list_sources(source: str) -> list[Path]:
    """One image, or the images directly in a folder."""
    path = Path(source)
    if path.is_dir() and list_images(path):
        return list_images(path)
    if path.is_file() and path.suffix.lower() in IMAGE_SUFFIXES:
        return [path]
    raise DataError(f"--source {source}: no image there (expected an image file or a folder of images)")


class HeatmapMaker:
    """One model, one CAM method and layer set; `overlay(image)` gives the heatmap image with detections drawn."""

    def __init__(self, weights: str, method: str = "GradCAMPlusPlus", layers: str = "21,24,27", target: str = "class", conf: float = DETECTION_CONF, imgsz: int = 640, device: str = "") -> None:
        if method not in METHODS:
            raise DataError(f"--method {method}: expected one of {', '.join(METHODS)}")
        if target not in TARGETS:
            raise DataError(f"--target {target}: expected one of {', '.join(TARGETS)}")
        self.model = RTDETR(require_checkpoint(weights))
        self.device = select_device(device, verbose=False)
        detector = deepcopy(self.model.model).float().eval().to(self.device)
        detector.requires_grad_(True)  # checkpoints load frozen; CAM gradients need a graph through the layers
        self.layers = parse_layers(layers, len(detector.model))
        self.net = DecoderOutput(detector)
        self.cam = getattr(pytorch_grad_cam, method)(model=self.net, target_layers=[detector.model[i] for i in self.layers])
        self.target, self.conf, self.imgsz = target, conf, imgsz

    def grayscale_cam(self, image: np.ndarray) -> np.ndarray:
        """The CAM (0..1) of a BGR image at the image's own size; the model sees it resized to imgsz (as RT-DETR's predictor does)."""
        resized = cv2.resize(image, (self.imgsz, self.imgsz), interpolation=cv2.INTER_LINEAR)
        tensor = torch.from_numpy(np.ascontiguousarray(resized[..., ::-1].transpose(2, 0, 1))).float().div(255).unsqueeze(0).to(self.device)
        with torch.no_grad():
            targets = [confident_queries(self.net(tensor)[0], self.conf, self.target)]
        cam = self.cam(input_tensor=tensor, targets=targets)[0]
        return cv2.resize(cam, (image.shape[1], image.shape[0]), interpolation=cv2.INTER_LINEAR)

    def overlay(self, image: np.ndarray, show_boxes: bool = True) -> np.ndarray:
        """BGR image: heatmap blended over the image, the detections (score >= conf) drawn on top."""
        heat = show_cam_on_image(image.astype(np.float32) / 255, self.grayscale_cam(image), use_rgb=False)
        if not show_boxes:
            return heat
        result = self.model.predict(image, imgsz=self.imgsz, conf=self.conf, device=self.device, verbose=False)[0]
        return result.plot(img=heat)


def make_heatmaps(params: dict) -> Path:
    """heatmap.py: one overlay per image of `source`, saved under project/name (a re-run replaces the earlier run's
    overlays); returns that folder."""
    images = list_sources(params["source"])
    maker = HeatmapMaker(params["weights"], params["method"], params["layers"], params["target"], params["conf"], params["imgsz"], params["device"])
    save_dir = Path(params["project"]) / params["name"]
    with run_folder(save_dir, "heatmap"):
        for path in tqdm(images, desc=f"{params['method']} layers {params['layers']}", unit="image"):
            image = cv2.imread(str(path))
            if image is None:
                raise DataError(f"--source {path}: OpenCV cannot read this image")
            write_bytes_atomic(save_dir / f"{path.stem}.png", cv2.imencode(".png", maker.overlay(image, params["show_boxes"]))[1].tobytes())
    print(f"{len(images)} heatmap(s) ({params['method']}, layers {params['layers']}, target {params['target']}) in {save_dir}")
    return save_dir


def heatmap_paths(params: dict) -> CommandPaths:
    """Reads the weights and the images; writes the run folder (pinned)."""
    folder, pinned = pinned_run_folder(params)
    return (CommandPaths(pinned).reads("--weights", require_checkpoint(params["weights"]))
            .reads("--source", params["source"], *list_sources(params["source"])).writes("--project/--name", folder))


COMMAND = Command("heatmap", "Grad-CAM & co. heatmaps of a detector on images", HEATMAP_DOC, HEATMAP_DEFAULTS, heatmap_paths,
                  make_heatmaps, script="heatmap.py", interrupted=lambda params: "what this run had written was removed")
