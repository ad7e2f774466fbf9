"""Convert Pascal VOC XML annotations into YOLO label files, with class names from a data.yaml.

Edit param_dict below, or override it with flags; `python dataset/xml2txt.py --help` lists every flag, its
default and examples (the same command is `lrsdetr xml2txt` for pip installs).
"""

from lrsdetr.commands import run_root_script

param_dict = {
    "src": "Annotations",  # folder of VOC .xml files
    "out": "dataset/labels/train",  # folder for the .txt labels
    "data": "dataset/data.yaml",  # its `names` give the class indices
    "skip_bad": False,  # warn about malformed <object> entries instead of stopping
}

if __name__ == "__main__":
    raise SystemExit(run_root_script("xml2txt", param_dict))
