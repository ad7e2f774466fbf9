"""benchmarks/compression.py --quick: the whole chain (teacher, pruning in both scopes, four student kinds) end to
end on tiny synthetic images, its table, CSV and plot, and a second run that skips every finished step."""

import csv
import json
import subprocess
import sys
from pathlib import Path

import pytest

from lrsdetr.bench import compression

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
    params = {**compression.DEFAULTS, "out": str(tmp_path)}
    compression.check_settings(tmp_path, params)
    compression.check_settings(tmp_path, {**params, "seeds": "0, 1, 2, 3"})  # more seeds: new folders, same runs
    with pytest.raises(compression.DataError, match=r"other settings \(imgsz 160 -> 320, teacher_epochs 60 -> 90\)"):
        compression.check_settings(tmp_path, {**params, "teacher_epochs": 90, "imgsz": 320})


def test_kinds_and_scopes_choose_runs_and_the_table_shows_every_finished_one(tmp_path, monkeypatch):
    params = {**compression.DEFAULTS, "out": str(tmp_path)}
    compression.check_settings(tmp_path, params)
    compression.check_settings(tmp_path, {**params, "kinds": "MLSSD@1e-2", "scopes": "paper"})  # other runs, same settings
    assert compression.chosen({"kinds": " cwd, MLSSD@1e-2 "}, "kinds", compression.KINDS) == ["cwd", "MLSSD@1e-2"]
    with pytest.raises(compression.DataError, match=r"--kinds 'cwd, KD': expected a comma-separated list of fine-tune, MLSSD"):
        compression.chosen({"kinds": "cwd, KD"}, "kinds", compression.KINDS)

    def finish(folder: str, **result) -> None:
        (tmp_path / folder).mkdir()
        (tmp_path / folder / "result.json").write_text(json.dumps(result))

    arch = {"params_M": 10.0, "GFLOPs": 50.0, "cpu_ms": 100.0}
    finish("pruned-paper", AP=0.1, AP50=0.3, APs=0.1, **arch)
    for folder, ap in (("paper-MLSSD@1e-2-seed10", 0.4), ("paper-MLSSD@1e-2-seed2", 0.3), ("paper-fine-tune-seed0", 0.2),
                       ("paper-MLSSD+cwd-seed0", 0.5), ("blocks-cwd-seed0", 0.6)):  # blocks: no pruned model, not shown
        finish(folder, AP=ap, AP50=0.9, APs=ap, kd_over_det=None)
    teacher = {"AP": 0.7, "AP50": 0.95, "APs": 0.7, **arch}
    rows = compression.finished_rows(tmp_path, params, teacher)
    assert [(r["stage"], r["kind"], r["seed"], r["AP"]) for r in rows] == [
        ("teacher", "", "", 0.7), ("pruned", "", "", 0.1), ("student", "fine-tune", 0, 0.2), ("student", "MLSSD+cwd", 0, 0.5),
        ("student", "MLSSD@1e-2", 2, 0.3), ("student", "MLSSD@1e-2", 10, 0.4)]
    assert all(r["params_M"] == 10.0 for r in rows) and "| paper: MLSSD@1e-2 | 2 |" in compression.markdown_table(rows)
    curve = tmp_path / "results.csv"
    curve.write_text("epoch,metrics/mAP50(B),metrics/mAP50-95(B)\n1,0.5,0.3\n2,0.9,0.6\n")
    compression.plot(rows, curve, tmp_path / "compression.png")  # one scope, some kinds: bars only where runs are
    assert (tmp_path / "compression.png").stat().st_size > 10_000


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


@pytest.mark.parametrize("flags, words", [
    ({"seeds": "x"}, "--seeds x: expected a comma-separated list of whole numbers from 0"),
    ({"seeds": "0,-1"}, "--seeds 0,-1: expected"),
    ({"kinds": "fine-tune, KD"}, "--kinds 'fine-tune, KD': expected a comma-separated list of"),
    ({"out": "FILE"}, "is a file; expected a folder"),
])
def test_a_bad_setting_is_refused_before_the_teacher_trains(tmp_path, monkeypatch, capsys, flags, words):
    """--seeds was read only after the teacher had trained (an hour on the default run)."""
    (tmp_path / "file").write_text("")
    monkeypatch.setattr(compression, "main", lambda params: pytest.fail("the chain started"))
    params = {**compression.DEFAULTS, "out": str(tmp_path / "out"), **flags}
    params["out"] = str(tmp_path / "file") if params["out"] == "FILE" else params["out"]
    assert compression.COMMAND.run_with(params) == 2
    assert words in capsys.readouterr().err and not (tmp_path / "out").exists()


def test_quick_keeps_the_seeds_given_on_the_command_line(monkeypatch):
    quick = {**compression.DEFAULTS, "quick": True}
    assert compression.resolved({**quick, "seeds": "0, 1"})["seeds"] == "0, 1"  # --quick silently made it "0"
    assert compression.resolved(quick)["seeds"] == compression.QUICK["seeds"]
