"""The dataset scripts' bodies: dataset/split_data.py, visdrone2yolo.py, xml2txt.py and yolo2coco.py, and the
`lrsdetr split|visdrone2yolo|xml2txt|yolo2coco` commands. Each takes the script's param_dict and prints a report;
a bad input is a DataError (one line, exit status 2)."""

from __future__ import annotations

from pathlib import Path

from .coco import write_coco_json, yolo_to_coco
from .files import refuse_inside, require_writable
from .split import split_dataset
from .visdrone import convert_visdrone
from .voc import convert_voc
from .yolo import read_class_names


def split_data(params: dict) -> None:
    ratios = (params["train"], params["val"], params["test"])
    report = split_dataset(Path(params["image_path"]), Path(params["label_path"]), Path(params["out"]), ratios, params["seed"], params["link"])
    print(report.summary())


def visdrone2yolo(params: dict) -> None:
    report = convert_visdrone(Path(params["src"]), Path(params["out"]), params["split"], params["mask_ignored"], params["skip_bad"], params["link"])
    print(report.summary())


def xml2txt(params: dict) -> None:
    report = convert_voc(Path(params["src"]), Path(params["out"]), read_class_names(Path(params["data"])), params["skip_bad"])
    print(report.summary())


def yolo2coco(params: dict) -> None:
    refuse_inside((Path(params["out"]),), (Path(params[key]) for key in ("image_path", "label_path", "data")), "out")
    require_writable(Path(params["out"]), "out", is_file=True)
    names = read_class_names(Path(params["data"]))
    coco, report = yolo_to_coco(Path(params["image_path"]), Path(params["label_path"]), names, params["skip_bad"])
    write_coco_json(coco, Path(params["out"]))
    print(f"{report.summary()}\nwrote {params['out']}")
