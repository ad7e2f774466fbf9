"""track.py: synthetic drone video tracked end to end (whole-frame, sliced, from a video file), scored by the
VisDrone-MOT protocol; two crossing objects keep their IDs; a run interrupted over a folder of sequences resumes;
bad sources and settings are one line, with nothing written."""

import json
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch
from script_runs import checkpoint, one_line_error, run_main, run_main_output  # noqa: F401 (checkpoint: a fixture)
from ultralytics.engine.results import Results

from lrsdetr.data.synth_video import generate_mot
from lrsdetr.engine import track as track_module
from lrsdetr.engine.track_outputs import LineCounter, SequenceTracks
from lrsdetr.engine.trackers import new_tracker, tracker_config, update
from lrsdetr.eval.mot_inputs import read_mot
from lrsdetr.eval.visdrone_mot import evaluate_mot

FRAMES, SIZE = 6, (128, 96)


@pytest.fixture(scope="module")
def video(tmp_path_factory) -> Path:
    """Two synthetic sequences of 6 frames of 128 x 96 (VisDrone-MOT layout)."""
    root = tmp_path_factory.mktemp("track-video")
    generate_mot(root, 2, FRAMES, SIZE, seed=5)
    return root


def oracle(root: Path, calls: list | None = None):
    """A frame_predictor stand-in that 'detects' the ground-truth boxes of each frame (score 0.9, class = category - 1)."""

    truth = {path.stem: read_mot(path, "ground truth") for path in (root / "annotations").glob("*.txt")}  # read before the command runs

    def factory(model, params):
        counters: dict[str, int] = {}

        def predict(frame, path):
            counters[path] = number = counters.get(path, 0) + 1
            if calls is not None:
                calls.append((Path(path).name, number))
            gt = truth[Path(path).name]
            gt = gt[(gt[:, 0] == number) & (gt[:, 7] != 0)]
            boxes = np.column_stack([gt[:, 2], gt[:, 3], gt[:, 2] + gt[:, 4], gt[:, 3] + gt[:, 5], np.full(len(gt), 0.9), gt[:, 7] - 1])
            return Results(frame, path=path, names={i: str(i) for i in range(11)}, boxes=torch.tensor(boxes, dtype=torch.float32).reshape(-1, 6))

        return predict

    return factory


def test_synthetic_sequences_tracked_whole_and_sliced(checkpoint, video, tmp_path, capsys, monkeypatch):
    sequences = video / "sequences"
    for run, flags in (("whole", []), ("sliced", ["--slice", "True", "--slice_size", 64])):
        status, out, err = run_main_output(capsys, monkeypatch, "track.py", "--weights", checkpoint, "--source", sequences, "--imgsz", 64,
                                           "--conf", 0.01, "--device", "cpu", "--project", tmp_path, "--name", run, "--line", "0,48,128,48", *flags)
        assert status == 0, err
        folder = tmp_path / run
        for name in ("synth_s5_v000", "synth_s5_v001"):
            rows = read_mot(folder / "mot" / f"{name}.txt", "result")  # the evaluator's checks: 10 numbers, one box per track and frame
            assert len(rows) and rows[:, 0].max() <= FRAMES and (rows[:, 8:] == -1).all()
            assert all(len(np.unique(rows[rows[:, 1] == t, 7])) == 1 for t in np.unique(rows[:, 1]))  # one class per track
            drawn = cv2.VideoCapture(str(folder / f"{name}.mp4"))
            assert drawn.get(cv2.CAP_PROP_FRAME_COUNT) == FRAMES and drawn.get(cv2.CAP_PROP_FRAME_WIDTH) == SIZE[0]
        summary = json.loads((folder / "summary.json").read_text())
        assert set(summary) == {"synth_s5_v000", "synth_s5_v001"} and summary["synth_s5_v000"]["counts"] is not None
        assert summary["synth_s5_v000"]["summary"]["all"]["tracks"] == len(np.unique(read_mot(folder / "mot" / "synth_s5_v000.txt", "result")[:, 1]))
        assert "mean length" in out and "line crossings" in out
        status, _ = run_main(capsys, monkeypatch, "get_VisDrone_MOT_metrics.py", "--data", video, "--res_dir", folder / "mot")
        assert status == 0


def test_a_video_file_is_a_sequence(checkpoint, video, tmp_path, capsys, monkeypatch):
    clip = tmp_path / "clip.mp4"
    writer = cv2.VideoWriter(str(clip), cv2.VideoWriter_fourcc(*"mp4v"), 10, SIZE)
    for frame in sorted((video / "sequences" / "synth_s5_v000").iterdir()):
        writer.write(cv2.imread(str(frame)))
    writer.release()
    status, err = run_main(capsys, monkeypatch, "track.py", "--weights", checkpoint, "--source", clip, "--imgsz", 64, "--conf", 0.01,
                           "--device", "cpu", "--project", tmp_path / "runs", "--save", "False")
    assert status == 0, err
    assert read_mot(tmp_path / "runs" / "exp" / "mot" / "clip.txt", "result")[:, 0].max() == FRAMES
    assert not list((tmp_path / "runs" / "exp").glob("*.mp4"))


