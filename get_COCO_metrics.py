"""COCO box metrics (pycocotools' 12 numbers), per-class AP and TIDE error analysis of a predictions.json.

Edit param_dict below, or override it with flags; `python get_COCO_metrics.py --help` lists every flag, its
default and examples (the same command is `lrsdetr metrics` for pip installs).
"""

from lrsdetr.commands import run_root_script

param_dict = {
    "pred_json": "runs/val/exp/predictions.json",  # COCO results: [{image_id, category_id, bbox, score}, ...]
    "anno_json": "data_test.json",  # COCO ground truth made from the same images
    "max_dets": 100,  # detections kept per image: 100 for COCO, 500 for VisDrone
    "save_dir": None,  # None: <predictions folder>/coco_metrics
    "tide": True,  # also run the TIDE error analysis and save its plots
    "backend": "faster_coco_eval",  # or "pycocotools" (the same numbers, slower)
}

if __name__ == "__main__":
    raise SystemExit(run_root_script("metrics", param_dict))
