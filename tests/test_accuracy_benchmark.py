"""benchmarks/accuracy.py end to end: its --quick run trains, scores and tabulates, and a second run reuses it."""

import csv
import importlib
import json
import math
import os
import subprocess
from pathlib import Path

import numpy as np
import pytest
import yaml
from script_runs import run_in_subprocess

REPO = Path(__file__).resolve().parents[1]
SCRIPT = REPO / "benchmarks" / "accuracy.py"


def run(*flags: object, expect: int = 0) -> subprocess.CompletedProcess:
    return run_in_subprocess(SCRIPT, *flags, expect=expect, timeout=1500)


def assert_row_summarises_its_runs(row: dict, out: Path) -> None:
    """Each metric of a table row is the mean (in %) and sample standard deviation of its runs' result.json."""
    runs = [json.loads(path.read_text())["metrics"] for path in sorted(out.glob(f"runs/{row['model']}-seed*/result.json"))]
    assert int(row["seeds"]) == len(runs) > 0
    for key in ("AP", "AP50", "AP75", "APs", "APm"):
        values = np.array([100 * run[key] for run in runs])
        assert float(row[key]) == pytest.approx(values.mean(), abs=1e-9), (row["model"], key)
        spread = float(row[f"{key}_std"])
        assert spread == pytest.approx(values.std(ddof=1), abs=1e-9) if len(runs) > 1 else math.isnan(spread)  # one seed: none


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (["--models", "rtdetr-r19"], "--models/--others rtdetr-r19.yaml: no such model config"),
        (["--others", "yolov99m"], "--models/--others yolov99m: no such Ultralytics YOLO config"),
        (["--seeds", ","], "--seeds ,: expected"),
        (["--schedule", "fast"], "--schedule fast: expected one of auto, recipe, quick"),
    ],
)
def test_bad_arguments_are_one_line(tmp_path, flags, message):
    out = run(*flags, "--out", tmp_path, expect=2)
    assert message in out.stderr and "Traceback" not in out.stderr
    assert not any(tmp_path.iterdir())  # nothing trained, no data made


@pytest.fixture
def accuracy():
    return importlib.import_module("lrsdetr.bench.accuracy")


@pytest.mark.parametrize(("schedule", "data", "expected"),
                         [("auto", "", "quick"), ("auto", "dataset/data.yaml", "recipe"), ("recipe", "", "recipe"), ("quick", "d.yaml", "quick")])
def test_auto_schedule_is_quick_on_the_synthetic_set_and_the_recipe_on_real_data(accuracy, schedule, data, expected):
    assert accuracy.schedule_name({"schedule": schedule, "data": data}) == expected


def test_last_quarter_gain_is_that_of_the_seeds_mean_curve(accuracy):
    curves = {"b": {"mAP50": [[10, 20, 30, 40], [20, 30, 40, 60]], "mAP50-95": [[0] * 4] * 2},
              "r18": {"mAP50": [[5, 6, 7, 8, 9, 9, 9, 9, 9, 9]], "mAP50-95": [[0] * 10]}}
    lines = accuracy.last_quarter_gains(curves).splitlines()
    assert lines[0] == "b: mAP50 35.0 after epoch 3 -> 50.0 after epoch 4 (+15.0 points over the last quarter, mean of 2 seed(s))"
    assert lines[1].startswith("r18: mAP50 9.0 after epoch 7 -> 9.0 after epoch 10 (+0.0 points")


def test_time_left_counts_only_runs_without_a_result(accuracy, tmp_path):
    Run = accuracy.Run
    finished = accuracy.run_folder(tmp_path, Run("lrs-detr-b", 0, 0))
    finished.mkdir(parents=True)
    (finished / "result.json").write_text("{}")
    accuracy.run_folder(tmp_path, Run("rtdetr-r18", 0, 0)).mkdir(parents=True)  # started, not finished: still to pay for
    runs = [Run("lrs-detr-b", 0, 0), Run("lrs-detr-b", 1, 1), Run("rtdetr-r18", 0, 0)]
    assert accuracy.unfinished(runs, tmp_path) == 2 and accuracy.unfinished(runs[:1], tmp_path) == 0


def test_training_time_sums_the_sessions_of_a_resumed_run(accuracy, tmp_path):
    rows = [(1, 60.5), (2, 121.0), (3, 180.0), (4, 58.0), (5, 119.5)]  # stopped after epoch 3, resumed: the clock restarts
    (tmp_path / "results.csv").write_text("epoch,time,train/giou_loss\n" + "".join(f"{e},{t},0.5\n" for e, t in rows))
    assert accuracy.training_seconds(tmp_path) == pytest.approx(180.0 + 119.5)


def draws_of(accuracy, **changes) -> dict:
    return accuracy.data_draws({"seeds": "0,1,2", "data": "", "data_seeds": ""} | changes)


