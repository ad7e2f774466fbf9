"""Accuracy side by side: train every model under one schedule on one dataset, score each with COCO's metrics.

    python benchmarks/accuracy.py                       # the default run on the synthetic drone set (CPU)
    python benchmarks/accuracy.py --quick               # a smoke run: tiny data, 1 epoch, 2 models x 2 seeds
    python benchmarks/accuracy.py --data dataset/data.yaml --split test --epochs 300 --imgsz 640 --device 0,1,2,3 \\
        --others rtdetr-r50,rtdetr-x,yolov8m,yolo11m,lrs-detr-b-no-dfenet,lrs-detr-b-no-sefp,lrs-detr-b-no-dpra,lrs-detr-b-plain

`models` are trained once per seed in `seeds`, `others` once (first seed), all under one `schedule`, the same
epochs, image size and batch; YOLO rows too. On the synthetic set each seed draws its own images as well as its
own training order (`data_seeds`: one number shares one set), so that the spread over seeds is the spread a user
meets; the first of `models` is compared with each other model seed by seed (paired differences on AP, AP50 and
APs: mean, Student's t 95% interval, seeds favouring each side), and every score's scoring spread (the standard
deviation over `bootstrap` resamples of the scored images) is measured beside it. `schedule` "recipe" is the authors' (AdamW, lr 1e-4 constant, 2000
warm-up iterations, no mosaic, no AMP; lrsdetr.models.recipe); "quick" is the quick start's short CPU schedule
(the recipe with lr 5e-4, one optimiser step per batch, 30 warm-up iterations; lrsdetr.engine.quickstart);
"auto" (the default) picks "quick" on the synthetic set and "recipe" with `data`. Each run is scored on `split` by
pycocotools (lrsdetr.eval: AP, AP50, AP75, APs, APm at `max_dets`), and every model's parameters and GFLOPs
(fused, at 640, Ultralytics' counter) and batch-1 CPU latency at `imgsz` (all models timed in the same rounds,
`threads` threads) are measured in the same run. Out: `out`/accuracy.md (the table: mean ± sample standard
deviation over seeds), accuracy.csv, accuracy.png (AP50 and APs against latency) and, with `curves`,
accuracy_curves.png (Ultralytics' validation mAP50 and mAP50-95 after every epoch, per model: mean and range over
seeds) with how much each model still gained over the last quarter of its epochs. Finished runs are reused (their
result.json), an interrupted one resumes from its last.pt, so the command can be re-run after any stop.
`--device 0,1,2,3` trains with DDP on four GPUs.

Defaults: per seed a synthetic draw of 128 train / 1,024 scored images of 128 px, 20 epochs of batch 4 (640
iterations), the quick schedule, LRS-DETR-B, RT-DETR-R18 and the plain ablation over 5 seeds. At 128 px the
decoder and the loss, the same in every model, cost most of each step, so smaller or fewer training images buy
few more iterations. 1,024 scored images (about 8,700 objects) bring the scoring spread of AP, and of B - R18 on
the same images, to about 0.3 points, half that difference on the first seed (48 images, the old size: 1.2-1.3,
twice it); scoring them and
their bootstrap take about 6 minutes of a 25-30 minute run on 2 CPU cores. 640 iterations do not reach a
plateau: the table compares what the models learn in a short, equal budget. docs/evidence.md, "Accuracy side by
side on the synthetic set", has the figures, the run times and the reading.
"""

from __future__ import annotations

import csv
import json
import math
import statistics
import time
from copy import deepcopy
from pathlib import Path
from typing import NamedTuple

import torch
from ultralytics import YOLO
from ultralytics.data.utils import img2label_paths
from ultralytics.nn.tasks import yaml_model_load
from ultralytics.utils.torch_utils import get_flops

