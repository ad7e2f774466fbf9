"""get_VisDrone_metrics.py's logic: VisDrone-native folders (or val.py's predictions.json + YOLO labels) to the
toolkit's seven numbers, our size buckets, and a JSON of them beside the results; and val.py's two-protocol table."""

from __future__ import annotations

import json
from pathlib import Path

from ..data.files import write_text_atomic
from ..utils.command import Command
from ..utils.errors import DataError
from ..utils.guard import CommandPaths, require_results_apart
from .coco_metrics import CocoMetrics
from .visdrone import METRIC_KEYS, SIZE_BUCKETS, evaluate_images, load_images
from .visdrone_results import (
    ANNOTATIONS_DIR,
    RESULTS_DIR,
    annotations_from_labels,
    results_from_predictions,
)

METRICS_JSON = "visdrone_metrics.json"
TOOLKIT_LINES = {
    "AP": "Average Precision  (AP) @[ IoU=0.50:0.95 | maxDets=500 ]",
    "AP50": "Average Precision  (AP) @[ IoU=0.50      | maxDets=500 ]",
    "AP75": "Average Precision  (AP) @[ IoU=0.75      | maxDets=500 ]",
    "AR1": "Average Recall     (AR) @[ IoU=0.50:0.95 | maxDets=  1 ]",
    "AR10": "Average Recall     (AR) @[ IoU=0.50:0.95 | maxDets= 10 ]",
    "AR100": "Average Recall     (AR) @[ IoU=0.50:0.95 | maxDets=100 ]",
    "AR500": "Average Recall     (AR) @[ IoU=0.50:0.95 | maxDets=500 ]",
}
VISDRONE_METRICS_DOC = """VisDrone-DET's own protocol, as the official toolkit (evalDET.m) computes it, plus AP by object size (ours).

Examples:
  python get_VisDrone_metrics.py --anno_dir VisDrone2019-DET-val/annotations --res_dir runs/val/exp/visdrone_results --img_dir VisDrone2019-DET-val/images
  python get_VisDrone_metrics.py --pred_json runs/val/exp/predictions.json --img_dir dataset/images/val --label_dir dataset/labels/val
The first scores challenge-format result files (one <image>.txt each) against the original annotations (exact:
ignored regions, score-0 boxes). The second converts val.py's predictions.json (to <its folder>/visdrone_results)
and, without --anno_dir, the YOLO labels (to visdrone_annotations beside it; they hold no ignored regions).
Prints the toolkit's seven lines and our size buckets; saves visdrone_metrics.json beside the results folder.
A mistake in the inputs prints one line and exits 2.
"""

VISDRONE_METRICS_DEFAULTS = {"anno_dir": None, "res_dir": None, "img_dir": None, "pred_json": None, "label_dir": None}
BUCKET_TEXT = {"small": "area < 32^2", "medium": "32^2 <= area < 96^2", "large": "area >= 96^2"}


def format_visdrone(result: dict) -> str:
    """The toolkit's seven lines (its 2-decimal percent) and our size buckets, labelled as ours."""
    lines = [f"{TOOLKIT_LINES[key]} = {result[key]:.2f}%." for key in METRIC_KEYS]
    lines.append("Our extension (not in the toolkit): AP @[ IoU=0.50:0.95 | maxDets=500 ] by object size, same matching:")
    lines += [f"  AP {name:<6} ({BUCKET_TEXT[name]:<19}) = {_percent(result[f'AP_{name}'])}" for name in SIZE_BUCKETS]
    return "\n".join(lines)


def _percent(value: float) -> str:
    return "-" if value != value else f"{value:.2f}%."  # nan: no object of that size


def converted_folders(params: dict) -> tuple[Path, Path]:
    """(annotations, results) folders the evaluation reads: the ones given, or where the conversions of val.py's
    predictions.json and of the YOLO labels go (results beside the predictions, annotations beside the results)."""
    img_dir = params.get("img_dir")
    res_dir = params.get("res_dir")
    if res_dir is None and (not params.get("pred_json") or img_dir is None):
        raise DataError("give --res_dir (VisDrone result files), or --pred_json (val.py's predictions.json) with --img_dir (the images predicted on)")
    if params.get("anno_dir") is None and (not params.get("label_dir") or img_dir is None):
        raise DataError("give --anno_dir (VisDrone annotations), or --label_dir (YOLO labels) with --img_dir")
    res_dir = Path(res_dir if res_dir is not None else Path(params["pred_json"]).parent / RESULTS_DIR)
    return Path(params["anno_dir"] if params.get("anno_dir") is not None else res_dir.parent / ANNOTATIONS_DIR), res_dir


