"""val.py's logic: score a checkpoint or an export on one split, save COCO-format predictions, print the COCO report,
and on VisDrone data the challenge-format results with both protocols side by side."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ultralytics.utils.metrics import DetMetrics

from ..cfg import COMPILE, HALF, IMGSZ, MAX_DET, SCORING_CONF
from ..data.coco import split_to_coco, write_coco_json, yolo_to_coco
from ..data.visdrone import VISDRONE_NAMES
from ..data.yolo import label_folder
from ..eval import EvaluationReport, evaluate_predictions, format_report
from ..eval.visdrone import evaluate
from ..eval.visdrone_report import protocols_table
from ..eval.visdrone_results import (
    ANNOTATIONS_DIR,
    RESULTS_DIR,
    annotations_from_labels,
    results_from_predictions,
)
from ..models import RTDETR
from ..models.outputs import TRAINED_WEIGHTS, describe_outputs, pinned_run_folder
from ..tools.checks import dataset_inputs, require_data, require_same_classes, split_images
from ..tools.compiled import COMPILE_HELP, compile_request, compiled_runs
from ..tools.formats import require_weights, weights_format
from ..tools.precision import HALF_HELP, Precision, inference_precision, torch_device
from ..utils.command import Command
from ..utils.errors import DataError
from ..utils.guard import CommandPaths
from ..utils.run_folder import run_folder

VAL_DOC = """Score a trained checkpoint on a split of a dataset and save COCO-format predictions (predictions.json).

Example: python val.py --weights runs/train/lrs-detr-b/weights/best.pt --data dataset/data.yaml --split test
It ends by printing the yolo2coco.py and get_COCO_metrics.py commands that give the COCO metrics and TIDE errors.
On VisDrone data (its ten class names) it also writes the challenge-format results (visdrone_results/, as
--save_visdrone does for any data) and prints the COCO and VisDrone-toolkit protocols side by side; give
--visdrone_anno the split's original annotations for the exact protocol (ignored regions, score-0 boxes).
A re-run into the same folder (--exist_ok True) replaces the earlier run's results; an interrupted run keeps none.
""" + HALF_HELP + COMPILE_HELP

VAL_DEFAULTS = {
    "weights": TRAINED_WEIGHTS,
    "data": "dataset/data.yaml",
    "split": "test",
    "imgsz": IMGSZ,
    "batch": 8,
    "conf": SCORING_CONF,
    "max_det": MAX_DET,
    "device": "",
    "half": HALF,
    "compile": COMPILE,
    "save_json": True,
    "save_visdrone": False,
    "visdrone_anno": None,
    "plots": True,
    "project": "runs/val",
    "name": "exp",
    "exist_ok": False,
    "trust_checkpoint": False,
}


OUR_KEYS = ("save_visdrone", "visdrone_anno", "half", "compile")  # val.py's own options, not Ultralytics'


def split_folder(split: str | list) -> Path | None:
    """A split's one folder of images; None for a list file of images or several entries."""
    return Path(split) if isinstance(split, str) and Path(split).is_dir() else None


@dataclass(frozen=True)
class Validation:
    """What val.py measured and where it put it; `data`: the data.yaml, `split`: its split's images as Ultralytics
    resolved them (a folder, a list file of images, or a list of those)."""

    metrics: DetMetrics
    save_dir: Path
    data: str
    split: str | list

    @property
    def images(self) -> Path | None:
        return split_folder(self.split)

    @property
    def labels(self) -> Path | None:
        return label_folder(self.images) if self.images else None

    @property
    def predictions(self) -> Path:
        return self.save_dir / "predictions.json"

    @property
    def visdrone_results(self) -> Path:
        return self.save_dir / RESULTS_DIR


def validate(params: dict, precision: Precision | None = None) -> Validation:
    """`params`: `weights` (a .pt or any export AutoBackend runs), `half` (tools/precision.py; default fp32) plus
    Ultralytics val arguments (data, split, imgsz, device, ...); `precision`: the one those make, where the caller
    has already worked it out."""
    val_args = {k: v for k, v in params.items() if k not in OUR_KEYS}
    weights = require_weights(val_args.pop("weights"))
    precision = precision or inference_precision(weights, params.get("half", HALF), val_args.get("device", ""))
    data_info = require_data(val_args["data"], splits=(val_args.get("split", "val"),))
    model = RTDETR(weights)
    require_same_classes(model.names, data_info, weights, val_args["data"])
    save_dirs = []
    model.add_callback("on_val_end", lambda validator: save_dirs.append(Path(validator.save_dir)))
    with precision.applied(model), compiled_runs(model, params.get("compile", COMPILE), torch_device(val_args.get("device", ""))):
        metrics = model.val(**val_args)
    return Validation(metrics, save_dirs[-1], val_args["data"], data_info[val_args.get("split", "val")])


