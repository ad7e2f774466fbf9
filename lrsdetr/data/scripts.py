"""The dataset commands: dataset/split_data.py, visdrone2yolo.py, xml2txt.py and yolo2coco.py (`lrsdetr split|
visdrone2yolo|xml2txt|yolo2coco`). Each takes the script's param_dict and prints a report; a bad input is a
DataError (one line, exit status 2)."""

from __future__ import annotations

from pathlib import Path

from ..utils.command import Command
from ..utils.guard import CommandPaths
from .coco import write_coco_json, yolo_to_coco
from .files import require_writable
from .split import split_dataset
from .visdrone import convert_visdrone
from .voc import convert_voc
from .yolo import read_class_names

SPLITS = ("train", "val", "test")

SPLIT_DOC = """Split one images + labels folder into out/images/{train,val,test} and out/labels/{...} by ratios.

Files are hard-linked or copied, never moved; images without labels stay, as background. Example:
python dataset/split_data.py --image_path all/images --label_path all/labels --out dataset --train 0.8 --val 0.1 --test 0.1
"""

VISDRONE2YOLO_DOC = """Convert a VisDrone-DET folder (images/, annotations/) into YOLO images/<split> and labels/<split>.

Example: python dataset/visdrone2yolo.py --src VisDrone2019-DET-train --out dataset --split train --mask-ignored true
"""

XML2TXT_DOC = """Convert Pascal VOC XML annotations into YOLO label files, with class names from a data.yaml.

Example: python dataset/xml2txt.py --src Annotations --out dataset/labels/train --data dataset/data.yaml
"""

YOLO2COCO_DOC = """Write the COCO ground-truth JSON of a YOLO images + labels folder, for get_COCO_metrics.py.

image_id and category_id are those Ultralytics writes into predictions.json (file stem, class index + 1),
so predictions and ground truth pair up. The default --out is get_COCO_metrics.py's default --anno_json. Example:
python dataset/yolo2coco.py --image_path dataset/images/test --label_path dataset/labels/test   # writes data_test.json
"""


def split_data(params: dict) -> None:
    ratios = (params["train"], params["val"], params["test"])
    report = split_dataset(Path(params["image_path"]), Path(params["label_path"]), Path(params["out"]), ratios, params["seed"], params["link"])
    print(report.summary())


def split_paths(params: dict) -> CommandPaths:
    out = Path(params["out"])
    return (CommandPaths(params).reads("image_path", params["image_path"]).reads("label_path", params["label_path"])
            .writes("out", *(out / kind / split for split in SPLITS for kind in ("images", "labels"))))


def visdrone2yolo(params: dict) -> None:
    report = convert_visdrone(Path(params["src"]), Path(params["out"]), params["split"], params["mask_ignored"], params["skip_bad"], params["link"])
    print(report.summary())


def visdrone2yolo_paths(params: dict) -> CommandPaths:
    out = Path(params["out"])
    return CommandPaths(params).reads("src", params["src"]).writes("out", out / "images" / params["split"], out / "labels" / params["split"])


def xml2txt(params: dict) -> None:
    report = convert_voc(Path(params["src"]), Path(params["out"]), read_class_names(Path(params["data"])), params["skip_bad"])
    print(report.summary())


def yolo2coco(params: dict) -> None:
    require_writable(Path(params["out"]), "out", is_file=True)
    names = read_class_names(Path(params["data"]))
    coco, report = yolo_to_coco(Path(params["image_path"]), Path(params["label_path"]), names, params["skip_bad"])
    write_coco_json(coco, Path(params["out"]))
    print(f"{report.summary()}\nwrote {params['out']}")


def yolo2coco_paths(params: dict) -> CommandPaths:
    return (CommandPaths(params).reads("image_path", params["image_path"]).reads("label_path", params["label_path"])
            .reads("data", params["data"]).writes("out", params["out"]))


SPLIT = Command("split", "split an images + labels folder into train/val/test", SPLIT_DOC,
                {"image_path": "images", "label_path": "labels", "out": "dataset", "train": 0.8, "val": 0.1, "test": 0.1, "seed": 0, "link": True},
                split_paths, split_data, script="dataset/split_data.py")
VISDRONE2YOLO = Command("visdrone2yolo", "convert VisDrone-DET annotations to YOLO labels", VISDRONE2YOLO_DOC,
                        {"src": "VisDrone2019-DET-train", "out": "dataset", "split": "train", "mask_ignored": False, "skip_bad": False, "link": True},
                        visdrone2yolo_paths, visdrone2yolo, script="dataset/visdrone2yolo.py")
XML2TXT = Command("xml2txt", "convert Pascal VOC XML annotations to YOLO labels", XML2TXT_DOC,
                  {"src": "Annotations", "out": "dataset/labels/train", "data": "dataset/data.yaml", "skip_bad": False},
                  lambda params: CommandPaths(params).reads("src", params["src"]).reads("data", params["data"]).writes("out", params["out"]),
                  xml2txt, script="dataset/xml2txt.py")
YOLO2COCO = Command("yolo2coco", "COCO ground-truth JSON of a YOLO images + labels folder", YOLO2COCO_DOC,
                    {"image_path": "dataset/images/test", "label_path": "dataset/labels/test", "out": "data_test.json", "data": "dataset/data.yaml", "skip_bad": False},
                    yolo2coco_paths, yolo2coco, script="dataset/yolo2coco.py")
