"""VisDrone-MOT's protocol (lrsdetr.eval.visdrone_mot) on hand-worked sequences, and its inputs refused in one line.

The expected numbers are worked out by hand from the toolkit's rules (evaluateTrackB.m, clearMOTMex.cpp,
CLEAR_MOT_HUN.m, IDmeasures.m, evaluateTrackA.m); the README's 'Tracking' section says how the module was compared
with the toolkit itself under GNU Octave.
"""

import json
from pathlib import Path

import cv2
import numpy as np
import pytest
from scipy.optimize import linear_sum_assignment
from script_runs import one_line_error, run_main, run_main_output
from source_tree import unchanged

from lrsdetr.eval.mot_matching import min_cost_matching
from lrsdetr.eval.visdrone_mot import evaluate_mot

CAR, VAN = 4, 5


def box(frame: int, track: int, x: float, y: float, w: float = 20, h: float = 20, score: float = 1, category: int = CAR) -> str:
    return f"{frame},{track},{x},{y},{w},{h},{score},{category},0,0"


def write_case(root: Path, gt: list[str], res: list[str], frames: int = 4, name: str = "seq", size: tuple[int, int] = (100, 100)) -> Path:
    """A VisDrone-MOT folder (sequences/<name>/ of black frames, annotations/<name>.txt) and results/<name>.txt."""
    folder = root / "sequences" / name
    folder.mkdir(parents=True, exist_ok=True)
    for frame in range(1, frames + 1):
        cv2.imwrite(str(folder / f"{frame:07d}.jpg"), np.zeros((size[1], size[0], 3), np.uint8))
    for sub, lines in (("annotations", gt), ("results", res)):
        (root / sub).mkdir(exist_ok=True)
        (root / sub / f"{name}.txt").write_text("".join(line + "\n" for line in lines))
    return root


def evaluate(root: Path) -> dict:
    return evaluate_mot(root / "annotations", root / "results", root / "sequences", verbose=False)


def test_a_missed_frame(tmp_path):
    """One car in frames 1-4, found in 1, 3, 4: one miss, one fragmentation, no switch, partly tracked."""
    gt = [box(f, 1, 10, 10) for f in range(1, 5)]
    res = [box(f, 7, 10, 10, score=0.8) for f in (1, 3, 4)]
    result = evaluate(write_case(tmp_path, gt, res))
    car = result["classes"]["car"]
    assert (car["FN"], car["FP"], car["IDs"], car["FM"], car["MT"], car["PT"], car["ML"]) == (1, 0, 0, 1, 0, 1, 0)
    assert car["MOTA"] == pytest.approx(75) and car["MOTP"] == pytest.approx(100) and car["Rcll"] == pytest.approx(75)
    assert car["IDF1"] == pytest.approx(2 * 3 / 7 * 100) and car["IDP"] == pytest.approx(100) and car["IDR"] == pytest.approx(75)
    assert result["overall"]["MOTA"] == pytest.approx(75)
    assert result["classes"]["bus"]["MOTA"] == 0  # no ground truth anywhere: 0, as the toolkit prints it
    hota = result["hota"]["car"]
    assert hota == {"HOTA": pytest.approx(75), "DetA": pytest.approx(75), "AssA": pytest.approx(75)}  # 3 of 4 boxes; of its 4 frames
    aps = result["trajectory_ap"]
    assert aps["classes"]["car"] == {"AP": 100, "AP@0.25": 100, "AP@0.50": 100, "AP@0.75": 100}  # 3 of 4 frames: 0.75
    assert aps["AP"] == pytest.approx(20)  # the mean over the five classes, four of them without trajectories


