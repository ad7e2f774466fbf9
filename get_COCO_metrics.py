"""COCO box metrics (pycocotools' 12 numbers), per-class AP and TIDE error analysis of a predictions.json.

Example: python get_COCO_metrics.py --pred_json runs/val/exp/predictions.json --anno_json data_test.json --max_dets 500.
The GT json must be made from the same images (its image ids are predictions.json's image_id). --max_dets 500 is
VisDrone's protocol, 100 is COCO's. Tables are printed; a JSON of every number and TIDE's plots are saved in
--save_dir (default: <predictions folder>/coco_metrics/). A mistake in the inputs prints one line and exits 2.
"""

import sys

from lrsdetr.eval.report import main
from lrsdetr.utils.cli import parse_overrides

param_dict = {
    "pred_json": "runs/val/exp/predictions.json",  # COCO results: [{image_id, category_id, bbox, score}, ...]
    "anno_json": "data_test.json",  # COCO ground truth made from the same images
    "max_dets": 100,  # detections kept per image: 100 for COCO, 500 for VisDrone
    "save_dir": None,  # None: <predictions folder>/coco_metrics
    "tide": True,  # also run the TIDE error analysis and save its plots
    "backend": "faster_coco_eval",  # or "pycocotools" (the same numbers, slower)
}

if __name__ == "__main__":
    sys.exit(main(parse_overrides(param_dict, __doc__)))
