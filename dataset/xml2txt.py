"""Convert Pascal VOC XML annotations into YOLO label files, with class names from a data.yaml.

Example: python dataset/xml2txt.py --src Annotations --out dataset/labels/train --data dataset/data.yaml
"""

from lrsdetr.data.files import run_script
from lrsdetr.data.scripts import xml2txt
from lrsdetr.utils.cli import parse_overrides

param_dict = {
    "src": "Annotations",  # folder of VOC .xml files
    "out": "dataset/labels/train",  # folder for the .txt labels
    "data": "dataset/data.yaml",  # its `names` give the class indices
    "skip_bad": False,  # warn about malformed <object> entries instead of stopping
}


if __name__ == "__main__":
    raise SystemExit(run_script(xml2txt, parse_overrides(param_dict, __doc__)))