def test_ids_swapped_between_two_cars(tmp_path):
    """Results 7 and 8 follow cars 1 and 2 for two frames, then each other's: two switches, IDF1 50."""
    gt = [box(f, 1, 10, 10) for f in range(1, 5)] + [box(f, 2, 10, 60) for f in range(1, 5)]
    res = [box(f, 7 if f < 3 else 8, 10, 10) for f in range(1, 5)] + [box(f, 8 if f < 3 else 7, 10, 60) for f in range(1, 5)]
    car = evaluate(write_case(tmp_path, gt, res))["classes"]["car"]
    assert (car["IDs"], car["FP"], car["FN"], car["MT"]) == (2, 0, 0, 2)
    assert car["MOTA"] == pytest.approx(75)
    assert car["IDF1"] == pytest.approx(50) and car["IDP"] == pytest.approx(50)
    trajectory = evaluate(write_case(tmp_path, gt, [line.replace(",1,4,", ",0.9,4,") for line in res]))["trajectory_ap"]["classes"]["car"]
    assert trajectory == {"AP": pytest.approx(200 / 3), "AP@0.25": 100, "AP@0.50": 100, "AP@0.75": 0}  # half the frames each


def test_an_ignored_region(tmp_path):
    """A car inside an ignored region is not scored; the region drops itself from the ground truth first, so the
    result on that car stays and is a false positive (the toolkit's order of drops)."""
    region = [f"{f},0,50,50,40,40,0,0,0,0" for f in (1, 2)]
    gt = [box(f, 1, 10, 10) for f in (1, 2)] + region + [box(f, 2, 55, 55) for f in (1, 2)]
    res = [box(f, 7, 10, 10) for f in (1, 2)] + [box(f, 9, 55, 55) for f in (1, 2)]
    car = evaluate(write_case(tmp_path, gt, res, frames=2))["classes"]["car"]
    assert (car["GT"], car["FN"], car["FP"]) == (1, 0, 2)
    assert car["MOTA"] == pytest.approx(0) and car["IDF1"] == pytest.approx(2 * 2 / 6 * 100)


def test_a_trajectory_that_changes_class_is_two(tmp_path):
    """breakGts: a car that becomes a van is one car and one van trajectory; a tracker that splits it too is right."""
    gt = [box(f, 1, 10, 10, category=CAR if f < 3 else VAN) for f in range(1, 5)]
    res = [box(f, 7 if f < 3 else 8, 10, 10, category=CAR if f < 3 else VAN) for f in range(1, 5)]
    result = evaluate(write_case(tmp_path, gt, res))
    assert result["classes"]["car"]["GT"] == 1 and result["classes"]["van"]["GT"] == 1 and result["overall"]["MOTA"] == 100
    assert result["overall"]["IDs"] == 0 and result["trajectory_ap"]["classes"]["van"]["AP"] == 100


def test_a_result_track_that_changes_class_leaves_task_4a_out(tmp_path):
    gt = [box(f, 1, 10, 10) for f in range(1, 5)]
    res = [box(f, 7, 10, 10, category=CAR if f < 3 else VAN) for f in range(1, 5)]
    result = evaluate(write_case(tmp_path, gt, res))
    assert result["trajectory_ap"] is None and "track 7 of seq (classes 4, 5)" in result["warnings"][0]
    assert result["classes"]["car"]["Rcll"] == pytest.approx(50)  # Task 4B still scores it, split by class


@pytest.mark.parametrize("seed", range(5))
def test_matching_is_a_minimum_cost_perfect_matching(seed):
    """clearMOTMex's algorithm, followed step for step, finds an optimum (as scipy's does) on padded matrices."""
    rng = np.random.default_rng(seed)
    cost = np.full((7, 7), 1e9)
    cost[:5, :4] = np.where(rng.random((5, 4)) < 0.6, rng.random((5, 4)) * 0.5, 1e9)
    left = min_cost_matching(cost)
    assert sorted(left) == list(range(7))
    rows, cols = linear_sum_assignment(cost)
    assert cost[np.arange(7), left].sum() == pytest.approx(cost[rows, cols].sum())


def test_the_command_prints_and_saves_without_touching_the_annotations(tmp_path, capsys, monkeypatch):
    root = write_case(tmp_path / "mot", [box(f, 1, 10, 10) for f in range(1, 5)], [box(f, 7, 10, 10) for f in range(1, 5)])
    before = sorted(p.name for p in (root / "annotations").iterdir())
    status, out, _ = run_main_output(capsys, monkeypatch, "get_VisDrone_MOT_metrics.py", "--data", root, "--res_dir", root / "results")
    assert status == 0 and "Task 4B" in out and "Task 4A" in out and "HOTA" in out
    assert sorted(p.name for p in (root / "annotations").iterdir()) == before  # no <sequence>_clean.txt
    saved = json.loads((root / "visdrone_mot_metrics.json").read_text())["visdrone_mot"]
    assert saved["overall"]["MOTA"] == 100 and saved["overall"]["IDF1"] == 100


