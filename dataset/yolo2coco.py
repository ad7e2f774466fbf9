"""Write the COCO ground-truth JSON of a YOLO images + labels folder, for get_COCO_metrics.py.

image_id and category_id are those Ultralytics writes into predictions.json (file stem, class index + 1),
so predictions and ground truth pair up. Example:
python dataset/yolo2coco.py --image_path dataset/images/test --label_path dataset/labels/test --out dataset/data.json
"""

from lrsdetr.data.files import run_script
from lrsdetr.data.scripts import yolo2coco
from lrsdetr.utils.cli import parse_overrides

param_dict = {
    "image_path": "dataset/images/test",
    "label_path": "dataset/labels/test",
    "out": "dataset/data.json",
    "data": "dataset/data.yaml",  # its `names` name the categories
    "skip_bad": False,  # warn about malformed label lines instead of stopping
}


if __name__ == "__main__":
    raise SystemExit(run_script(yolo2coco, parse_overrides(param_dict, __doc__)))