def test_each_seed_draws_its_own_data_unless_told_to_share(accuracy):
    assert draws_of(accuracy) == {0: 0, 1: 1, 2: 2}
    assert draws_of(accuracy, data_seeds="7") == {0: 7, 1: 7, 2: 7}  # one set for every seed
    assert draws_of(accuracy, data_seeds="5,3,9") == {0: 5, 1: 3, 2: 9}
    assert draws_of(accuracy, data="d.yaml") == {0: None, 1: None, 2: None}  # the user's data: nothing to draw
    with pytest.raises(accuracy.DataError, match="expected one number .* or one per seed"):
        draws_of(accuracy, data_seeds="1,2")
    with pytest.raises(accuracy.DataError, match="only the synthetic set can be drawn again"):
        draws_of(accuracy, data="d.yaml", data_seeds="1")


def test_runs_go_seed_by_seed_so_that_a_stop_leaves_whole_pairs(accuracy, tmp_path):
    params = {"seeds": "0,1", "data": "", "data_seeds": "", "models": "lrs-detr-b,rtdetr-r18", "others": "lrs-detr-b-plain"}
    runs = accuracy.planned_runs(params)
    assert [(r.model, r.seed, r.draw) for r in runs] == [
        ("lrs-detr-b", 0, 0), ("rtdetr-r18", 0, 0), ("lrs-detr-b", 1, 1), ("rtdetr-r18", 1, 1), ("lrs-detr-b-plain", 0, 0)]
    shared = accuracy.planned_runs(params | {"data_seeds": "0"})
    assert [accuracy.run_folder(tmp_path, r).name for r in shared[2:4]] == ["lrs-detr-b-seed1-data0", "rtdetr-r18-seed1-data0"]
    assert accuracy.run_folder(tmp_path, runs[2]).name == "lrs-detr-b-seed1"


def scored(model: str, seed: int, **metrics: float) -> dict:
    return {"model": model, "seed": seed, "metrics": {key: value / 100 for key, value in metrics.items()}}


def test_paired_differences_their_interval_and_the_seeds_each_side():
    from scipy import stats

    from lrsdetr.bench.paired import markdown, paired

    results = [scored("b", s, AP=ap) for s, ap in enumerate((26.0, 24.0, 30.0, 22.0))]
    results += [scored("r18", s, AP=ap) for s, ap in enumerate((20.0, 25.0, 21.0))]  # no seed 3: left out
    results += [scored("plain", s, AP=ap - 1.0) for s, ap in enumerate((26.0, 24.0, 30.0, 22.0))]
    against_r18, against_plain = paired(results, "b", ("AP",))
    differences = [6.0, -1.0, 9.0]
    assert list(against_r18.differences.values()) == pytest.approx(differences) and against_r18.wins == (2, 1)
    assert against_r18.mean == pytest.approx(14 / 3)
    expected = stats.ttest_1samp(differences, 0).confidence_interval(0.95)
    assert against_r18.interval == pytest.approx((expected.low, expected.high))
    assert against_r18.interval[0] < 0 < against_r18.interval[1] and against_r18.reading() == "not separable"
    assert against_plain.interval == pytest.approx((1.0, 1.0))  # the same gain every seed
    assert against_plain.reading() == "b ahead" and against_plain.wins == (4, 0)
    assert paired(results[:1] + results[4:5], "b", ("AP",))[0].reading() == "one seed: no interval"
    table = markdown([against_r18, against_plain])
    assert "| b - r18 | AP | 3 | +4.7 | [-8.1, +17.4] | 2 : 1 | not separable | 0: +6.0, 1: -1.0, 2: +9.0 |" in table


