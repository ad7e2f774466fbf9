"""VisDrone-DET's own protocol, as the official toolkit (evalDET.m) computes it, plus AP by object size (ours).

Examples:
  python get_VisDrone_metrics.py --anno_dir VisDrone2019-DET-val/annotations --res_dir runs/val/exp/visdrone_results --img_dir VisDrone2019-DET-val/images
  python get_VisDrone_metrics.py --pred_json runs/val/exp/predictions.json --img_dir dataset/images/val --label_dir dataset/labels/val
The first scores challenge-format result files (one <image>.txt each) against the original annotations (exact:
ignored regions, score-0 boxes). The second converts val.py's predictions.json (to <its folder>/visdrone_results)
and, without --anno_dir, the YOLO labels (to visdrone_annotations beside it; they hold no ignored regions).
Prints the toolkit's seven lines and our size buckets; saves visdrone_metrics.json beside the results folder.
A mistake in the inputs prints one line and exits 2.
"""

import sys

from lrsdetr.eval.visdrone_report import main
from lrsdetr.utils.cli import parse_overrides

param_dict = {
    "anno_dir": None,  # VisDrone annotations, <image>.txt; None: made from --label_dir's YOLO labels
    "res_dir": None,  # VisDrone result files, <image>.txt; None: made from --pred_json
    "img_dir": None,  # the images (sizes, for ignored regions; with --pred_json, the images predicted on)
    "pred_json": None,  # val.py's predictions.json (COCO results, category_id = class + 1)
    "label_dir": None,  # YOLO labels of --img_dir, when there is no --anno_dir
}

if __name__ == "__main__":
    sys.exit(main(parse_overrides(param_dict, __doc__)))