from lrsdetr.cfg import IMGSZ
from lrsdetr.data.coco import write_coco_json, yolo_to_coco
from lrsdetr.data.files import require_writable, write_text_atomic
from lrsdetr.data.synth import make_yolo_dataset
from lrsdetr.engine.quickstart import quick_schedule
from lrsdetr.eval import evaluate_predictions
from lrsdetr.eval.bootstrap import KEYS as SPREAD_KEYS
from lrsdetr.eval.bootstrap import scoring_spread
from lrsdetr.models import RTDETR
from lrsdetr.models.recipe import TRAIN_RECIPE, WARMUP_ITERATIONS, WarmupIterations
from lrsdetr.tools.checks import (
    dataset_inputs,
    require_checkpoint,
    require_data,
    require_model,
)
from lrsdetr.utils.atomic import save_figure_atomic, write_csv_atomic
from lrsdetr.utils.cli import whole_numbers, with_preset
from lrsdetr.utils.command import Command
from lrsdetr.utils.errors import DataError
from lrsdetr.utils.guard import CommandPaths

from .latency import time_in_rounds  # benchmarks/latency.py, beside this file
from .paired import markdown, paired

DEFAULTS = {
    "models": "lrs-detr-b,rtdetr-r18,lrs-detr-b-plain",  # trained once per seed; the first is paired against the others
    "others": "",  # trained with the first seed only
    "seeds": "0,1,2,3,4",
    "data_seeds": "",  # the synthetic set each seed draws: empty, its own (seed s, draw s); one number, one set for all seeds
    "epochs": 20,
    "imgsz": 128,
    "batch": 4,
    "schedule": "auto",  # 'recipe' (the authors'), 'quick' (the quick start's CPU schedule) or 'auto': quick on the synthetic set
    "data": "",  # a data.yaml; empty: the synthetic drone set below, made once under `out`
    "train_images": 128,  # synthetic set: training images
    "val_images": 1024,  # synthetic set: validation images (sized by the scoring spread: docs/evidence.md)
    "synth_size": 128,  # synthetic set: image side in pixels (objects keep their pixel size: most are COCO-small)
    "device": "cpu",  # '0' or '0,1,2,3' (DDP) for GPUs
    "workers": 2,
    "split": "val",  # the split scored ('test' for the paper's VisDrone-DET test-dev numbers)
    "max_dets": 100,  # detections per image scored (COCO 100; VisDrone's protocol 500)
    "threads": 2,  # CPU threads for the latency rounds
    "latency_rounds": 10,
    "bootstrap": 200,  # resamples of the scored images measuring each score's scoring spread (0: not measured)
    "curves": False,  # validate after every epoch: learning curves (accuracy_curves.png), about 40% more time; the last epoch is scored either way
    "out": "runs/accuracy",
    "quick": False,  # smoke run (QUICK: 16/8 images of 128 px, 1 epoch, lrs-detr-b and rtdetr-r18, seeds 0,1)
}

QUICK = {"models": "lrs-detr-b,rtdetr-r18", "others": "", "seeds": "0,1", "epochs": 1, "imgsz": 128, "batch": 4,
         "train_images": 16, "val_images": 8, "synth_size": 128, "latency_rounds": 2,
         "bootstrap": 20}
WARMUP_SHARE = 0.1  # at most this share of a run warms up
METRICS = ("AP", "AP50", "AP75", "APs", "APm")
PAIRED_METRICS = ("AP", "AP50", "APs")
SPREAD_SIZES = (48, 96, 256)  # scored-set sizes whose scoring spread is measured beside the set's own (48: the old default)


class Run(NamedTuple):
    """One training: `model` with training seed `seed` on synthetic draw `draw` (None: the user's --data)."""

    model: str
    seed: int
    draw: int | None


def names_of(text: str) -> list[str]:
    return [name.strip().removesuffix(".yaml") for name in text.split(",") if name.strip()]


def is_yolo(name: str) -> bool:
    return name.startswith("yolo")


def wrapper(model: str, name: str):
    """The Ultralytics model object for a config or checkpoint of model `name`: YOLO rows are Ultralytics' YOLO."""
    return YOLO(model) if is_yolo(name) else RTDETR(model)