@pytest.mark.slow
@pytest.mark.timeout(3600)  # trains a chain of models: past the 900 s default, within its runs' own budget
def test_quick_run_end_to_end_then_reused(tmp_path):
    """Two models over two seeds, and a YOLO row (Ultralytics' own trainer and validator) with one; 2 epochs, so
    that the learning curves have a last quarter."""
    flags = ("--quick", "--others", "yolo11n", "--epochs", 2, "--curves", True, "--out", tmp_path)
    out = run(*flags)
    with (tmp_path / "accuracy.csv").open() as handle:
        rows = {row["model"]: row for row in csv.DictReader(handle)}
    assert list(rows) == ["lrs-detr-b", "rtdetr-r18", "yolo11n"]
    b = rows["lrs-detr-b"]
    assert b["seeds"] == "2" and int(b["params"]) == 15_594_146 and 60 < float(b["gflops"]) < 75
    for name, row in rows.items():
        assert_row_summarises_its_runs(row, tmp_path)
    # timed in the same rounds, each model its own: B (2.7 GFLOPs at 128 px) is slower than YOLO11n (0.3 GFLOPs),
    # about 5x on an idle machine; only "slower" is asserted, as other processes' load compresses the ratio
    assert float(b["latency_ms"]) > float(rows["yolo11n"]["latency_ms"])
    table = (tmp_path / "accuracy.md").read_text()
    assert "| lrs-detr-b | 2 | 15.59M |" in table and "±" in table and table in out.stdout
    assert (tmp_path / "accuracy.png").stat().st_size > 10_000
    assert len(list(tmp_path.glob("runs/*/result.json"))) == 5
    assert (tmp_path / "accuracy_curves.png").stat().st_size > 10_000
    for name in rows:  # the last-quarter gain printed is that of the seeds' mean validation mAP50 in results.csv
        curves = [[100 * float(e["metrics/mAP50(B)"]) for e in csv.DictReader(path.open())]
                  for path in sorted(tmp_path.glob(f"runs/{name}-seed*/results.csv"))]
        first, last = (np.mean([curve[i] for curve in curves]) for i in (0, 1))
        assert all(len(curve) == 2 for curve in curves)
        assert f"{name}: mAP50 {first:.1f} after epoch 1 -> {last:.1f} after epoch 2 ({last - first:+.1f} points" in out.stdout
    draws = [(tmp_path / f"synth-16-8-128px-draw{seed}" / "images" / "val") for seed in (0, 1)]
    assert all(json.loads((tmp_path / "runs" / f"{m}-seed{s}" / "settings.json").read_text())["data"] == str(draws[s].parents[1] / "data.yaml")
               for m in ("lrs-detr-b", "rtdetr-r18") for s in (0, 1))  # both models of a seed on that seed's draw
    assert [p.read_bytes() for p in sorted(draws[0].iterdir())] != [p.read_bytes() for p in sorted(draws[1].iterdir())]
    spreads = [json.loads(path.read_text())["scoring_spread"] for path in tmp_path.glob("runs/*/result.json")]
    assert all(list(spread) == ["8"] and set(spread["8"]) == {"AP", "AP50", "APs"} for spread in spreads)
    assert "Scoring spread (standard deviation" in table and "| lrs-detr-b - rtdetr-r18 | AP50 | 2 |" in table
    assert "| lrs-detr-b - yolo11n | AP | 1 |" in table  # yolo11n ran with the first seed only
    trained = yaml.safe_load((tmp_path / "runs" / "lrs-detr-b-seed0" / "args.yaml").read_text())
    assert (trained["lr0"], trained["nbs"], trained["warmup_bias_lr"]) == (5e-4, 4, 0.0)  # auto: the quick schedule
    assert json.loads((tmp_path / "runs" / "yolo11n-seed0" / "settings.json").read_text())["schedule"] == "quick"
    for path in tmp_path.glob("runs/*/result.json"):  # an unbroken run: the training time is results.csv's last
        last = list(csv.DictReader((path.parent / "results.csv").open()))[-1]
        assert json.loads(path.read_text())["train_seconds"] == pytest.approx(float(last["time"])) and float(last["time"]) > 0
    scored = [json.loads(path.read_text())["weights"] for path in tmp_path.glob("runs/*/result.json")]
    assert all(path.endswith("last.pt") for path in scored)  # never the best.pt chosen on the scored images

    relative = os.path.relpath(tmp_path, REPO)  # the same folder spelt from the working directory: the same runs
    again = run(*flags[:-1], relative)
    assert again.stdout.count("reusing") == 5 and "engine/trainer" not in again.stdout + again.stderr
    run(*flags, "--epochs", 3, expect=2)  # other settings: refuses to mix them in


@pytest.mark.parametrize("flags, words", [
    (("--seeds", "-1"), "--seeds -1: expected a comma-separated list of whole numbers from 0"),
    (("--seeds", "0,x"), "--seeds 0,x: expected"),
    (("--out", "FILE"), "is a file; expected a folder"),
    (("--data_seeds", "1,2,3"), "--data_seeds 1,2,3: expected one number (one set for every seed) or one per seed (2)"),
])
def test_a_bad_setting_is_one_line_before_anything_is_written(tmp_path, flags, words):
    (tmp_path / "file").write_text("")
    flags = tuple(str(tmp_path / "file") if flag == "FILE" else flag for flag in flags)
    out = () if "--out" in flags else ("--out", tmp_path / "out")
    done = run(*flags, *out, "--quick", expect=2)
    assert done.stderr.strip().splitlines()[-1].startswith("error: ") and words in done.stderr and "Traceback" not in done.stderr
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("out", ["data", "link"])
def test_an_out_folder_holding_the_data_is_refused_and_the_data_left_as_it_was(tmp_path, out):
    """--out at the data set's own folder, or at a link to it: refused in one line before anything is written."""
    from source_tree import unchanged
    from tiny_data import write_tiny_dataset

    data = write_tiny_dataset(tmp_path / "data")
    (tmp_path / "link").symlink_to(tmp_path / "data")
    with unchanged(tmp_path / "data"):
        done = run("--data", data, "--out", tmp_path / out, "--seeds", "0", expect=2)
    assert "--out" in done.stderr and "holds" in done.stderr and "Traceback" not in done.stderr
