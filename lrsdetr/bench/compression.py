"""The whole compression chain on the synthetic drone set, side by side, in one command:

1. teacher: LRS-DETR-B trained `teacher_epochs` epochs (its validation curve is in the plot);
2. pruned: the teacher, LAMP to `speed_up` (FLOPs at `measure_imgsz`), in both scopes (paper: what the authors
   kept whole; blocks: also inside DEF, SME, FGM and LFA), scored as they are;
3. students: each pruned model trained `student_epochs` epochs per seed, four ways at equal epochs: fine-tune only,
   MLSSD (logical), cwd (feature), MLSSD + cwd (all), with the seed README's ratios (1e-4, 0.05); `--kinds`
   also offers MLSSD@1e-2 (100x the seed's MLSSD ratio);
4. every model's last epoch scored on the validation images (not Ultralytics' best.pt: it is chosen on those same
   images): COCO AP, AP50, APs (faster_coco_eval, maxDets 100); per architecture parameters and GFLOPs (fused)
   and CPU latency (batch 1, fused) at `measure_imgsz`; for the distilled runs, the distillation loss over the
   detection loss (giou + cls + l1), from results.csv.

    python benchmarks/compression.py            # the default: about 2 hours on 2 CPU cores
    python benchmarks/compression.py --quick    # 1 epoch of everything on tiny images: a few minutes
    python benchmarks/compression.py --kinds MLSSD@1e-2 --scopes paper   # one more kind beside the default's

Resumable: each finished step leaves result.json in its folder and is skipped when run again (an interrupted step
starts over); <out>/settings.json keeps the settings, and a run with other settings (seeds, kinds and scopes
aside: they only choose runs) is refused. Writes <out>/runs.csv (one row per model and seed; every finished run in
<out>, from earlier invocations too), <out>/table.md (seeds as mean +/- standard deviation) and
<out>/compression.png (teacher curve; AP per student kind and scope).
"""

from __future__ import annotations

import csv
import io
import json
import statistics
import time
from collections.abc import Callable
from pathlib import Path

from lrsdetr import RTDETR
from lrsdetr.compress.distill import distill
from lrsdetr.compress.finetune import save_checkpoint
from lrsdetr.compress.prune import PruneSettings, prune
from lrsdetr.compress.prune_scopes import PRUNING_SCOPES
from lrsdetr.data.files import require_writable, write_text_atomic
from lrsdetr.data.synth import make_yolo_dataset
from lrsdetr.engine.export import coco_scores
from lrsdetr.engine.quickstart import quick_schedule
from lrsdetr.engine.train import train
from lrsdetr.tools.fps import measure_latency
from lrsdetr.utils.atomic import save_figure_atomic
from lrsdetr.utils.cli import whole_numbers, with_preset
from lrsdetr.utils.command import Command
from lrsdetr.utils.errors import DataError
from lrsdetr.utils.guard import CommandPaths

DEFAULTS = {
    "out": "runs/compression",
    "quick": False,  # 1 epoch of everything, 8 + 4 images of 96 px, one seed: checks the chain end to end
    "n_train": 128,  # synthetic images (the quick start's set)
    "n_val": 32,
    "imgsz": 160,  # training and validation
    "teacher_epochs": 60,  # to its plateau: its mAP50-95 was still rising 0.015 per epoch at 30
    "student_epochs": 3,
    "seeds": "0, 1, 2",  # student runs
    "kinds": "fine-tune, MLSSD, cwd, MLSSD+cwd",  # student kinds (KINDS below)
    "scopes": "paper, blocks",  # pruning scopes
    "speed_up": 1.35,
    "measure_imgsz": 640,  # pruning's FLOPs, GFLOPs and latency, as in the paper
    "batch": 4,
    "workers": 2,
    "warmup_iters": 30,
    "latency_iterations": 20,
}
QUICK = {"n_train": 8, "n_val": 4, "imgsz": 96, "teacher_epochs": 1, "student_epochs": 1, "seeds": "0",
         "measure_imgsz": 96, "batch": 4, "warmup_iters": 2, "latency_iterations": 2}

