"""The synthetic drone video: VisDrone-MOT layout and ground truth, objects that move and keep their IDs, determinism."""

import hashlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from script_runs import one_line_error, run_main

from lrsdetr.data.synth_video import generate_mot
from lrsdetr.eval.mot_inputs import read_mot

FRAMES, SIZE = 12, (160, 112)


@pytest.fixture(scope="module")
def video(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("synth-video")
    generate_mot(root, 2, FRAMES, SIZE, seed=3)
    return root


def digest(root: Path) -> str:
    return hashlib.sha256(b"".join(p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file())).hexdigest()


def test_layout_is_visdrone_mot(video):
    sequences = sorted(p.name for p in (video / "sequences").iterdir())
    assert sequences == ["synth_s3_v000", "synth_s3_v001"]
    assert sorted(p.name for p in (video / "annotations").iterdir()) == [f"{name}.txt" for name in sequences]
    frames = sorted((video / "sequences" / sequences[0]).iterdir())
    assert [p.name for p in frames] == [f"{n:07d}.jpg" for n in range(1, FRAMES + 1)]
    assert {Image.open(p).size for p in frames} == {SIZE}


def test_ground_truth_lines_and_moving_identities(video):
    gt = read_mot(video / "annotations" / "synth_s3_v000.txt", "ground truth")  # the evaluator's own checks pass
    assert set(gt[:, 0].astype(int)) == set(range(1, FRAMES + 1))
    objects = gt[gt[:, 7] != 0]
    assert set(objects[:, 7].astype(int)) <= set(range(1, 12)) and (objects[:, 6] == 1).all()
    assert set(objects[:, 8]) <= {0, 1} and set(objects[:, 9]) <= {0, 1, 2}
    ids, counts = np.unique(objects[:, 1], return_counts=True)
    assert len(ids) >= 5 and counts.max() == FRAMES  # objects persist under one ID
    moved = 0
    for track in ids[counts == FRAMES]:
        boxes = objects[objects[:, 1] == track][:, 2:4]
        moved += np.abs(boxes[-1] - boxes[0]).max() > 2
    assert moved >= 2  # most things move (parked ones and a slow camera pan aside)
    cut = objects[objects[:, 8] == 1]
    x, y, w, h = cut[:, 2], cut[:, 3], cut[:, 4], cut[:, 5]
    assert ((x < 0) | (y < 0) | (x + w > SIZE[0]) | (y + h > SIZE[1])).all()  # truncated: the full box runs past the border


def test_same_seed_same_bytes_other_seed_other_video(video, tmp_path):
    generate_mot(tmp_path / "again", 2, FRAMES, SIZE, seed=3)
    generate_mot(tmp_path / "other", 2, FRAMES, SIZE, seed=4)
    assert digest(tmp_path / "again") == digest(video)
    assert digest(tmp_path / "other") != digest(video)


def test_synth_command_draws_video_and_refuses_leftovers(tmp_path, capsys, monkeypatch):
    out = tmp_path / "mot"
    status, _ = run_main(capsys, monkeypatch, "-m lrsdetr.data.synth", "--video", "True", "--out", out, "--sequences", 1,
                         "--frames", 3, "--width", 96, "--height", 64)
    assert status == 0 and len(list((out / "sequences" / "synth_s0_v000").glob("*.jpg"))) == 3
    status, err = run_main(capsys, monkeypatch, "-m lrsdetr.data.synth", "--video", "True", "--out", out, "--sequences", 1,
                           "--frames", 2, "--width", 96, "--height", 64)
    one_line_error(status, err, "0000003.jpg", "from an earlier run")  # fewer frames than before: refused, not mixed
