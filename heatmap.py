"""Class-activation heatmaps (Grad-CAM, Grad-CAM++, EigenCAM, ...) of a trained detector on images, with its detections.

Edit param_dict below, or override it with flags; `python heatmap.py --help` lists every flag, its
default and examples (the same command is `lrsdetr heatmap` for pip installs).
"""

from lrsdetr.commands import run_root_script

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
    "trust_checkpoint": False,  # True: load checkpoints from elsewhere unrestricted (their code may run)
}

if __name__ == "__main__":
    raise SystemExit(run_root_script("heatmap", param_dict))