def model_config(name: str) -> str:
    """The config a run of model `name` starts from; Ultralytics' scaled YOLO names (yolov8m: yolov8.yaml at scale
    m) are checked its own way, the others as train.py checks --model."""
    if not is_yolo(name):
        return require_model(f"{name}.yaml", "--models/--others")
    try:
        yaml_model_load(f"{name}.yaml")
    except FileNotFoundError:
        raise DataError(f"--models/--others {name}: no such Ultralytics YOLO config (expected e.g. yolov8m or yolo11m)") from None
    return f"{name}.yaml"


def data_draws(params: dict) -> dict[int, int | None]:
    """Per training seed, the synthetic set it draws: its own by default, so that the spread over seeds is that of
    the data too; one `data_seeds` number shares one set; None for every seed with the user's `data`."""
    seeds = whole_numbers(params["seeds"], "--seeds")
    if params["data"]:
        if params["data_seeds"]:
            raise DataError(f"--data_seeds {params['data_seeds']}: only the synthetic set can be drawn again; with --data every seed uses that data")
        return dict.fromkeys(seeds)
    if not params["data_seeds"]:
        return {seed: seed for seed in seeds}
    draws = whole_numbers(params["data_seeds"], "--data_seeds")
    if len(draws) not in (1, len(seeds)):
        raise DataError(f"--data_seeds {params['data_seeds']}: expected one number (one set for every seed) or one per seed ({len(seeds)})")
    return dict(zip(seeds, draws * len(seeds) if len(draws) == 1 else draws))


def planned_runs(params: dict) -> list[Run]:
    """The runs in the order they train: seed by seed every model of `models` (a stop leaves whole pairs), then
    `others` with the first seed."""
    draws = data_draws(params)
    models, others = names_of(params["models"]), names_of(params["others"])
    for name in models + others:
        model_config(name)
    first = next(iter(draws))
    return [Run(m, s, d) for s, d in draws.items() for m in models] + [Run(m, first, draws[first]) for m in others if m not in models]


def dataset(params: dict, out: Path, draw: int | None) -> str:
    """`data`, checked; or synthetic draw `draw` of the drone set at the requested size, made once and reused."""
    if params["data"]:
        require_data(params["data"], splits=tuple(dict.fromkeys(("train", "val", params["split"]))))
        return str(Path(params["data"]).resolve())
    root = out / f"synth-{params['train_images']}-{params['val_images']}-{params['synth_size']}px-draw{draw}"
    if not (root / "data.yaml").is_file():
        print(f"making draw {draw} of the synthetic drone set in {root}", flush=True)
        make_yolo_dataset(root, params["train_images"], params["val_images"], params["synth_size"], seed=draw)
    return str(root / "data.yaml")


def recipe_schedule(batch: int) -> dict:
    """The authors' recipe at `batch`, its 2000 warm-up iterations included."""
    return {**TRAIN_RECIPE, "batch": batch, "warmup_iters": WARMUP_ITERATIONS}


SCHEDULES = {"recipe": recipe_schedule, "quick": quick_schedule}  # name: the train arguments at a batch size


def schedule_name(params: dict) -> str:
    """The schedule `schedule` names; 'auto' is the quick one on the synthetic set and the authors' recipe with `data`."""
    name = params["schedule"]
    if name == "auto":
        return "recipe" if params["data"] else "quick"
    if name not in SCHEDULES:
        raise DataError(f"--schedule {name}: expected one of auto, {', '.join(SCHEDULES)}")
    return name


def settings(params: dict, data: str, seed: int) -> dict:
    """What makes two runs the same run: a stored result is reused only if these match."""
    keys = ("schedule", "epochs", "imgsz", "batch", "split", "max_dets", "curves")
    return {"data": data, "seed": seed, **{key: params[key] for key in keys}}


class ShortRunWarmup(WarmupIterations):
    """The schedule's warm-up iterations, or a tenth of the run if that is shorter (Ultralytics keeps 100 at least).

    A CPU run of a few hundred iterations would otherwise end before its learning rate reached lr0; on VisDrone
    (300 epochs) the recipe's warm-up is unchanged."""

    def __call__(self, trainer) -> None:
        super().__call__(trainer)
        trainer.args.warmup_epochs = min(trainer.args.warmup_epochs, WARMUP_SHARE * trainer.epochs)


