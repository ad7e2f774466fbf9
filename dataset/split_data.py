"""Split one images + labels folder into out/images/{train,val,test} and out/labels/{...} by ratios.

Edit param_dict below, or override it with flags; `python dataset/split_data.py --help` lists every flag, its
default and examples (the same command is `lrsdetr split` for pip installs).
"""

from lrsdetr.commands import run_root_script

param_dict = {
    "image_path": "images",
    "label_path": "labels",
    "out": "dataset",
    "train": 0.8,
    "val": 0.1,
    "test": 0.1,
    "seed": 0,  # the same seed and inputs give the same split
    "link": True,  # hard-link where possible (False: always copy)
}

if __name__ == "__main__":
    raise SystemExit(run_root_script("split", param_dict))
