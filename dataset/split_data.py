"""Split one images + labels folder into out/images/{train,val,test} and out/labels/{...} by ratios.

Files are hard-linked or copied, never moved; images without labels stay, as background. Example:
python dataset/split_data.py --image_path all/images --label_path all/labels --out dataset --train 0.8 --val 0.1 --test 0.1
"""

from lrsdetr.data.files import run_script
from lrsdetr.data.scripts import split_data
from lrsdetr.utils.cli import parse_overrides

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
    raise SystemExit(run_script(split_data, parse_overrides(param_dict, __doc__)))