def train(name: str, seed: int, params: dict, data: str, folder: Path) -> Path:
    """Train one run in `folder`, or resume it from last.pt if it was stopped; returns the last epoch's weights.

    `done` marks a finished training (Ultralytics keeps writing best.pt and last.pt while it trains). The last
    epoch is scored, not Ultralytics' best.pt: with `curves` that would be chosen on the images it is scored on."""
    done, last = folder / "done", folder / "weights" / "last.pt"
    if not done.is_file():
        if last.is_file():
            print(f"resuming {last}", flush=True)
            wrapper(str(last), name).train(resume=True)
        else:
            model = wrapper(model_config(name), name)
            args = SCHEDULES[params["schedule"]](params["batch"])
            model.add_callback("on_pretrain_routine_end", ShortRunWarmup(args.pop("warmup_iters")))  # YOLO takes no warmup_iters
            args |= {"data": data, "epochs": params["epochs"], "imgsz": params["imgsz"], "seed": seed, "device": params["device"],
                     "workers": params["workers"], "val": params["curves"], "plots": False,
                     "project": str(folder.parent), "name": folder.name, "exist_ok": True}
            model.train(**args)
        write_text_atomic(done, "trained\n")
    return folder / "weights" / "last.pt"


def evaluate(name: str, weights: Path, params: dict, data: str, folder: Path) -> tuple[dict, dict]:
    """pycocotools' AP, AP50, AP75, APs, APm of `weights` on the scored split (Ultralytics' predictions.json), and
    their scoring spread: per set size, the standard deviation over `bootstrap` resamples of the scored images."""
    saved = []
    model = wrapper(require_checkpoint(str(weights)), name)
    model.add_callback("on_val_end", lambda validator: saved.append(Path(validator.save_dir)))
    device = str(params["device"]).split(",")[0]
    model.val(data=data, split=params["split"], imgsz=params["imgsz"], batch=params["batch"], device=device, save_json=True,
              plots=False, project=str(folder), name="val", exist_ok=True)
    info = require_data(data, splits=(params["split"],))
    images = Path(info[params["split"]])
    labels = Path(img2label_paths([str(images / "x.jpg")])[0]).parent
    coco, _ = yolo_to_coco(images, labels, [info["names"][i] for i in sorted(info["names"])])
    write_coco_json(coco, saved[-1] / "ground_truth.json")
    report = evaluate_predictions(saved[-1] / "predictions.json", saved[-1] / "ground_truth.json", params["max_dets"], tide=False, backend="pycocotools")
    stats = report.coco.stats()
    images = len(report.pair.images)
    sizes = sorted({size for size in SPREAD_SIZES if size < images} | {images})
    spread = scoring_spread(report.pair, sizes, params["bootstrap"], max_dets=params["max_dets"]) if params["bootstrap"] else {}
    return {key: stats[key] for key in METRICS}, {str(size): values for size, values in spread.items()}  # as result.json keeps it


def training_seconds(folder: Path) -> float:
    """The time Ultralytics spent training the run in `folder`, from its results.csv: a resumed run's clock starts
    again, so the elapsed time at the end of each session is summed (a wall clock around train() would count only
    what this invocation did)."""
    with (folder / "results.csv").open() as handle:
        times = [float(row["time"]) for row in csv.DictReader(handle, skipinitialspace=True)]
    return sum(t for t, later in zip(times, [*times[1:], 0.0]) if later < t)


def run_folder(out: Path, run: Run) -> Path:
    """Where one run keeps its settings, weights, validation and result; named by its seed, and by its data draw
    too where that is not the seed's own."""
    drawn = "" if run.draw in (None, run.seed) else f"-data{run.draw}"
    return out / "runs" / f"{run.model}-seed{run.seed}{drawn}"


def unfinished(runs: list[Run], out: Path) -> int:
    """How many of `runs` have no result yet: the ones the time left is made of (a finished run is reused in seconds)."""
    return sum(not (run_folder(out, run) / "result.json").is_file() for run in runs)


