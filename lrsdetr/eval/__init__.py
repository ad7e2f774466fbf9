"""Evaluation of a COCO-format predictions file: pycocotools' metrics with a real maxDets, per-class AP, TIDE."""

from .coco_metrics import CocoMetrics, coco_metrics
from .inputs import CocoPair, EvalInputError, load_coco_pair
from .report import EvaluationReport, evaluate_predictions, format_report
from .tide import TideResult, tide_analysis

__all__ = (
    "EvalInputError",
    "CocoPair",
    "load_coco_pair",
    "CocoMetrics",
    "coco_metrics",
    "TideResult",
    "tide_analysis",
    "EvaluationReport",
    "evaluate_predictions",
    "format_report",
)