def test_perfect_detections_give_near_perfect_tracking(checkpoint, video, tmp_path, capsys, monkeypatch):
    """The loop's frames, coordinates and classes line up with the ground truth: a detector that finds exactly the
    annotated boxes is tracked by ByteTrack with few errors (a new object shows from its second frame)."""
    monkeypatch.setattr(track_module, "frame_predictor", oracle(video))
    status, err = run_main(capsys, monkeypatch, "track.py", "--weights", checkpoint, "--source", video / "sequences", "--device", "cpu",
                           "--project", tmp_path, "--save", "False")
    assert status == 0, err
    scores = evaluate_mot(video / "annotations", tmp_path / "exp" / "mot", video / "sequences", verbose=False)
    assert scores["overall"]["MOTA"] > 80 and scores["overall"]["IDF1"] > 85 and scores["overall"]["IDs"] <= 1
    assert scores["overall"]["MOTP"] > 95 and scores["overall"]["FP"] == 0  # the trackers write their Kalman-filtered boxes


@pytest.mark.parametrize("tracker", ["bytetrack", "botsort"])
def test_two_crossing_objects_keep_their_ids(tracker):
    """A car driving right and one driving down cross (their boxes overlap up to IoU 0.54), then part: each keeps its ID."""
    frame = np.zeros((160, 160, 3), np.uint8)
    state, ids = new_tracker(tracker_config(tracker)), {"right": set(), "down": set()}
    for k in range(16):
        right = [8 * k, 60, 8 * k + 20, 80]
        down = [70, 8 * k - 4, 90, 8 * k + 16]  # at k = 8 the two boxes share 14 of their 20 px columns
        boxes = torch.tensor([[*right, 0.9, 0], [*down, 0.9, 0]], dtype=torch.float32)
        rows = update(state, Results(frame, path="crossing", names={0: "car"}, boxes=boxes))
        for row in rows:
            which = "right" if int(row[7]) == 0 else "down"  # the detection each track row came from
            ids[which].add(int(row[4]))
    assert len(ids["right"]) == 1 and len(ids["down"]) == 1 and ids["right"] != ids["down"]


def test_a_track_gets_the_class_its_scores_sum_highest_for_and_crossings_are_counted():
    tracks = SequenceTracks()
    for frame, (cls, score) in enumerate([(3, 0.9), (4, 0.5), (4, 0.3), (3, 0.2)], 1):
        tracks.add(frame, np.array([[0, 0, 10, 10, 7, score, cls, 0]], dtype=float))
    assert set(tracks.table()[:, 7]) == {3}  # 1.1 for class 3 against 0.8 for class 4
    counter = LineCounter((0, 50, 100, 50))  # drawn left to right: 'in' is downward
    for y in (30, 45, 55, 65, 40):
        counter.update(np.array([[40, y - 5, 50, y + 5, 1, 0.9, 0, 0], [140, y - 5, 150, y + 5, 2, 0.9, 0, 0]], dtype=float))
    assert counter.counts({1: "car", 2: "van"}) == {"car": {"in": 1, "out": 1}}  # track 2 passes beside the segment's end


def test_an_interrupted_folder_of_sequences_resumes(checkpoint, video, tmp_path, capsys, monkeypatch):
    calls = []
    predictor = oracle(video, calls)

    def interrupted(model, params):
        predict = predictor(model, params)

        def stop_in_the_second(frame, path):
            if Path(path).name.endswith("v001") and len([c for c in calls if c[0].endswith("v001")]) == 3:
                raise KeyboardInterrupt
            return predict(frame, path)

        return stop_in_the_second

    monkeypatch.setattr(track_module, "frame_predictor", interrupted)
    args = ["--weights", checkpoint, "--source", video / "sequences", "--device", "cpu", "--project", tmp_path]
    status, err = run_main(capsys, monkeypatch, "track.py", *args)
    assert status == 130 and "--resume True --name exp" in err
    folder = tmp_path / "exp"
    assert sorted(p.name for p in (folder / "mot").iterdir()) == ["synth_s5_v000.txt"]
    assert sorted(p.name for p in folder.glob("*.mp4")) == ["synth_s5_v000.mp4"] and not list(folder.glob(".*partial*"))
    calls.clear()
    monkeypatch.setattr(track_module, "frame_predictor", predictor)
    status, err = run_main(capsys, monkeypatch, "track.py", *args, "--resume", "True", "--name", "exp")
    assert status == 0, err
    assert {name for name, _ in calls} == {"synth_s5_v001"} and len(calls) == FRAMES  # only the unfinished one, again whole
    assert set(json.loads((folder / "summary.json").read_text())) == {"synth_s5_v000", "synth_s5_v001"}
    status, err = run_main(capsys, monkeypatch, "track.py", *args, "--resume", "True", "--name", "exp", "--conf", 0.3)
    one_line_error(status, err, "--resume", "--conf 0.1", "now 0.3")