def prepare_inputs(params: dict) -> tuple[Path, Path, Path | None]:
    """(annotations, results, images) folders, converting val.py's outputs where folders are not given."""
    img_dir = Path(params["img_dir"]) if params.get("img_dir") else None
    anno_dir, res_dir = converted_folders(params)
    if params.get("res_dir") is None:
        results_from_predictions(Path(params["pred_json"]), img_dir, res_dir)
        print(f"Wrote VisDrone result files from {params['pred_json']} to {res_dir}")
    if params.get("anno_dir") is None:
        annotations_from_labels(img_dir, Path(params["label_dir"]), anno_dir)
        print(f"Wrote VisDrone annotations from the YOLO labels in {params['label_dir']} to {anno_dir} (YOLO labels hold no ignored regions nor score-0 boxes: use the original annotations for the exact protocol)")
    return anno_dir, res_dir, img_dir


def metrics_json(res_dir: Path) -> Path:
    """The JSON of the numbers: beside the results folder (beside what a link to it points to)."""
    return Path(res_dir).resolve().parent / METRICS_JSON


def visdrone_metrics(params: dict) -> tuple[dict, Path]:
    """Evaluate, save `visdrone_metrics.json` beside the results folder; the numbers and the JSON's path."""
    anno_dir, res_dir, img_dir = prepare_inputs(params)
    images, warnings = load_images(anno_dir, res_dir, img_dir)
    result = evaluate_images(images)
    saved = metrics_json(res_dir)
    record = {"anno_dir": str(anno_dir), "res_dir": str(res_dir), "img_dir": str(img_dir) if img_dir else None, "images": len(images), "warnings": warnings, "visdrone": result}
    write_text_atomic(saved, json.dumps(record, indent=2))
    return result, saved


def protocols_table(coco: CocoMetrics, visdrone: dict) -> str:
    """COCO's and VisDrone's numbers side by side, in percent, for the same predictions."""
    stats = coco.stats()
    coco_keys = {"AP": "AP", "AP50": "AP50", "AP75": "AP75", "AR1": "AR1", "AR10": "AR10", "AR100": "AR100", "AR500": "AR500", "AP_small": "APs", "AP_medium": "APm", "AP_large": "APl"}
    rows = [("", f"COCO (pycocotools, maxDets {coco.max_dets})", "VisDrone toolkit (maxDets 500)")]
    for key, coco_key in coco_keys.items():
        value = stats.get(coco_key, -1.0)
        rows.append((key + (" *" if key.startswith("AP_") else ""), "-" if value < 0 else f"{100 * value:.2f}", "-" if visdrone[key] != visdrone[key] else f"{visdrone[key]:.2f}"))
    widths = [max(len(row[i]) for row in rows) for i in range(3)]
    lines = ["  ".join(cell.ljust(w) if i == 0 else cell.rjust(w) for i, (cell, w) in enumerate(zip(row, widths))) for row in rows]
    return "\n".join(["Both protocols, percent (docs/evaluation.md: 'VisDrone protocol vs COCO protocol'); * size buckets: ours under VisDrone's matching", *lines])


def main(params: dict) -> None:
    """get_VisDrone_metrics.py: evaluate, print the report."""
    result, saved = visdrone_metrics(params)
    print(format_visdrone(result))
    print(f"Saved {saved}")


def visdrone_metrics_paths(params: dict) -> CommandPaths:
    """Reads the images, results and annotations given; writes the converted ones (where not given) and the JSON
    beside the results. The results and the annotations must be two folders."""
    anno_dir, res_dir = converted_folders(params)
    if params.get("res_dir") is not None:  # converted results are an output: the guard keeps them off the inputs
        require_results_apart(res_dir, anno_dir)
    paths = CommandPaths(params).reads("--img_dir", params.get("img_dir")).reads("--pred_json", params.get("pred_json"))
    paths.reads("--label_dir", params.get("label_dir")).reads("--res_dir", params.get("res_dir")).reads("--anno_dir", params.get("anno_dir"))
    converted = [folder for key, folder in (("res_dir", res_dir), ("anno_dir", anno_dir)) if params.get(key) is None]
    return paths.writes("--pred_json/--label_dir (converted)", *converted).writes("--res_dir (its JSON)", metrics_json(res_dir))


COMMAND = Command("visdrone-metrics", "VisDrone toolkit's metrics of challenge-format results", VISDRONE_METRICS_DOC,
                  VISDRONE_METRICS_DEFAULTS, visdrone_metrics_paths, main, script="get_VisDrone_metrics.py")

