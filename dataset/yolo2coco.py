"""Write the COCO ground-truth JSON of a YOLO images + labels folder, for get_COCO_metrics.py.

image_id and category_id are those Ultralytics writes into predictions.json (file stem, class index + 1),
so predictions and ground truth pair up. The default --out is get_COCO_metrics.py's default --anno_json. Example:
python dataset/yolo2coco.py --image_path dataset/images/test --label_path dataset/labels/test   # writes data_test.json
"""

from pathlib import Path

from lrsdetr.data.coco import write_coco_json, yolo_to_coco
from lrsdetr.data.files import refuse_inside, require_writable, run_script
from lrsdetr.data.yolo import read_class_names
from lrsdetr.utils.cli import parse_overrides

param_dict = {
    "image_path": "dataset/images/test",
    "label_path": "dataset/labels/test",
    "out": "data_test.json",  # get_COCO_metrics.py's default --anno_json, as in the authors' README
    "data": "dataset/data.yaml",  # its `names` name the categories
    "skip_bad": False,  # warn about malformed label lines instead of stopping
}


def main(params: dict) -> None:
    refuse_inside((Path(params["out"]),), (Path(params[key]) for key in ("image_path", "label_path", "data")), "out")
    require_writable(Path(params["out"]), "out", is_file=True)
    names = read_class_names(Path(params["data"]))
    coco, report = yolo_to_coco(Path(params["image_path"]), Path(params["label_path"]), names, params["skip_bad"])
    write_coco_json(coco, Path(params["out"]))
    print(f"{report.summary()}\nwrote {params['out']}")


if __name__ == "__main__":
    raise SystemExit(run_script(main, parse_overrides(param_dict, __doc__)))
