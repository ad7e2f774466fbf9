"""Convert a VisDrone-DET folder (images/, annotations/) into YOLO images/<split> and labels/<split>.

Example: python dataset/visdrone2yolo.py --src VisDrone2019-DET-train --out dataset --split train --mask-ignored true
"""

from lrsdetr.data.files import run_script
from lrsdetr.data.scripts import visdrone2yolo
from lrsdetr.utils.cli import parse_overrides

param_dict = {
    "src": "VisDrone2019-DET-train",  # the unzipped VisDrone-DET folder (never written to)
    "out": "dataset",  # writes out/images/<split> (hard links or copies) and out/labels/<split>
    "split": "train",
    "mask_ignored": False,  # paint ignored regions (category 0) with the image mean
    "skip_bad": False,  # warn about malformed annotation lines instead of stopping
    "link": True,  # hard-link images where possible (False: always copy)
}


if __name__ == "__main__":
    raise SystemExit(run_script(visdrone2yolo, parse_overrides(param_dict, __doc__)))
