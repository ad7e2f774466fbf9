"""val.py's logic: score a checkpoint or an export on one split, save COCO-format predictions, print the COCO report."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ultralytics.data.utils import img2label_paths
from ultralytics.utils.metrics import DetMetrics

from ..data.coco import write_coco_json, yolo_to_coco
from ..eval import EvaluationReport, evaluate_predictions, format_report
from ..models import RTDETR
from ..tools.formats import openvino_in_f32, require_weights, weights_format
from .checks import require_data, require_same_classes
from .outputs import describe_outputs, project_folder


@dataclass(frozen=True)
class Validation:
    """What val.py measured and where it put it; `data`, `images`, `labels`: the data.yaml and the split's folders."""

    metrics: DetMetrics
    save_dir: Path
    data: str
    images: Path
    labels: Path

    @property
    def predictions(self) -> Path:
        return self.save_dir / "predictions.json"


def validate(params: dict) -> Validation:
    """`params`: `weights` (a .pt or any export AutoBackend runs) plus Ultralytics val arguments (data, split, imgsz, ...)."""
    val_args = dict(params)
    weights = require_weights(val_args.pop("weights"))
    if "project" in val_args:
        val_args["project"] = project_folder(val_args["project"])
    data_info = require_data(val_args["data"], splits=(val_args.get("split", "val"),))
    model = RTDETR(weights)
    require_same_classes(model.names, data_info, weights, val_args["data"])
    save_dirs = []
    model.add_callback("on_val_end", lambda validator: save_dirs.append(Path(validator.save_dir)))
    with openvino_in_f32(weights):
        metrics = model.val(**val_args)
    images = Path(data_info[val_args.get("split", "val")])
    return Validation(metrics, save_dirs[-1], val_args["data"], images, Path(img2label_paths([str(images / "x.jpg")])[0]).parent)


def coco_evaluation(validation: Validation, names: dict[int, str], max_dets: int = 100, tide: bool = True) -> EvaluationReport:
    """What yolo2coco.py + get_COCO_metrics.py do, in one call: ground truth of the split, COCO metrics, TIDE."""
    ground_truth = validation.save_dir / "ground_truth.json"
    coco, _ = yolo_to_coco(validation.images, validation.labels, [names[i] for i in sorted(names)])
    write_coco_json(coco, ground_truth)
    return evaluate_predictions(validation.predictions, ground_truth, max_dets=max_dets, tide=tide)


def next_steps(validation: Validation, anno_json: Path) -> str:
    """The two commands that turn val.py's predictions into COCO metrics and TIDE errors."""
    return (
        f"python dataset/yolo2coco.py --image_path {validation.images} --label_path {validation.labels} --out {anno_json} --data {validation.data}\n"
        f"python get_COCO_metrics.py --pred_json {validation.predictions} --anno_json {anno_json}"
    )


def report(validation: Validation) -> str:
    """val.py's closing lines: the headline numbers, the outputs, and how to get the COCO metrics."""
    results = validation.metrics.results_dict
    lines = [f"mAP50-95 {results['metrics/mAP50-95(B)']:.4f}  mAP50 {results['metrics/mAP50(B)']:.4f}", describe_outputs(validation.save_dir)]
    if validation.predictions.is_file():
        lines += ["COCO metrics and TIDE errors:", next_steps(validation, validation.save_dir / "ground_truth.json")]
    return "\n".join(lines)


def main(params: dict) -> None:
    """val.py: validate, print `report` and, with predictions.json, the COCO report (TIDE: get_COCO_metrics.py)."""
    print(f"weights: {params['weights']}, {weights_format(require_weights(params['weights']))}")
    validation = validate(params)
    print(report(validation))
    if validation.predictions.is_file():
        print(format_report(coco_evaluation(validation, validation.metrics.names, tide=False)))