def run_one(run: Run, params: dict, out: Path) -> tuple[dict, bool]:
    """(result, whether it was computed now): a finished run's result.json, or train + evaluate and write it."""
    name, seed, folder, data = run.model, run.seed, run_folder(out, run), dataset(params, out, run.draw)
    result_file, settings_file = folder / "result.json", folder / "settings.json"
    wanted = settings(params, data, seed)
    if settings_file.is_file() and (found := json.loads(settings_file.read_text())) != wanted:
        raise DataError(f"{settings_file}: this run was started with other settings ({found}); use another --out or remove {folder}")
    if result_file.is_file():
        print(f"reusing {result_file}", flush=True)
        return json.loads(result_file.read_text()), False
    folder.mkdir(parents=True, exist_ok=True)
    write_text_atomic(settings_file, json.dumps(wanted))  # before training: a resumed run is checked too
    weights = train(name, seed, params, data, folder)
    result = {"model": name, "seed": seed, "draw": run.draw, "settings": wanted, "weights": str(weights), "train_seconds": training_seconds(folder)}
    result["metrics"], result["scoring_spread"] = evaluate(name, weights, params, data, folder)
    write_text_atomic(result_file, json.dumps(result, indent=2))
    return result, True


def size_and_latency(weights: dict[str, str], params: dict) -> dict[str, dict]:
    """Fused parameters, GFLOPs at 640 and the median batch-1 CPU latency (ms) at `imgsz`, all timed in the same rounds."""
    models = {name: deepcopy(wrapper(path, name).model).float().cpu().eval().fuse(verbose=False) for name, path in weights.items()}
    sizes = {name: {"params": sum(p.numel() for p in m.parameters()), "gflops": get_flops(m, IMGSZ)} for name, m in models.items()}
    image = torch.rand(1, 3, params["imgsz"], params["imgsz"]).contiguous(memory_format=torch.channels_last)
    calls = {name: (lambda m=m.to(memory_format=torch.channels_last): m(image)) for name, m in models.items()}
    threads = torch.get_num_threads()
    torch.set_num_threads(params["threads"])
    try:
        medians, load = time_in_rounds(calls, params["latency_rounds"], 2, lambda: None)
    finally:
        torch.set_num_threads(threads)
    for name in models:
        sizes[name] |= {"latency_ms": medians[name], "foreign_load": load}
    return sizes


def mean_and_spread(values: list[float]) -> tuple[float, float]:
    """Mean and sample standard deviation (nan for one seed: no spread can be measured)."""
    return statistics.fmean(values), statistics.stdev(values) if len(values) > 1 else math.nan


def summarise(results: list[dict], sizes: dict[str, dict]) -> list[dict]:
    rows = []
    for name in dict.fromkeys(r["model"] for r in results):
        runs = [r for r in results if r["model"] == name]
        row = {"model": name, "seeds": len(runs), **sizes[name]}
        for key in METRICS:
            row[key], row[f"{key}_std"] = mean_and_spread([100 * r["metrics"][key] for r in runs])
        rows.append(row)
    return rows


def spread_line(results: list[dict]) -> str:
    """The scoring spread, averaged over every run: how far a score moves with the choice of scored images alone, at
    the scored set's size and at smaller ones (m out of n), to set beside the differences between models."""
    sizes: dict[str, list[dict]] = {}
    for result in results:
        for size, values in result.get("scoring_spread", {}).items():
            sizes.setdefault(size, []).append(values)
    if not sizes:
        return ""
    parts = [f"{size} images: " + ", ".join(f"{key} {statistics.fmean(v[key] for v in runs):.2f}" for key in SPREAD_KEYS)
             for size, runs in sorted(sizes.items(), key=lambda item: int(item[0]))]
    return ("Scoring spread (standard deviation, points of %, over bootstrap resamples of the scored images, mean of "
            f"{len(results)} runs): " + "; ".join(parts) + ".")


def cell(mean: float, std: float) -> str:
    return f"{mean:.1f}" if math.isnan(std) else f"{mean:.1f} ± {std:.1f}"


