"""benchmarks/tracking.py: bad settings refused before anything is made; a tiny run with given weights tabulates every
detector x tracker x mode, scored by the VisDrone-MOT protocol, and a second run reuses it."""

import csv
import json

import pytest
from script_runs import checkpoint, one_line_error, run_main, run_main_output  # noqa: F401 (checkpoint: a fixture)

SCRIPT = "benchmarks/tracking.py"


@pytest.mark.parametrize(("flags", "words"), [
    (["--trackers", "ocsort"], ["--trackers ocsort", "bytetrack, botsort"]),
    (["--modes", "tiles"], ["--modes tiles", "whole, sliced"]),
    (["--detectors", "rtdetr-r19"], ["rtdetr-r19.yaml"]),
    (["--weights", "lrs-detr-b"], ["--weights lrs-detr-b", "name=checkpoint"]),
    (["--frames", 0], ["--frames 0", "whole number from 1"]),
])
def test_bad_settings_are_one_line_and_make_nothing(tmp_path, capsys, monkeypatch, flags, words):
    status, err = run_main(capsys, monkeypatch, SCRIPT, "--out", tmp_path / "out", *flags)
    one_line_error(status, err, *words)
    assert not (tmp_path / "out").exists()


def test_data_needs_given_weights(tmp_path, capsys, monkeypatch):
    for sub in ("sequences", "annotations"):
        (tmp_path / "mot" / sub).mkdir(parents=True)
    status, err = run_main(capsys, monkeypatch, SCRIPT, "--out", tmp_path / "out", "--data", tmp_path / "mot")
    one_line_error(status, err, "--detectors lrs-detr-b", "with --data give its checkpoint in --weights")


def test_a_tiny_run_tabulates_every_configuration_and_is_reused(checkpoint, tmp_path, capsys, monkeypatch):
    flags = ["--detectors", "lrs-detr-b", "--weights", f"lrs-detr-b={checkpoint}", "--sequences", 1, "--frames", 3, "--width", 96,
             "--height", 64, "--imgsz", 64, "--slice_size", 64, "--conf", 0.01, "--out", tmp_path / "out"]
    status, out, err = run_main_output(capsys, monkeypatch, SCRIPT, *flags)
    assert status == 0, err
    rows = list(csv.DictReader((tmp_path / "out" / "tracking.csv").open()))
    assert [(r["tracker"], r["mode"]) for r in rows] == [("bytetrack", "whole"), ("botsort", "whole"), ("bytetrack", "sliced"), ("botsort", "sliced")]
    for row in rows:
        saved = json.loads((tmp_path / "out" / "results" / f"lrs-detr-b-{row['mode']}-{row['tracker']}" / "result.json").read_text())
        assert float(row["MOTA"]) == pytest.approx(saved["scores"]["overall"]["MOTA"]) and float(row["fps"]) > 0
        assert float(row["HOTA"]) == pytest.approx(saved["scores"]["hota"]["all"]["HOTA"]) and int(row["frames"]) == 3
    assert (tmp_path / "out" / "tracking.png").stat().st_size > 0 and "| lrs-detr-b | botsort | sliced (64 px tiles) |" in out
    status, out, err = run_main_output(capsys, monkeypatch, SCRIPT, *flags)
    assert status == 0 and "lrs-detr-b, whole, bytetrack" not in out  # nothing tracked again
    assert list(csv.DictReader((tmp_path / "out" / "tracking.csv").open())) == rows