def one_sequence(tmp_path: Path, gt_line: str, res_line: str) -> Path:
    return write_case(tmp_path / "mot", [box(f, 1, 10, 10) for f in range(1, 5)] + [gt_line], [box(1, 7, 10, 10), res_line])


@pytest.mark.parametrize(("gt_line", "res_line", "words"), [
    (box(2, 2, 5, 5), "1,8,10,10,20,20,1,4,0", ["results/seq.txt:2", "expected 10 numbers", "got 9"]),
    (box(2, 2, 5, 5), "1,8,10,nan,20,20,1,4,-1,-1", ["results/seq.txt:2", "finite"]),
    (box(2, 2, 5, 5), "1,8,10,10,-20,20,1,4,-1,-1", ["results/seq.txt:2", "width and height >= 0"]),
    (box(2, 2, 5, 5), "1,7,30,30,20,20,1,4,-1,-1", ["results/seq.txt:2", "frame 1 has track id 7 twice"]),
    (box(2, 2, 5, 5), "9,8,10,10,20,20,1,4,-1,-1", ["results/seq.txt", "frame 9", "has 4 frames"]),
    (box(2, 2, 5, 5), "1.5,8,10,10,20,20,1,4,-1,-1", ["results/seq.txt:2", "whole frame number from 1"]),
    ("2,1,40,40,20,20,1,4,0,0", box(2, 8, 5, 5), ["annotations/seq.txt:5", "frame 2 has track id 1 twice"]),
    ("2,2,40,40,20,20,1,12,0,0", box(2, 8, 5, 5), ["annotations/seq.txt:5", "class 0..11"]),
    ("2,2,40,40,20,20,1,4,0,x", box(2, 8, 5, 5), ["annotations/seq.txt:5", "expected numbers"]),
])
def test_bad_mot_lines_are_one_line(tmp_path, capsys, monkeypatch, gt_line, res_line, words):
    root = one_sequence(tmp_path, gt_line, res_line)
    status, err = run_main(capsys, monkeypatch, "get_VisDrone_MOT_metrics.py", "--data", root, "--res_dir", root / "results")
    one_line_error(status, err, *words)
    assert not (root / "visdrone_mot_metrics.json").exists()


def test_results_of_part_of_the_sequences_or_of_an_unknown_one(tmp_path, capsys, monkeypatch):
    root = write_case(tmp_path / "mot", [box(1, 1, 10, 10)], [box(1, 7, 10, 10)], frames=1, name="a")
    write_case(root, [box(1, 1, 10, 10)], [box(1, 7, 10, 10)], frames=1, name="b")
    (root / "results" / "b.txt").unlink()
    status, err = run_main(capsys, monkeypatch, "get_VisDrone_MOT_metrics.py", "--data", root, "--res_dir", root / "results")
    one_line_error(status, err, "cover 1 of 2 sequences", "no b.txt")
    (root / "results" / "b.txt").write_text(box(1, 7, 10, 10) + "\n")
    (root / "results" / "c.txt").write_text(box(1, 7, 10, 10) + "\n")
    status, err = run_main(capsys, monkeypatch, "get_VisDrone_MOT_metrics.py", "--data", root, "--res_dir", root / "results")
    one_line_error(status, err, "c.txt is the result of no sequence")
    status, err = run_main(capsys, monkeypatch, "get_VisDrone_MOT_metrics.py", "--data", root)
    one_line_error(status, err, "give --res_dir")


def test_results_that_are_the_annotations_are_refused(tmp_path, capsys, monkeypatch):
    root = write_case(tmp_path / "mot", [box(1, 1, 10, 10)], [box(1, 7, 10, 10)], frames=1, name="a")
    with unchanged(root):
        status, err = run_main(capsys, monkeypatch, "get_VisDrone_MOT_metrics.py", "--data", root, "--res_dir", root / "annotations")
    one_line_error(status, err, "is --anno_dir", "apart from the annotations")