def markdown_table(rows: list[dict], params: dict) -> str:
    head = ["Model", "Seeds", "Params", "GFLOPs@640", f"CPU ms@{params['imgsz']}", *METRICS]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for r in rows:
        values = [r["model"], str(r["seeds"]), f"{r['params'] / 1e6:.2f}M", f"{r['gflops']:.1f}", f"{r['latency_ms']:.0f}"]
        lines.append("| " + " | ".join(values + [cell(r[k], r[f"{k}_std"]) for k in METRICS]) + " |")
    load = rows[0]["foreign_load"] if rows else 0.0
    lines.append(f"\nAP in %, mean ± sample standard deviation over seeds (pycocotools, maxDets {params['max_dets']}); "
                 f"latency: median of {params['latency_rounds']} rounds, batch 1, {params['threads']} threads, other processes used {load:.1f} cores meanwhile.")
    return "\n".join(lines)


def model_style(index: int) -> dict:
    """The `index`th model's colour and marks, the same in both figures: tab10's ten colours, then again dashed
    with square marks, so that no two of up to 20 models look alike."""
    import matplotlib.pyplot as plt

    first = index < 10
    return {"color": plt.get_cmap("tab10")(index % 10), "linestyle": "-" if first else "--", "marker": "o" if first else "s"}


def plot(rows: list[dict], path: Path, imgsz: int) -> None:
    """AP50 and APs against CPU latency, with the seed spread as error bars; models named in a legend beside the
    plots rather than next to their points, where close models' names would overlap."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(1, 2, figsize=(13, 4.5))
    for axis, key in zip(axes, ("AP50", "APs")):
        for index, r in enumerate(rows):
            axis.errorbar(r["latency_ms"], r[key], yerr=0 if math.isnan(r[f"{key}_std"]) else r[f"{key}_std"], capsize=3,
                          label=r["model"], **model_style(index) | {"linestyle": "none"})
        axis.set_xlabel(f"CPU latency, batch 1, {imgsz} px (ms)")
        axis.set_ylabel(f"{key} (%)")
        axis.grid(alpha=0.3)
    axes[1].legend(loc="upper left", bbox_to_anchor=(1.02, 1), fontsize=8)
    save_figure_atomic(figure, path)


CURVE_KEYS = {"mAP50": "metrics/mAP50(B)", "mAP50-95": "metrics/mAP50-95(B)"}


def learning_curves(results: list[dict]) -> dict[str, dict[str, list[list[float]]]]:
    """Per model, per metric, one list per seed of Ultralytics' validation value (%) after each epoch (results.csv)."""
    curves: dict[str, dict[str, list[list[float]]]] = {}
    for result in results:
        with (Path(result["weights"]).parents[1] / "results.csv").open() as handle:
            epochs = [{key.strip(): value for key, value in row.items()} for row in csv.DictReader(handle)]
        for metric, column in CURVE_KEYS.items():
            curves.setdefault(result["model"], {}).setdefault(metric, []).append([100 * float(e[column]) for e in epochs])
    return curves


def last_quarter_gains(curves: dict[str, dict[str, list[list[float]]]]) -> str:
    """How much each model's mean mAP50 still rose over the last quarter of the epochs: near 0 means it has flattened."""
    lines = []
    for name, metrics in curves.items():
        mean = [statistics.fmean(values) for values in zip(*metrics["mAP50"])]
        start = max(0, math.floor(0.75 * len(mean)) - 1)  # index of the epoch three quarters in
        lines.append(f"{name}: mAP50 {mean[start]:.1f} after epoch {start + 1} -> {mean[-1]:.1f} after epoch {len(mean)} "
                     f"({mean[-1] - mean[start]:+.1f} points over the last quarter, mean of {len(metrics['mAP50'])} seed(s))")
    return "\n".join(lines)