# Student kinds: the distillation settings of each (the seed README's ratios and layers; MLSSD@1e-2 is MLSSD at
# 100x the seed's ratio, where its loss weighs about as much as the detection loss: the loss-scale question)
KINDS = {
    "fine-tune": None,
    "MLSSD": {"kd_loss_type": "logical", "logical_loss_type": "mlssd", "logical_loss_ratio": 1e-4},
    "cwd": {"kd_loss_type": "feature", "feature_loss_type": "cwd", "feature_loss_ratio": 0.05},
    "MLSSD+cwd": {"kd_loss_type": "all", "logical_loss_type": "mlssd", "logical_loss_ratio": 1e-4,
                  "feature_loss_type": "cwd", "feature_loss_ratio": 0.05},
    "MLSSD@1e-2": {"kd_loss_type": "logical", "logical_loss_type": "mlssd", "logical_loss_ratio": 1e-2},
}
PER_RUN = ("out", "seeds", "kinds", "scopes")  # settings that only choose which runs: each run has its own folder
COLUMNS = ("stage", "scope", "kind", "seed", "epochs", "params_M", "GFLOPs", "cpu_ms", "AP", "AP50", "APs", "kd_over_det", "minutes")


def once(folder: Path, compute: Callable[[], dict]) -> dict:
    """`compute()`'s result, saved as folder/result.json; read back instead when that file exists."""
    done = folder / "result.json"
    if done.is_file():
        print(f"done before: {folder}")
        return json.loads(done.read_text())
    start = time.time()
    result = {**compute(), "minutes": round((time.time() - start) / 60, 2)}
    folder.mkdir(parents=True, exist_ok=True)
    write_text_atomic(done, json.dumps(result, indent=1))
    return result


def schedule(params: dict, data: str, seed: int) -> dict:
    """The quick start's short CPU schedule at this benchmark's sizes."""
    return {**quick_schedule(params["batch"], params["warmup_iters"]), "data": data, "imgsz": params["imgsz"],
            "workers": params["workers"], "device": "cpu", "seed": seed, "exist_ok": True, "plots": False}


def scores(weights: Path, data: str, params: dict, folder: Path) -> dict:
    """COCO AP, AP50 and APs of `weights` on the validation images."""
    _, stats = coco_scores(weights, data, params["imgsz"], folder, device="cpu", batch=params["batch"])
    return {"AP": stats["AP"], "AP50": stats["AP50"], "APs": stats["APs"]}


def architecture(weights: Path, params: dict) -> dict:
    """Parameters and GFLOPs (fused) and median CPU latency (batch 1) at measure_imgsz."""
    latency = measure_latency(str(weights), imgsz=params["measure_imgsz"], device="cpu", warmup=2,
                              iterations=params["latency_iterations"])
    return {"params_M": latency.parameters / 1e6, "GFLOPs": latency.gflops, "cpu_ms": statistics.median(latency.times_ms)}


def kd_over_det(run: Path) -> float | None:
    """Mean over epochs of the distillation loss over the detection loss shown (giou + cls + l1), from results.csv."""
    rows = list(csv.DictReader((run / "results.csv").open()))
    ratios = [float(r["train/kd_loss"]) / sum(float(r[f"train/{k}_loss"]) for k in ("giou", "cls", "l1"))
              for r in rows if "train/kd_loss" in r]
    return statistics.fmean(ratios) if ratios else None


def train_teacher(params: dict, data: str, out: Path) -> dict:
    run = train({**schedule(params, data, 0), "model": "lrs-detr-b.yaml", "epochs": params["teacher_epochs"],
                 "project": str(out), "name": "teacher"})
    weights = run / "weights" / "last.pt"
    return {"weights": str(weights), "curve": str(run / "results.csv"), **scores(weights, data, params, run),
            **architecture(weights, params)}


def prune_teacher(params: dict, data: str, teacher: dict, scope: str, folder: Path) -> dict:
    model = RTDETR(teacher["weights"]).model
    pruned = prune(model, PruneSettings("lamp", speed_up=params["speed_up"], imgsz=params["measure_imgsz"], scope=scope))
    weights = save_checkpoint(pruned, folder / "pruned.pt", {"data": data, "imgsz": params["imgsz"]})
    return {"weights": str(weights), "achieved_speed_up": pruned.yaml["pruned"]["achieved_speed_up"],
            **scores(weights, data, params, folder), **architecture(weights, params)}


