"""The main job: from nothing to a trained, evaluated LRS-DETR-B in about ten minutes on two CPU cores.

Without a dataset it draws a synthetic VisDrone-like one (lrsdetr.data.synth), trains LRS-DETR-B on it with a
short CPU schedule, validates best.pt (predictions.json), and prints the COCO metrics with TIDE errors, the
VisDrone toolkit's protocol beside COCO's (the synthetic set is VisDrone-native: scored against its original
annotations, ignored regions included), and where every plot went. With `data=dataset/data.yaml` the same flow runs on real VisDrone.

The short schedule departs from the authors' recipe (models/recipe.py TRAIN_RECIPE, train.py's default) only where
a few hundred CPU iterations demand it: small images, a batch of 4 with no gradient accumulation
(nbs = batch), a higher constant learning rate, a warm-up of tens of iterations instead of 2000, and
warm-up bias lr 0 (Ultralytics' 0.1 suits SGD, not AdamW).
"""

from __future__ import annotations

import time
from pathlib import Path

from ..cfg import SCORING_CONF
from ..data.synth import make_yolo_dataset
from ..eval import format_report
from ..eval.visdrone_report import protocols_table
from ..models.outputs import describe_outputs
from ..models.recipe import TRAIN_RECIPE
from ..tools.checks import dataset_inputs, require_data, require_model
from ..utils.command import Command
from ..utils.guard import CommandPaths
from .train import train
from .validate import coco_evaluation, is_visdrone, validate, visdrone_evaluation

QUICK_SCHEDULE = {
    **TRAIN_RECIPE,
    "imgsz": 160,
    "epochs": 10,
    "batch": 4,
    "nbs": 4,  # one optimiser step per batch: every step counts in a short run
    "lr0": 5e-4,
    "warmup_bias_lr": 0.0,
}
QUICK_WARMUP_ITERATIONS = 30

QUICKSTART_DOC = """Quick start: synthetic drone data -> LRS-DETR-B trained on CPU -> validation -> COCO metrics, TIDE, plots.

Runs in about ten minutes on two CPU cores, offline. With --data dataset/data.yaml it runs on real VisDrone
(the same short schedule; use train.py for the full 300-epoch recipe).
"""

QUICKSTART_DEFAULTS = {
    "data": "",
    "model": "lrs-detr-b.yaml",
    "workdir": "runs/quickstart",
    "n_train": 128,
    "n_val": 32,
    **{key: QUICK_SCHEDULE[key] for key in ("imgsz", "epochs", "batch", "lr0")},
    "warmup_iters": QUICK_WARMUP_ITERATIONS,
    "workers": 0,
    "device": "",
    "max_dets": 100,
    "seed": 0,
}


def quick_schedule(batch: int, warmup_iters: int = QUICK_WARMUP_ITERATIONS) -> dict:
    """The short schedule's train arguments at `batch`: one optimiser step per batch (nbs = batch), the warm-up
    in iterations (lrsdetr.engine.train takes `warmup_iters`). The quick start and both benchmarks train with it."""
    return {**QUICK_SCHEDULE, "batch": batch, "nbs": batch, "warmup_iters": warmup_iters}


def synthetic_data(folder: Path, n_train: int, n_val: int, size: int, seed: int) -> str:
    """The synthetic data set's data.yaml (drawn again, byte for byte the same, when it already exists)."""
    print(f"Drawing {n_train} train + {n_val} val synthetic drone images of {size}x{size} px in {folder}")
    return str(make_yolo_dataset(folder, n_train, n_val, size, seed))


def quickstart(params: dict) -> None:
    """quickstart.py: data (synthetic unless `data` is given), training, validation, COCO metrics + TIDE."""
    start = time.time()
    workdir = Path(params["workdir"])
    data = params["data"] or synthetic_data(workdir / "synthetic", params["n_train"], params["n_val"], params["imgsz"], params["seed"])
    data_info = require_data(data)
    schedule = {key: params[key] for key in ("imgsz", "epochs", "lr0")}
    run = train(
        {
            "model": params["model"],
            "data": data,
            **quick_schedule(params["batch"], params["warmup_iters"]),
            **schedule,
            "workers": params["workers"],
            "device": params["device"],
            "seed": params["seed"],
            "project": str(workdir),
            "name": "train",
            "exist_ok": True,
        }
    )
    trained = time.time()
    validation = validate(
        {
            "weights": str(run / "weights" / "best.pt"),
            "data": data,
            "split": "val",
            "imgsz": params["imgsz"],
            "batch": params["batch"],
            "conf": SCORING_CONF,
            "device": params["device"],
            "save_json": True,
            "project": str(workdir),
            "name": "val",
            "exist_ok": True,
        }
    )
    coco = coco_evaluation(validation, data_info["names"], params["max_dets"])
    print(format_report(coco))
    if is_visdrone(data_info["names"]):
        native = None if params["data"] else workdir / "synthetic" / "visdrone" / "val"  # the set before conversion
        visdrone = visdrone_evaluation(validation, native and native / "annotations", native and native / "images")
        print(f"\n{protocols_table(coco.coco, visdrone)}")
    print(f"\n{describe_outputs(run)}\n{describe_outputs(validation.save_dir)}")
    print(f"\nQuick start done in {(time.time() - start) / 60:.1f} min (training {(trained - start) / 60:.1f} min). Next steps: README.md")


def quickstart_paths(params: dict) -> CommandPaths:
    """Reads --data (when given) and a .pt --model; writes the synthetic set (when drawn), the training and the
    validation runs, all under --workdir."""
    workdir, model = Path(params["workdir"]), require_model(params["model"])
    paths = CommandPaths(params).reads("--model", model if model.endswith(".pt") else None)
    if params["data"]:
        paths.reads("--data", *dataset_inputs(params["data"]))
    return paths.writes("--workdir", None if params["data"] else workdir / "synthetic", workdir / "train", workdir / "val")


COMMAND = Command("quickstart", "synthetic data -> training -> validation -> metrics, on CPU", QUICKSTART_DOC,
                  QUICKSTART_DEFAULTS, quickstart_paths, quickstart, script="quickstart.py")
