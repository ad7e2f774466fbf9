"""Score a trained checkpoint on a split of a dataset and save COCO-format predictions (predictions.json).

Example: python val.py --weights runs/train/lrs-detr-b/weights/best.pt --data dataset/data.yaml --split test
It ends by printing the yolo2coco.py and get_COCO_metrics.py commands that give the COCO metrics and TIDE errors.
On VisDrone data (its ten class names) it also writes the challenge-format results (visdrone_results/, as
--save_visdrone does for any data) and prints the COCO and VisDrone-toolkit protocols side by side; give
--visdrone_anno the split's original annotations for the exact protocol (ignored regions, score-0 boxes).
"""

from lrsdetr.data.files import run_script
from lrsdetr.engine.validate import main
from lrsdetr.utils.cli import parse_overrides

param_dict = {
    "weights": "runs/train/lrs-detr-b/weights/best.pt",
    "data": "dataset/data.yaml",
    "split": "test",  # train, val or test, as named in data.yaml
    "imgsz": 640,
    "batch": 8,
    "conf": 0.001,  # keep low-score boxes: AP integrates over all of them
    "max_det": 300,  # RT-DETR's 300 queries
    "device": "",
    "save_json": True,  # predictions.json, COCO format, for get_COCO_metrics.py
    "save_visdrone": False,  # also write visdrone_results/<image>.txt (challenge format); always on VisDrone data
    "visdrone_anno": None,  # the split's original VisDrone annotations; None: made from the YOLO labels
    "plots": True,
    "project": "runs/val",
    "name": "exp",
    "exist_ok": False,
}


if __name__ == "__main__":
    raise SystemExit(run_script(main, parse_overrides(param_dict, __doc__)))