def plot_curves(curves: dict[str, dict[str, list[list[float]]]], path: Path) -> None:
    """mAP50 and mAP50-95 after each epoch per model: the seeds' mean, their range shaded."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import MaxNLocator

    figure, axes = plt.subplots(1, 2, figsize=(11, 4.5))
    for axis, metric in zip(axes, CURVE_KEYS):
        for index, (name, metrics) in enumerate(curves.items()):
            runs = list(zip(*metrics[metric]))  # per epoch, the seeds' values
            epochs = range(1, len(runs) + 1)
            style = model_style(index)
            axis.plot(epochs, [statistics.fmean(v) for v in runs], markersize=3, label=name, **style)
            axis.fill_between(epochs, [min(v) for v in runs], [max(v) for v in runs], color=style["color"], alpha=0.2)
        axis.set(xlabel="epoch", ylabel=f"{metric} (%), Ultralytics' validation", title=f"Learning curves: {metric}")
        axis.xaxis.set_major_locator(MaxNLocator(integer=True))
        axis.grid(alpha=0.3)
        axis.legend(fontsize=8)
    save_figure_atomic(figure, path)


def resolved(params: dict) -> dict:
    """The parameters the run uses: --quick's settings (flags given on the command line still win), the schedule
    named, and `out` absolute (runs store paths under it: the same folder however --out spells it)."""
    params = dict(params)
    if params["quick"]:
        params = with_preset(params, DEFAULTS, QUICK)
        params["out"] = str(Path(params["out"]) / "quick") if params["out"] == DEFAULTS["out"] else params["out"]
    params["schedule"] = schedule_name(params)
    params["out"] = str(Path(params["out"]).resolve())
    return params


def accuracy_paths(params: dict) -> CommandPaths:
    """Checks every setting before the first run trains; reads --data (when given), writes --out."""
    params = resolved(params)
    planned_runs(params)
    require_writable(Path(params["out"]), "--out")
    splits = tuple(dict.fromkeys(("train", "val", params["split"])))
    return CommandPaths(params).reads("--data", *(dataset_inputs(params["data"], splits) if params["data"] else [])).writes("--out", params["out"])


def main(params: dict) -> None:
    """The benchmark, on parameters `resolved` (accuracy_paths) made."""
    out, runs = Path(params["out"]), planned_runs(params)
    out.mkdir(parents=True, exist_ok=True)
    if params["data"]:
        print(f"every seed trains on {params['data']}: the spread over seeds is that of training alone, not of the data", flush=True)
    results, durations, start = [], [], time.perf_counter()
    for index, run in enumerate(runs, 1):
        eta = f", about {statistics.fmean(durations) * unfinished(runs[index - 1:], out) / 60:.0f} min left" if durations else ""
        drawn = "" if run.draw is None else f", data draw {run.draw}"
        print(f"[{index}/{len(runs)}] {run.model} seed {run.seed}{drawn} ({(time.perf_counter() - start) / 60:.1f} min so far{eta})", flush=True)
        run_start = time.perf_counter()
        result, computed = run_one(run, params, out)
        if computed:
            durations.append(time.perf_counter() - run_start)
        results.append(result)
    weights = {}
    for result in results:
        weights.setdefault(result["model"], result["weights"])  # the first seed's model is timed
    print("measuring parameters, GFLOPs and CPU latency", flush=True)
    rows = summarise(results, size_and_latency(weights, params))
    table = "\n\n".join(part for part in (markdown_table(rows, params), spread_line(results), markdown(paired(results, runs[0].model, PAIRED_METRICS))) if part)
    write_text_atomic(out / "accuracy.md", table + "\n")
    write_csv_atomic(out / "accuracy.csv", rows, list(rows[0]))
    plot(rows, out / "accuracy.png", params["imgsz"])
    print(table)
    written = [out / "accuracy.md", out / "accuracy.csv", out / "accuracy.png"]
    if params["curves"]:
        curves = learning_curves(results)
        plot_curves(curves, out / "accuracy_curves.png")
        print(f"\nlearning curves (Ultralytics' validation after each epoch):\n{last_quarter_gains(curves)}")
        written.append(out / "accuracy_curves.png")
    print(f"wrote {', '.join(map(str, written))}")


COMMAND = Command("bench accuracy", "accuracy side by side: every model, one schedule, several seeds", __doc__, DEFAULTS,
                  accuracy_paths, main, script="benchmarks/accuracy.py")
