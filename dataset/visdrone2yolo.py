"""Convert a VisDrone-DET folder (images/, annotations/) into YOLO images/<split> and labels/<split>.

Edit param_dict below, or override it with flags; `python dataset/visdrone2yolo.py --help` lists every flag, its
default and examples (the same command is `lrsdetr visdrone2yolo` for pip installs).
"""

from lrsdetr.commands import run_root_script

param_dict = {
    "src": "VisDrone2019-DET-train",  # the unzipped VisDrone-DET folder (never written to)
    "out": "dataset",  # writes out/images/<split> (hard links or copies) and out/labels/<split>
    "split": "train",
    "mask_ignored": False,  # paint ignored regions (category 0) with the image mean
    "skip_bad": False,  # warn about malformed annotation lines instead of stopping
    "link": True,  # hard-link images where possible (False: always copy)
}

if __name__ == "__main__":
    raise SystemExit(run_root_script("visdrone2yolo", param_dict))
