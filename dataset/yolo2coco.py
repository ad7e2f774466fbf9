"""Write the COCO ground-truth JSON of a YOLO images + labels folder, for get_COCO_metrics.py.

Edit param_dict below, or override it with flags; `python dataset/yolo2coco.py --help` lists every flag, its
default and examples (the same command is `lrsdetr yolo2coco` for pip installs).
"""

from lrsdetr.commands import run_root_script

param_dict = {
    "image_path": "dataset/images/test",
    "label_path": "dataset/labels/test",
    "out": "data_test.json",  # get_COCO_metrics.py's default --anno_json, as in the authors' README
    "data": "dataset/data.yaml",  # its `names` name the categories
    "skip_bad": False,  # warn about malformed label lines instead of stopping
}

if __name__ == "__main__":
    raise SystemExit(run_root_script("yolo2coco", param_dict))
