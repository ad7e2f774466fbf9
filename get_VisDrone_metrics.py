"""VisDrone-DET's own protocol, as the official toolkit (evalDET.m) computes it, plus AP by object size (ours).

Edit param_dict below, or override it with flags; `python get_VisDrone_metrics.py --help` lists every flag, its
default and examples (the same command is `lrsdetr visdrone-metrics` for pip installs).
"""

from lrsdetr.commands import run_root_script

param_dict = {
    "anno_dir": None,  # VisDrone annotations, <image>.txt; None: made from --label_dir's YOLO labels
    "res_dir": None,  # VisDrone result files, <image>.txt; None: made from --pred_json
    "img_dir": None,  # the images (sizes, for ignored regions; with --pred_json, the images predicted on)
    "pred_json": None,  # val.py's predictions.json (COCO results, category_id = class + 1)
    "label_dir": None,  # YOLO labels of --img_dir, when there is no --anno_dir
}

if __name__ == "__main__":
    raise SystemExit(run_root_script("visdrone-metrics", param_dict))