def coco_evaluation(validation: Validation, names: dict[int, str], max_dets: int = 100, tide: bool = True) -> EvaluationReport:
    """What yolo2coco.py + get_COCO_metrics.py do, in one call: ground truth of the split, COCO metrics, TIDE."""
    ground_truth = validation.save_dir / "ground_truth.json"
    classes = [names[i] for i in sorted(names)]
    if validation.images:
        coco, _ = yolo_to_coco(validation.images, validation.labels, classes)
    else:
        coco, _ = split_to_coco(split_images(validation.split), classes)
    write_coco_json(coco, ground_truth)
    return evaluate_predictions(validation.predictions, ground_truth, max_dets=max_dets, tide=tide)


def is_visdrone(names: dict[int, str]) -> bool:
    """Data converted from VisDrone-DET (its ten class names, in order): both protocols apply."""
    return tuple(names[i] for i in sorted(names)) == VISDRONE_NAMES


def visdrone_evaluation(validation: Validation, anno_dir: str | Path | None = None, img_dir: str | Path | None = None) -> dict:
    """The VisDrone toolkit's numbers for val.py's predictions: against `anno_dir` (the original annotations, exact),
    or else against annotations made from the split's YOLO labels (no ignored regions, no score-0 boxes)."""
    if not validation.predictions.is_file():
        raise DataError("--save_visdrone: needs predictions.json, so keep --save_json True")
    results_from_predictions(validation.predictions, validation.images, validation.visdrone_results)
    if anno_dir is None:
        anno_dir = annotations_from_labels(validation.images, validation.labels, validation.save_dir / ANNOTATIONS_DIR)
    return evaluate(anno_dir, validation.visdrone_results, img_dir or validation.images)


def next_steps(validation: Validation, anno_json: Path) -> str:
    """The commands that turn val.py's predictions into COCO metrics and TIDE errors: yolo2coco.py reads a folder, so
    for a split listed in a file the ground truth val.py writes is the one to use."""
    metrics = f"python get_COCO_metrics.py --pred_json {validation.predictions} --anno_json {anno_json}"
    if not validation.images:
        return f"{metrics}   (the ground truth of {validation.split}, written by val.py)"
    return f"python dataset/yolo2coco.py --image_path {validation.images} --label_path {validation.labels} --out {anno_json} --data {validation.data}\n{metrics}"


def report(validation: Validation) -> str:
    """val.py's closing lines: the headline numbers, the outputs, and how to get the COCO metrics."""
    results = validation.metrics.results_dict
    lines = [f"mAP50-95 {results['metrics/mAP50-95(B)']:.4f}  mAP50 {results['metrics/mAP50(B)']:.4f}", describe_outputs(validation.save_dir)]
    if validation.predictions.is_file():
        lines += ["COCO metrics and TIDE errors:", next_steps(validation, validation.save_dir / "ground_truth.json")]
    return "\n".join(lines)


def val_paths(params: dict) -> CommandPaths:
    """Reads the weights, the data set and the original VisDrone annotations; writes the run folder (pinned)."""
    folder, pinned = pinned_run_folder(params)
    return (CommandPaths(pinned)
            .reads("--weights", require_weights(params["weights"]))
            .reads("--data", *dataset_inputs(params["data"], splits=(params["split"],)))
            .reads("--visdrone_anno", params["visdrone_anno"])
            .writes("--project/--name", folder, folder / RESULTS_DIR, folder / ANNOTATIONS_DIR, folder / "predictions.json"))


def main(params: dict) -> None:
    """val.py: say what precision runs where (refusing an export --half cannot change, before anything is written),
    validate, print `report` and, with predictions.json, the COCO report (TIDE: get_COCO_metrics.py); on
    VisDrone data (or with save_visdrone) write the challenge-format results, and on VisDrone data print the COCO
    and VisDrone protocols side by side. What a re-run into the folder finds of an earlier run is replaced."""
    precision = inference_precision(params["weights"], params["half"], params["device"])
    print(precision)
    if line := compile_request(params["weights"], params["compile"], params["device"]):
        print(line)
    print(f"weights: {params['weights']}, {weights_format(params['weights'])}")
    split = require_data(params["data"], splits=(params["split"],))[params["split"]]
    if params["save_visdrone"] and not split_folder(split):
        raise DataError(f"--save_visdrone True: the VisDrone toolkit reads one folder of images, and the {params['split']} split of "
                        f"--data {params['data']} is {split} (expected images/{params['split']} as a folder)")
    with run_folder(Path(params["project"]) / params["name"], "val"):
        validation = validate(params, precision)
        print(report(validation))
        names = validation.metrics.names
        coco = coco_evaluation(validation, names, tide=False) if validation.predictions.is_file() else None
        if coco is not None:
            print(format_report(coco))
        if is_visdrone(names) and not validation.images:
            print(f"VisDrone protocol: skipped, its toolkit reads one folder of images and {validation.split} is not one")
        elif is_visdrone(names) or params.get("save_visdrone"):
            visdrone = visdrone_evaluation(validation, params.get("visdrone_anno"))
            print(f"VisDrone submission files: {validation.visdrone_results}")
            if is_visdrone(names):
                print(protocols_table(coco.coco, visdrone))


COMMAND = Command("val", "score a checkpoint on a split, save predictions.json", VAL_DOC, VAL_DEFAULTS, val_paths, main,
                  script="val.py", inference=True, interrupted=lambda params: "what this run had written was removed")
