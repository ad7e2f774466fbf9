"""Score a trained checkpoint on a split of a dataset and save COCO-format predictions (predictions.json).

Example: python val.py --weights runs/train/lrs-detr-b/weights/best.pt --data dataset/data.yaml --split test
It ends by printing the yolo2coco.py and get_COCO_metrics.py commands that give the COCO metrics and TIDE errors.
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
    "plots": True,
    "project": "runs/val",
    "name": "exp",
    "exist_ok": False,
}


if __name__ == "__main__":
    raise SystemExit(run_script(main, parse_overrides(param_dict, __doc__)))
