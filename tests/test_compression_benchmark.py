"""benchmarks/compression.py --quick: the whole chain (teacher, pruning in both scopes, four student kinds) end to
end on tiny synthetic images, its table, CSV and plot, and a second run that skips every finished step."""

import csv
import importlib
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def pycocotools_ap(val_folder: Path) -> float:
    """COCO AP of a validation run's predictions.json against its ground_truth.json, by pycocotools."""
    from pycocotools.coco import COCO
    from pycocotools.cocoeval import COCOeval

    truth = COCO(str(val_folder / "ground_truth.json"))
    evaluation = COCOeval(truth, truth.loadRes(str(val_folder / "predictions.json")), "bbox")
    evaluation.evaluate()
    evaluation.accumulate()
    evaluation.summarize()
    return float(evaluation.stats[0])


def test_a_run_with_other_settings_is_refused_before_it_mixes_in(tmp_path, monkeypatch):
    monkeypatch.syspath_prepend(str(REPO / "benchmarks"))
    compression = importlib.import_module("compression")
    params = {**compression.param_dict, "out": str(tmp_path)}
    compression.check_settings(tmp_path, params)
    compression.check_settings(tmp_path, {**params, "seeds": "0, 1, 2, 3"})  # more seeds: new folders, same runs
    with pytest.raises(compression.DataError, match=r"other settings \(imgsz 160 -> 320, teacher_epochs 60 -> 90\)"):
        compression.check_settings(tmp_path, {**params, "teacher_epochs": 90, "imgsz": 320})


@pytest.mark.slow
@pytest.mark.timeout(3600)  # trains a chain of models: past the 900 s default, within its runs' own budget
def test_quick_compression_benchmark_runs_the_chain_and_resumes(tmp_path):
    out = tmp_path / "compression"
    command = [sys.executable, str(REPO / "benchmarks" / "compression.py"), "--quick", "--out", str(out)]
    first = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True, timeout=3000)
    assert first.returncode == 0, first.stderr[-3000:]
    rows = list(csv.DictReader((out / "runs.csv").open()))
    stages = [row["stage"] for row in rows]
    assert stages == ["teacher"] + (["pruned"] + ["student"] * 4) * 2
    assert {(row["scope"], row["kind"]) for row in rows if row["stage"] == "student"} == {
        (scope, kind) for scope in ("paper", "blocks") for kind in ("fine-tune", "MLSSD", "cwd", "MLSSD+cwd")}
    teacher = rows[0]
    assert all(float(row["params_M"]) < float(teacher["params_M"]) for row in rows[1:])
    assert all(float(row["AP"]) <= float(row["AP50"]) for row in rows)  # AP averages AP50 with stricter IoUs
    assert float(teacher["AP"]) == pytest.approx(pycocotools_ap(out / "teacher" / "val_last.pt"), abs=1e-4)
    assert all((row["kd_over_det"] == "") == (row["kind"] in ("", "fine-tune")) for row in rows)
    assert all(float(row["kd_over_det"]) > 0 for row in rows if row["kd_over_det"])
    table = (out / "table.md").read_text()
    assert "| LRS-DETR-B (teacher) | 1 |" in table and "| paper: MLSSD+cwd | 1 |" in table
    assert (out / "compression.png").stat().st_size > 10_000

    again = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True, timeout=600)
    assert again.returncode == 0, again.stderr[-3000:]
    assert again.stdout.count("done before:") == 1 + 2 + 8
    assert (out / "table.md").read_text() == table

    other = subprocess.run([*command, "--speed_up", "1.2"], cwd=tmp_path, capture_output=True, text=True, timeout=600)
    assert other.returncode == 2 and "made with other settings (speed_up 1.35 -> 1.2)" in other.stderr
    assert "Traceback" not in other.stderr and (out / "table.md").read_text() == table
