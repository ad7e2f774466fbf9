"""Class-activation heatmaps (Grad-CAM, Grad-CAM++, XGrad-CAM, EigenCAM, ...) of a trained detector on images,
overlaid with the detections drawn. Works on CPU, offline.

Example: python heatmap.py --weights runs/train/lrs-detr-b/weights/best.pt --source dataset/images/test
Layers are indices into the model's layer list: for LRS-DETR-B 21, 24, 27 are the neck outputs the decoder
reads (strides 8, 16, 32), 20 the SME/Omni-Kernel module, 10 the DPRA encoder, 8 the last DFENet stage.
"""

from lrsdetr.data.files import run_script
from lrsdetr.tools.heatmap import make_heatmaps
from lrsdetr.utils.cli import parse_overrides

param_dict = {
    "weights": "runs/train/lrs-detr-b/weights/best.pt",
    "source": "dataset/images/test",  # an image or a folder of images
    "method": "GradCAMPlusPlus",  # GradCAM, GradCAMPlusPlus, XGradCAM, HiResCAM, LayerCAM, EigenCAM, EigenGradCAM, GradCAMElementWise
    "layers": "21,24,27",  # comma-separated layer indices; their maps are averaged
    "target": "class",  # what the CAM explains: 'class' scores, 'box' coordinates, or 'all'
    "conf": 0.25,  # queries at or above this score are explained (the best one if none) and drawn
    "show_boxes": True,
    "imgsz": 640,
    "device": "",
    "project": "runs/heatmap",
    "name": "exp",
    "exist_ok": False,
}

if __name__ == "__main__":
    raise SystemExit(run_script(make_heatmaps, parse_overrides(param_dict, __doc__)))