def train_student(params: dict, data: str, teacher: dict, pruned: dict, kind: str, seed: int, folder: Path) -> dict:
    run_args = {**schedule(params, data, seed), "model": pruned["weights"], "epochs": params["student_epochs"],
                "project": str(folder.parent), "name": folder.name}
    settings = KINDS[kind]
    run = train(run_args) if settings is None else distill({**run_args, "teacher_weights": teacher["weights"], **settings})
    return {**scores(run / "weights" / "last.pt", data, params, run), "kd_over_det": kd_over_det(run)}


def row(stage: str, result: dict, arch: dict, **fields) -> dict:
    values = {**fields, "stage": stage, **{k: arch[k] for k in ("params_M", "GFLOPs", "cpu_ms")}, **result}
    return {column: values.get(column, "") for column in COLUMNS}


def check_settings(out: Path, params: dict) -> None:
    """Refuse to mix runs made with other settings into `out` (a finished step is reused by its folder alone);
    seeds, kinds and scopes may change: each run has its own folder."""
    wanted = {key: value for key, value in params.items() if key not in PER_RUN}
    saved = out / "settings.json"
    if saved.is_file():
        found = json.loads(saved.read_text())
        changed = {key: (found.get(key), value) for key, value in wanted.items() if found.get(key) != value}
        if changed:
            differences = ", ".join(f"{key} {old} -> {new}" for key, (old, new) in changed.items())
            raise DataError(f"{saved}: the runs in {out} were made with other settings ({differences}); "
                            "use another --out, or remove that folder to start over")
    out.mkdir(parents=True, exist_ok=True)
    write_text_atomic(saved, json.dumps(wanted, indent=1))


def chosen(params: dict, key: str, choices) -> list[str]:
    """The comma-separated names of `params[key]`, each one of `choices`."""
    names = [name.strip() for name in str(params[key]).split(",") if name.strip()]
    if not names or any(name not in choices for name in names):
        raise DataError(f"--{key} {params[key]!r}: expected a comma-separated list of {', '.join(choices)}")
    return names


def run_all(params: dict) -> tuple[list[dict], dict]:
    """Every chosen step not done before; the table's rows and the teacher's result."""
    out = Path(params["out"]).resolve()
    scopes, kinds = chosen(params, "scopes", PRUNING_SCOPES), chosen(params, "kinds", KINDS)
    check_settings(out, params)
    data = str(make_yolo_dataset(out / "synthetic", params["n_train"], params["n_val"], params["imgsz"], seed=0))
    teacher = once(out / "teacher", lambda: train_teacher(params, data, out))
    seeds = whole_numbers(params["seeds"], "--seeds")
    for scope in scopes:
        pruned = once(out / f"pruned-{scope}", lambda: prune_teacher(params, data, teacher, scope, out / f"pruned-{scope}"))
        for kind in kinds:
            for seed in seeds:
                folder = out / f"{scope}-{kind}-seed{seed}"
                once(folder, lambda: train_student(params, data, teacher, pruned, kind, seed, folder))
    return finished_rows(out, params, teacher), teacher


def finished_rows(out: Path, params: dict, teacher: dict) -> list[dict]:
    """The teacher, then per scope its pruned model and every finished student in `out`, those of earlier runs
    with other kinds or seeds too (KINDS order, then by seed)."""
    rows = [row("teacher", teacher, teacher, epochs=params["teacher_epochs"])]
    for scope in PRUNING_SCOPES:
        done = out / f"pruned-{scope}" / "result.json"
        if not done.is_file():
            continue
        pruned = json.loads(done.read_text())
        rows.append(row("pruned", pruned, pruned, scope=scope, epochs=0))
        for kind in KINDS:
            runs = {int(path.parent.name.rsplit("-seed", 1)[1]): path for path in out.glob(f"{scope}-{kind}-seed*/result.json")}
            rows += [row("student", json.loads(runs[seed].read_text()), pruned, scope=scope, kind=kind, seed=seed,
                         epochs=params["student_epochs"]) for seed in sorted(runs)]
    return rows


def spread(values: list[float]) -> str:
    mean = statistics.fmean(values)
    return f"{mean:.3f} ± {statistics.stdev(values):.3f}" if len(values) > 1 else f"{mean:.3f}"


