"""The report behind get_COCO_metrics.py: COCO summary, per-class AP and TIDE errors, printed and saved.

Everything a run produces lands in one folder (default `<predictions folder>/coco_metrics/`), named by the
maxDets used so that COCO's 100 and VisDrone's 500 runs sit side by side; each file is written under a
temporary name and renamed, so a reader never sees half a file.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from ..data.files import write_text_atomic
from ..utils.command import Command
from ..utils.guard import CommandPaths
from .coco_metrics import COCO_MAX_DETS, CocoMetrics, check_options, coco_metrics
from .inputs import CocoPair, EvalInputError, load_coco_pair
from .tide import (
    MAIN_ERRORS,
    PLOT_PARTS,
    SPECIAL_ERRORS,
    TideResult,
    plot_path,
    tide_analysis,
)

DEFAULT_SAVE_DIR = "coco_metrics"

METRICS_DOC = """COCO box metrics (pycocotools' 12 numbers), per-class AP and TIDE error analysis of a predictions.json.

Example: python get_COCO_metrics.py --pred_json runs/val/exp/predictions.json --anno_json data_test.json --max_dets 500.
The GT json must be made from the same images (its image ids are predictions.json's image_id). --max_dets 500 is
VisDrone's protocol, 100 is COCO's. Tables are printed; a JSON of every number and TIDE's plots are saved in
--save_dir (default: <predictions folder>/coco_metrics/). A mistake in the inputs prints one line and exits 2.
"""

METRICS_DEFAULTS = {
    "pred_json": "runs/val/exp/predictions.json",
    "anno_json": "data_test.json",
    "max_dets": COCO_MAX_DETS,
    "save_dir": None,
    "tide": True,
    "backend": "faster_coco_eval",
}


@dataclass(frozen=True)
class EvaluationReport:
    """What one evaluation found and where it was saved."""

    pair: CocoPair
    coco: CocoMetrics
    tide: TideResult | None
    json_path: Path

    def as_dict(self) -> dict:
        counts = {"images": len(self.pair.images), "objects": sum(not a["iscrowd"] for a in self.pair.annotations), "detections": len(self.pair.predictions)}
        return {"pred_json": str(self.pair.pred_path), "anno_json": str(self.pair.anno_path), **counts, "coco": self.coco.as_dict(), "tide": self.tide.as_dict() if self.tide else None}


def evaluate_predictions(
    pred_json: str | Path,
    anno_json: str | Path,
    max_dets: int = COCO_MAX_DETS,
    save_dir: str | Path | None = None,
    tide: bool = True,
    backend: str = "faster_coco_eval",
) -> EvaluationReport:
    """Evaluate a COCO results file against a COCO GT file; save metrics_maxDets<N>.json (and TIDE plots) in `save_dir`."""
    check_options(max_dets, backend)
    pair = load_coco_pair(pred_json, anno_json)
    folder = report_folder(pair.pred_path, save_dir)
    _make_save_dir(folder)
    coco = coco_metrics(pair, max_dets, backend)
    tide_result = tide_analysis(pair, max_dets, folder) if tide else None
    report = EvaluationReport(pair, coco, tide_result, metrics_path(folder, max_dets))
    write_text_atomic(report.json_path, json.dumps(report.as_dict(), indent=2))
    return report


def report_folder(pred_json: str | Path, save_dir: str | Path | None) -> Path:
    """Where the report goes: `save_dir`, by default a folder beside the predictions."""
    return Path(pred_json).parent / DEFAULT_SAVE_DIR if save_dir is None else Path(str(save_dir))


def metrics_path(folder: Path, max_dets: int) -> Path:
    """The JSON of every number, named by maxDets so that COCO's 100 and VisDrone's 500 runs sit side by side."""
    return folder / f"metrics_maxDets{max_dets}.json"


def format_report(report: EvaluationReport) -> str:
    """The printed report: pycocotools' summary lines (with the real maxDets), per-class AP, TIDE errors."""
    data, coco = report.as_dict(), report.coco
    lines = [f"COCO bbox metrics for {data['pred_json']} against {data['anno_json']}: {data['images']} images, {data['objects']} objects, {data['detections']} detections, maxDets={coco.max_dets} ({coco.backend})"]
    lines += [number.label() for number in coco.summary]
    stats = coco.stats()
    rows = [["class", "id", "GT", "AP", "AP50"]]
    rows += [[c.name, str(c.category_id), str(c.n_gt), _score(c.ap), _score(c.ap50)] for c in coco.per_class]
    rows += [["all", "", str(data["objects"]), _score(stats["AP"]), _score(stats["AP50"])]]
    lines += ["", f"Per-class AP (IoU 0.50:0.95 and 0.50, maxDets={coco.max_dets}; '-' = no ground truth)", _table(rows)]
    if report.tide:
        tide = report.tide
        header = ["", *MAIN_ERRORS, "|", "FP", "FN"]
        delta = ["dAP", *(f"{tide.delta_ap[k]:.2f}" for k in MAIN_ERRORS), "|", *(f"{tide.delta_ap[k]:.2f}" for k in SPECIAL_ERRORS)]
        count = ["count", *(str(tide.counts[k]) for k in MAIN_ERRORS), "|", "", ""]
        lines += ["", f"TIDE errors (AP50 points gained by fixing each type, 0-100; IoU 0.50, maxDets={tide.max_dets}): TIDE AP50 = {tide.ap50:.2f}", _table([header, delta, count])]
    saved = [report.json_path, *(report.tide.plots if report.tide else [])]
    lines += ["", f"Saved in {report.json_path.parent}: " + ", ".join(path.name for path in saved)]
    return "\n".join(lines)


def main(params: dict) -> None:
    """get_COCO_metrics.py: print the report."""
    import matplotlib

    matplotlib.use("Agg")  # a batch tool: its plots go to files, never to a display
    print(format_report(evaluate_predictions(params["pred_json"], params["anno_json"], params["max_dets"], params["save_dir"], params["tide"], params["backend"])))


def metrics_paths(params: dict) -> CommandPaths:
    """Reads the two JSON files; writes the report's files in --save_dir."""
    folder = report_folder(params["pred_json"], params["save_dir"])
    outputs = [metrics_path(folder, params["max_dets"]), *(plot_path(folder, part, params["max_dets"]) for part in PLOT_PARTS)]
    return (CommandPaths(params).reads("--pred_json", params["pred_json"]).reads("--anno_json", params["anno_json"])
            .writes("--save_dir", *outputs))


def _make_save_dir(folder: Path) -> Path:
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise EvalInputError(f"--save_dir {folder}: cannot make this folder ({error.strerror})") from None
    return folder


def _score(value: float) -> str:
    return "-" if value < 0 else f"{value:.3f}"


def _table(rows: list[list[str]]) -> str:
    """Plain text columns: the first left-aligned, the others right-aligned."""
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    cells = (("  ".join(cell.ljust(w) if i == 0 else cell.rjust(w) for i, (cell, w) in enumerate(zip(row, widths)))) for row in rows)
    return "\n".join(f" {line}".rstrip() for line in cells)


COMMAND = Command("metrics", "COCO metrics, per-class AP and TIDE of a predictions.json", METRICS_DOC, METRICS_DEFAULTS,
                  metrics_paths, main, script="get_COCO_metrics.py")
