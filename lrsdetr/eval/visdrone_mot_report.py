"""get_VisDrone_MOT_metrics.py's logic: VisDrone-MOT folders to the toolkit's Task 4B and 4A numbers, HOTA beside
them, printed as tables and saved as JSON beside the results folder."""

from __future__ import annotations

import json
import math
from pathlib import Path

from ..data.files import write_text_atomic
from ..utils.command import Command
from ..utils.errors import DataError
from ..utils.guard import CommandPaths, require_results_apart
from .mot_clear import METRICS
from .mot_hota import FIELDS
from .visdrone_mot import EVAL_CLASSES, evaluate_mot

METRICS_JSON = "visdrone_mot_metrics.json"
COUNTS = ("GT", "MT", "PT", "ML", "FP", "FN", "IDs", "FM")  # printed as whole numbers

MOT_METRICS_DOC = """VisDrone-MOT's own protocol, as the official toolkit computes it (Task 4B: CLEAR-MOT and identity measures;
Task 4A: trajectory AP), with HOTA, DetA and AssA beside it (trackeval).

Examples:
  python get_VisDrone_MOT_metrics.py --data VisDrone2019-MOT-val --res_dir runs/track/exp/mot
  python get_VisDrone_MOT_metrics.py --anno_dir mot/annotations --seq_dir mot/sequences --res_dir my_results
--data is a VisDrone-MOT folder holding sequences/ (one folder of numbered frames per sequence) and annotations/
(<sequence>.txt); --anno_dir and --seq_dir name them apart. --res_dir holds one <sequence>.txt per sequence in the
MOT format frame,id,x,y,w,h,score,class,-1,-1 (what track.py writes). Scores the five classes car, bus, truck,
pedestrian, van per class and overall (and per sequence); saves visdrone_mot_metrics.json beside --res_dir.
Nothing is written into the annotations (the toolkit writes <sequence>_clean.txt there). A mistake in the inputs
prints one line and exits 2.
"""

MOT_METRICS_DEFAULTS = {"data": None, "anno_dir": None, "seq_dir": None, "res_dir": None}


def folders(params: dict) -> tuple[Path, Path, Path]:
    """(annotations, sequences, results) from --anno_dir/--seq_dir, or --data's annotations/ and sequences/."""
    if not params.get("res_dir"):
        raise DataError("give --res_dir: the tracking results, one <sequence>.txt per sequence (track.py writes them to <run>/mot)")
    data = Path(params["data"]) if params.get("data") else None
    anno, seq = params.get("anno_dir"), params.get("seq_dir")
    if data is None and (not anno or not seq):
        raise DataError("give --data (a VisDrone-MOT folder with sequences/ and annotations/), or --anno_dir and --seq_dir")
    return Path(anno or data / "annotations"), Path(seq or data / "sequences"), Path(params["res_dir"])


def metrics_json(res_dir: Path) -> Path:
    return Path(res_dir).resolve().parent / METRICS_JSON


def _cell(key: str, value: float) -> str:
    if math.isnan(value):
        return "nan"
    return f"{value:.0f}" if key in COUNTS else f"{value:.2f}"


def format_mot(result: dict) -> str:
    """The Task 4B table (per sequence, per class, all), Task 4A's APs and HOTA, in the toolkit's units."""
    rows = [(name, result["sequences"][name]) for name in result["sequences"]]
    rows += [(name, result["classes"][name]) for name in EVAL_CLASSES] + [("all", result["overall"])]
    width = max(len(name) for name, _ in rows)
    head = f"{'':<{width}}" + "".join(f"{key:>8}" for key in METRICS)
    lines = ["VisDrone-MOT Task 4B (the toolkit's evaluateTrackB): per sequence, per class, all five classes", head]
    lines += [f"{name:<{width}}" + "".join(f"{_cell(key, metrics[key]):>8}" for key in METRICS) for name, metrics in rows]
    aps = result["trajectory_ap"]
    if aps is not None:
        keys = ("AP", "AP@0.25", "AP@0.50", "AP@0.75")
        lines += ["", "VisDrone-MOT Task 4A (evaluateTrackA): trajectory AP, percent", f"{'':<{width}}" + "".join(f"{k:>9}" for k in keys)]
        lines += [f"{name:<{width}}" + "".join(f"{aps['classes'][name][k]:>9.2f}" for k in keys) for name in EVAL_CLASSES]
        lines.append(f"{'mean':<{width}}" + "".join(f"{aps[k]:>9.2f}" for k in keys))
    lines += ["", "HOTA (trackeval, on what Task 4B scores), percent", f"{'':<{width}}" + "".join(f"{k:>8}" for k in FIELDS)]
    lines += [f"{name:<{width}}" + "".join(f"{result['hota'][name][k]:>8.2f}" for k in FIELDS) for name in [*EVAL_CLASSES, "all"]]
    return "\n".join(lines + result["warnings"])


def mot_metrics(params: dict) -> tuple[dict, Path]:
    """Evaluate; save the numbers as JSON beside the results folder; (result, the JSON's path)."""
    anno_dir, seq_dir, res_dir = folders(params)
    result = evaluate_mot(anno_dir, res_dir, seq_dir)
    saved = metrics_json(res_dir)
    record = {"anno_dir": str(anno_dir), "seq_dir": str(seq_dir), "res_dir": str(res_dir), "visdrone_mot": result}
    write_text_atomic(saved, json.dumps(record, indent=2))
    return result, saved


def main(params: dict) -> None:
    result, saved = mot_metrics(params)
    print(format_mot(result))
    print(f"Saved {saved}")


def mot_metrics_paths(params: dict) -> CommandPaths:
    """Reads the annotations, sequences and results; writes the JSON beside the results."""
    anno_dir, seq_dir, res_dir = folders(params)
    require_results_apart(res_dir, anno_dir)
    return (CommandPaths(params).reads("--anno_dir", anno_dir).reads("--seq_dir", seq_dir).reads("--res_dir", res_dir)
            .writes("--res_dir (its JSON)", metrics_json(res_dir)))


COMMAND = Command("mot-metrics", "VisDrone-MOT toolkit's tracking metrics (MOTA, IDF1, trajectory AP) and HOTA", MOT_METRICS_DOC,
                  MOT_METRICS_DEFAULTS, mot_metrics_paths, main, script="get_VisDrone_MOT_metrics.py")