def markdown_table(rows: list[dict]) -> str:
    """One line per teacher, pruned model and student kind; students as mean ± standard deviation over seeds."""
    groups: dict[tuple, list[dict]] = {}
    for r in rows:
        groups.setdefault((r["stage"], r["scope"], r["kind"]), []).append(r)
    lines = ["| Model | Seeds | Params (M) | GFLOPs | CPU ms | AP | AP50 | APs | KD / det. loss |",
             "|---|---|---|---|---|---|---|---|---|"]
    for (stage, scope, kind), members in groups.items():
        first = members[0]
        name = {"teacher": "LRS-DETR-B (teacher)", "pruned": f"LAMP {scope} scope, not trained"}.get(stage, f"{scope}: {kind}")
        kd = [m["kd_over_det"] for m in members if m["kd_over_det"] not in ("", None)]
        lines.append(f"| {name} | {len(members)} | {first['params_M']:.2f} | {first['GFLOPs']:.1f} | {first['cpu_ms']:.0f} | "
                     + " | ".join(spread([m[k] for m in members]) for k in ("AP", "AP50", "APs"))
                     + f" | {spread(kd) if kd else '-'} |")
    return "\n".join(lines)


def plot(rows: list[dict], curve: Path, path: Path) -> None:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    epochs = list(csv.DictReader(curve.open()))
    fig, (left, right) = plt.subplots(1, 2, figsize=(12, 4.5))
    for key, label in (("metrics/mAP50-95(B)", "mAP50-95"), ("metrics/mAP50(B)", "mAP50")):
        left.plot([float(e["epoch"]) for e in epochs], [float(e[key]) for e in epochs], marker=".", label=label)
    left.set(title="Teacher LRS-DETR-B (validation, Ultralytics)", xlabel="epoch")
    left.legend()
    students = [r for r in rows if r["stage"] == "student"]
    kinds = [kind for kind in KINDS if any(r["kind"] == kind for r in students)]
    scopes = [scope for scope in PRUNING_SCOPES if any(r["scope"] == scope for r in students)]
    width = 0.8 / len(scopes)
    for i, scope in enumerate(scopes):
        values = {k: [r["AP"] for r in students if r["scope"] == scope and r["kind"] == kind] for k, kind in enumerate(kinds)}
        values = {k: v for k, v in values.items() if v}
        right.bar([k + i * width for k in values], [statistics.fmean(v) for v in values.values()], width,
                  yerr=[statistics.stdev(v) if len(v) > 1 else 0 for v in values.values()], capsize=3, label=f"{scope} scope")
    teacher = next(r for r in rows if r["stage"] == "teacher")
    right.axhline(teacher["AP"], color="gray", linestyle="--", label="teacher")
    right.set_xticks([k + width * (len(scopes) - 1) / 2 for k in range(len(kinds))], kinds)
    right.set(title="Students at equal epochs (COCO AP, seeds: mean ± sd)", ylabel="AP")
    right.legend()
    save_figure_atomic(fig, path)


def resolved(params: dict) -> dict:
    """The parameters the run uses: --quick's settings where no flag was given."""
    return with_preset(params, DEFAULTS, QUICK) if params["quick"] else dict(params)


def compression_paths(params: dict) -> CommandPaths:
    """Checks the run-choosing settings before the teacher trains; writes --out (its synthetic set included)."""
    params = resolved(params)
    whole_numbers(params["seeds"], "--seeds")
    chosen(params, "scopes", PRUNING_SCOPES)
    chosen(params, "kinds", KINDS)
    require_writable(Path(params["out"]), "--out")
    return CommandPaths(params).writes("--out", Path(params["out"]).resolve())


def main(params: dict) -> None:
    """The chain, on parameters `resolved` (compression_paths) made."""
    start = time.time()
    rows, teacher = run_all(params)
    out = Path(params["out"]).resolve()
    text = io.StringIO()
    writer = csv.DictWriter(text, COLUMNS)
    writer.writeheader()
    writer.writerows(rows)
    write_text_atomic(out / "runs.csv", text.getvalue())
    table = markdown_table(rows)
    write_text_atomic(out / "table.md", table + "\n")
    plot(rows, Path(teacher["curve"]), out / "compression.png")
    print(f"\n{table}\n\nSaved {out / 'runs.csv'}, {out / 'table.md'}, {out / 'compression.png'} "
          f"({(time.time() - start) / 60:.1f} min this time)")


COMMAND = Command("bench compression", "the compression chain side by side: teacher, pruned, four student kinds",
                  __doc__, DEFAULTS, compression_paths, main, script="benchmarks/compression.py")