def write_frames(folder: Path, sizes: list[tuple[int, int]]) -> Path:
    folder.mkdir(parents=True)
    for number, (width, height) in enumerate(sizes, 1):
        cv2.imwrite(str(folder / f"{number:07d}.jpg"), np.zeros((height, width, 3), np.uint8))
    return folder


def cut_video(path: Path) -> Path:
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 10, (96, 64))
    for value in range(20):
        writer.write(np.full((64, 96, 3), value * 10, np.uint8))
    writer.release()
    data = path.read_bytes()
    path.write_bytes(data[: len(data) * 6 // 10])
    return path


@pytest.mark.parametrize(("make", "flags", "words"), [
    (lambda d: (d / "clip.mp4").write_bytes(b"not a video") and d / "clip.mp4", [], ["clip.mp4", "cannot read a frame"]),
    (lambda d: cut_video(d / "cut.avi"), [], ["cut.avi", "truncated video", "of the 20 frames"]),
    (lambda d: write_frames(d / "seq", [(64, 64)] * 3), ["--fps", 0], ["--fps 0", "1 to 1000 frames per second"]),
    (lambda d: write_frames(d / "seq", [(64, 64)] * 3), ["--fps", 5000], ["--fps 5000"]),
    (lambda d: write_frames(d / "seq", [(64, 64), (64, 64), (80, 64)]), [], ["0000003.jpg", "80x64 px", "one size"]),
    (lambda d: (d / "seq").mkdir() or d / "seq", [], ["seq", "no frames"]),
    (lambda d: write_frames(d / "seq", [(64, 64)] * 2), ["--tracker", "ocsort"], ["--tracker ocsort", "bytetrack or botsort"]),
    (lambda d: write_frames(d / "seq", [(64, 64)] * 2), ["--line", "1,2,3"], ["--line 1,2,3", "two different points"]),
    (lambda d: write_frames(d / "seq", [(64, 64)] * 2), ["--classes", "car"], ["--classes car", "class indices"]),
])
def test_bad_sources_and_settings_are_one_line_and_write_nothing(checkpoint, tmp_path, capsys, monkeypatch, make, flags, words):
    source = make(tmp_path)
    status, err = run_main(capsys, monkeypatch, "track.py", "--weights", checkpoint, "--source", source, "--imgsz", 64, "--device", "cpu",
                           "--project", tmp_path / "runs", *flags)
    one_line_error(status, err, *words)
    assert not (tmp_path / "runs").exists() or not any((tmp_path / "runs").iterdir())  # a video found cut short mid-run: its run folder removed


def test_a_tracker_yaml_with_reid_and_an_output_inside_the_source_are_refused(checkpoint, tmp_path, capsys, monkeypatch):
    source = write_frames(tmp_path / "seq", [(64, 64)] * 2)
    yaml = tmp_path / "mine.yaml"
    yaml.write_text("tracker_type: botsort\nwith_reid: True\n")
    status, err = run_main(capsys, monkeypatch, "track.py", "--weights", checkpoint, "--source", source, "--tracker", yaml, "--project", tmp_path / "runs")
    one_line_error(status, err, "with_reid")
    status, err = run_main(capsys, monkeypatch, "track.py", "--weights", checkpoint, "--source", source, "--project", source / "runs")
    one_line_error(status, err, "lies inside the input --source")
    assert sorted(p.name for p in source.iterdir()) == ["0000001.jpg", "0000002.jpg"]


def test_a_run_from_before_a_setting_existed_resumes_with_that_settings_default(tmp_path):
    """A state file written before `half` was a setting: that run tracked in fp32, the default, so resuming it
    without --half is the same run, and with --half True is not."""
    params = track_module.TRACK_DEFAULTS | {"source": str(tmp_path / "seqs"), "resume": True}
    older = {key: value for key, value in track_module.settings_of(params).items() if key != "half"}
    (tmp_path / track_module.STATE).write_text(json.dumps({"settings": older, "finished": {}}))
    assert track_module._start(tmp_path, params)["settings"]["half"] is False
    with pytest.raises(track_module.DataError, match="was tracked with --half False, now True"):
        track_module._start(tmp_path, params | {"half": True})
