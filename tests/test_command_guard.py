"""One guard between every command's inputs and outputs (lrsdetr/utils/guard.py, utils/command.py).

Every entry point (root scripts, `lrsdetr` subcommands, `python -m` spellings, benchmarks) runs through a `Command`,
which cannot exist without declaring its paths; the declaration is checked before anything is written. The second
bad-input probe's cases are reproduced through the real scripts, with the inputs checksummed before and after; and
every command run in-process by the tests has its writes audited against its declaration (write_audit.py).
"""

from __future__ import annotations

import ast
import json
import os
import shutil
from pathlib import Path

import pytest
from script_runs import checkpoint, one_line_error, run_main, run_main_output  # noqa: F401 (checkpoint: a fixture)
from source_tree import unchanged
from tiny_data import write_tiny_dataset

from lrsdetr.commands import COMMANDS
from lrsdetr.utils.command import Command
from lrsdetr.utils.errors import DataError
from lrsdetr.utils.guard import CommandPaths, inputs_protected, refuse_overlaps

REPO = Path(__file__).resolve().parents[1]


# --- every entry point is a declared command -------------------------------------------------------------------

def entry_points(root: Path) -> list[Path]:
    """Every file a user runs: the root scripts, dataset/ and benchmarks/ scripts, and package modules with a
    `__main__` guard (`python -m ...`)."""
    files = [*root.glob("*.py"), *(root / "dataset").glob("*.py"), *(root / "benchmarks").glob("*.py"), *(root / "lrsdetr").rglob("*.py")]
    return sorted(path for path in files if 'if __name__ == "__main__"' in path.read_text(encoding="utf-8"))


def undeclared_entry_points(root: Path) -> list[str]:
    """Entry points that run something other than a declared Command. Declared: `run_root_script(name, ...)` with the
    command whose script this is, a module's `COMMAND`, or `lrsdetr.commands.main` (which runs one of COMMANDS)."""
    problems = []
    for path in entry_points(root):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        names = {node.id for node in ast.walk(tree) if isinstance(node, ast.Name)}
        attributes = {node.attr for node in ast.walk(tree) if isinstance(node, ast.Attribute)}
        if "run_root_script" in names:
            calls = [node for node in ast.walk(tree) if isinstance(node, ast.Call) and getattr(node.func, "id", "") == "run_root_script"]
            name = calls[0].args[0].value if calls and isinstance(calls[0].args[0], ast.Constant) else None
            if name not in COMMANDS or COMMANDS[name].script != path.relative_to(root).as_posix():
                problems.append(f"{path.relative_to(root)}: runs run_root_script({name!r}), which is not the command of this script")
        elif "COMMAND" not in names | attributes and not any(
                isinstance(node, ast.ImportFrom) and (node.module or "").endswith("commands") for node in ast.walk(tree)):
            problems.append(f"{path.relative_to(root)}: runs without a Command declaring its inputs and outputs")
    return problems


def test_every_entry_point_runs_a_declared_command():
    assert entry_points(REPO), "no entry point found"
    problems = undeclared_entry_points(REPO)
    assert not problems, "\n".join(problems)
    scripts = {command.script for command in COMMANDS.values() if command.script}
    assert all((REPO / script).is_file() for script in scripts), sorted(s for s in scripts if not (REPO / s).is_file())


def test_an_entry_point_that_writes_without_a_command_is_named(tmp_path):
    (tmp_path / "lrsdetr").mkdir()
    (tmp_path / "tool.py").write_text('from pathlib import Path\n\nif __name__ == "__main__":\n    Path("out.txt").write_text("x")\n')
    (tmp_path / "val.py").write_text('from lrsdetr.commands import run_root_script\n\nif __name__ == "__main__":\n    run_root_script("detect", {})\n')
    assert undeclared_entry_points(tmp_path) == [
        "tool.py: runs without a Command declaring its inputs and outputs",
        "val.py: runs run_root_script('detect'), which is not the command of this script",
    ]


def test_a_command_cannot_be_made_without_its_paths():
    with pytest.raises(TypeError, match="paths"):
        Command("x", "summary", "doc", {}, run=print)  # type: ignore[call-arg]


# --- the check itself --------------------------------------------------------------------------------------------

@pytest.mark.parametrize("where, output, words", [
    ("is", "data", "is the input"),
    ("inside", "data/sub", "lies inside the input"),
    ("holds", ".", "holds the input"),
    ("through a symlink", "link", "is the input"),
    ("a symlink inside it", "out", "holds"),
])
def test_an_output_overlapping_an_input_is_refused_in_one_line(tmp_path, where, output, words):
    (tmp_path / "data").mkdir()
    (tmp_path / "link").symlink_to(tmp_path / "data")
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "results").symlink_to(tmp_path / "data")
    paths = CommandPaths({}).reads("--source", tmp_path / "data").writes("--project/--name", tmp_path / output)
    with pytest.raises(DataError, match=words) as refused:
        refuse_overlaps(paths)
    assert "\n" not in str(refused.value) and "--source" in str(refused.value) and "choose an output elsewhere" in str(refused.value)


def test_outputs_beside_the_inputs_pass(tmp_path):
    (tmp_path / "weights").mkdir()
    paths = CommandPaths({}).reads("--weights", tmp_path / "weights" / "best.pt").writes("--format", tmp_path / "weights" / "best.onnx")
    refuse_overlaps(paths)
    paths = CommandPaths({}).reads("--data", tmp_path / "data-2").writes("--out", tmp_path / "data")  # a shared prefix is no overlap
    refuse_overlaps(paths)


def test_a_write_into_a_protected_input_raises_at_the_call(tmp_path):
    source = tmp_path / "images"
    source.mkdir()
    (source / "a.jpg").write_bytes(b"original")
    with inputs_protected(CommandPaths({}).reads("--source", source).inputs):
        (tmp_path / "elsewhere.txt").write_text("fine")
        assert (source / "a.jpg").read_bytes() == b"original"  # reading is fine
        for write in (lambda: (source / "a.jpg").write_bytes(b"changed"), lambda: (source / "new.txt").write_text("x"),
                      lambda: os.remove(source / "a.jpg"), lambda: os.replace(tmp_path / "elsewhere.txt", source / "a.jpg"),
                      lambda: shutil.rmtree(source)):
            with pytest.raises(DataError, match="refused to write .*: it is in the input --source"):
                write()
    assert (source / "a.jpg").read_bytes() == b"original" and sorted(p.name for p in source.iterdir()) == ["a.jpg"]
    (source / "after.txt").write_text("unprotected again")


def test_a_command_writing_into_its_input_is_stopped_with_one_line(tmp_path, capsys):
    source = tmp_path / "labels"
    source.mkdir()
    (source / "a.txt").write_text("0 0.5 0.5 0.1 0.1\n")
    command = Command("appender", "writes into its input", "", {"source": str(source)},
                      paths=lambda p: CommandPaths(p).reads("--source", p["source"]),
                      run=lambda p: (Path(p["source"]) / "a.txt").open("a").write("0 0.5 0.5 0.1 0.1\n"))
    with unchanged(source):
        assert command([]) == 2
    assert capsys.readouterr().err.strip().startswith("error: refused to write")


# --- the probe's cases, through the real scripts ----------------------------------------------------------------

@pytest.fixture
def data(tmp_path) -> Path:
    return write_tiny_dataset(tmp_path / "data", n_train=2, n_val=2, size=64, nc=10)  # the checkpoint's ten classes


@pytest.fixture
def predictions(tmp_path, data) -> Path:
    """A val.py-like predictions.json of the tiny val images (VisDrone categories: 1..3), in its own folder."""
    folder = tmp_path / "val"
    folder.mkdir()
    records = [{"image_id": f"{i:04d}", "category_id": 1, "bbox": [10, 10, 20, 20], "score": 0.9} for i in range(2)]
    (folder / "predictions.json").write_text(json.dumps(records))
    return folder / "predictions.json"


def _visdrone_annotations(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(2):
        (folder / f"{i:04d}.txt").write_text("10,10,20,20,1,1,0,0\n")
    return folder


def test_visdrone_metrics_refuses_annotations_where_its_results_go(tmp_path, data, predictions, capsys, monkeypatch):
    anno = _visdrone_annotations(predictions.parent / "visdrone_results")
    with unchanged(anno, data.parent):
        status, err = run_main(capsys, monkeypatch, "get_VisDrone_metrics.py", "--pred_json", predictions, "--anno_dir", anno,
                               "--img_dir", data.parent / "images" / "val")
    one_line_error(status, err, "is the input --anno_dir")


def test_visdrone_metrics_refuses_labels_where_its_annotations_go(tmp_path, data, predictions, capsys, monkeypatch):
    labels = predictions.parent / "visdrone_annotations"
    shutil.copytree(data.parent / "labels" / "val", labels)
    with unchanged(labels, data.parent):
        status, err = run_main(capsys, monkeypatch, "get_VisDrone_metrics.py", "--pred_json", predictions, "--label_dir", labels,
                               "--img_dir", data.parent / "images" / "val")
    one_line_error(status, err, "is the input --label_dir")


def test_visdrone_metrics_refuses_results_that_are_the_annotations(tmp_path, data, capsys, monkeypatch):
    anno = _visdrone_annotations(tmp_path / "VisDrone-val" / "annotations")
    with unchanged(anno.parent):
        status, err = run_main(capsys, monkeypatch, "get_VisDrone_metrics.py", "--anno_dir", anno, "--res_dir", anno,
                               "--img_dir", data.parent / "images" / "val")
    one_line_error(status, err, "--res_dir", "is --anno_dir")
    assert not (tmp_path / "VisDrone-val" / "visdrone_metrics.json").exists()


def test_val_refuses_annotations_inside_its_run_folder(tmp_path, checkpoint, data, capsys, monkeypatch):
    project = tmp_path / "runs"
    anno = _visdrone_annotations(project / "v" / "visdrone_results")
    with unchanged(anno, data.parent):
        status, err = run_main(capsys, monkeypatch, "val.py", "--weights", checkpoint, "--data", data, "--split", "val", "--imgsz", 64,
                               "--device", "cpu", "--project", project, "--name", "v", "--exist_ok", "true", "--visdrone_anno", anno)
    one_line_error(status, err, "--project/--name", "holds the input --visdrone_anno")


def test_detect_refuses_a_results_folder_linked_to_its_source(tmp_path, checkpoint, data, capsys, monkeypatch):
    source = tmp_path / "frames"  # images with their .txt files beside them, which the link would have overwritten
    shutil.copytree(data.parent / "images" / "val", source)
    for label in (data.parent / "labels" / "val").iterdir():
        shutil.copyfile(label, source / label.name)
    (tmp_path / "runs" / "d").mkdir(parents=True)
    (tmp_path / "runs" / "d" / "visdrone_results").symlink_to(source)
    with unchanged(source):
        status, err = run_main(capsys, monkeypatch, "detect.py", "--weights", checkpoint, "--source", source, "--imgsz", 64,
                               "--device", "cpu", "--project", tmp_path / "runs", "--name", "d", "--exist_ok", "true", "--save_visdrone", "true")
    one_line_error(status, err, "--project/--name", "visdrone_results", "the input --source")


def test_heatmap_refuses_its_source_folder_as_output_also_through_a_symlink(tmp_path, checkpoint, capsys, monkeypatch):
    import cv2
    import numpy as np

    pngs = tmp_path / "pngs"
    pngs.mkdir()
    cv2.imwrite(str(pngs / "a.png"), np.full((64, 64, 3), 120, np.uint8))
    (tmp_path / "alias").symlink_to(pngs)
    for project, name in ((tmp_path, "pngs"), (tmp_path, "alias")):
        with unchanged(pngs):
            status, err = run_main(capsys, monkeypatch, "heatmap.py", "--weights", checkpoint, "--source", pngs, "--imgsz", 64,
                                   "--device", "cpu", "--project", project, "--name", name, "--exist_ok", "true")
        one_line_error(status, err, "--project/--name", "is the input --source")


def test_bf16_scan_refuses_a_save_dir_in_its_data_also_through_a_symlink(tmp_path, checkpoint, data, capsys, monkeypatch):
    (tmp_path / "alias").symlink_to(data.parent)
    for save_dir in (data.parent / "labels" / "val", tmp_path / "alias" / "images"):
        with unchanged(data.parent, checkpoint.parent):
            status, err = run_main(capsys, monkeypatch, "benchmarks/bf16_scan.py", "--weights", checkpoint, "--data", data,
                                   "--imgsz", 64, "--batch", 2, "--save_dir", save_dir)
        one_line_error(status, err, "--save_dir", "the input --data")


@pytest.fixture
def trained_run(tmp_path, checkpoint) -> Path:
    """A run folder R/t holding weights/best.pt and last.pt, as train.py leaves it."""
    weights = tmp_path / "R" / "t" / "weights"
    weights.mkdir(parents=True)
    for name in ("best.pt", "last.pt"):
        shutil.copyfile(checkpoint, weights / name)
    return weights.parent


def test_distill_refuses_a_run_folder_holding_its_teacher(tmp_path, trained_run, data, capsys, monkeypatch):
    with unchanged(trained_run, data.parent):
        status, err = run_main(capsys, monkeypatch, "distill.py", "--model", trained_run / "weights" / "last.pt", "--teacher_weights",
                               trained_run / "weights" / "best.pt", "--data", data, "--project", trained_run.parent, "--name", "t",
                               "exist_ok=True", "--epochs", 1, "--imgsz", 64, "--device", "cpu")
    one_line_error(status, err, "--project/--name", "holds the input --model")


def test_train_refuses_a_run_folder_holding_its_starting_checkpoint(tmp_path, trained_run, data, capsys, monkeypatch):
    with unchanged(trained_run, data.parent):
        status, err = run_main(capsys, monkeypatch, "train.py", "--model", trained_run / "weights" / "best.pt", "--data", data,
                               "--project", trained_run.parent, "--name", "t", "--exist_ok", "true", "--epochs", 1, "--imgsz", 64)
    one_line_error(status, err, "--project/--name", "holds the input --model")


def test_pruning_refuses_a_run_folder_holding_its_model(tmp_path, trained_run, data, capsys, monkeypatch):
    with unchanged(trained_run, data.parent):
        status, err = run_main(capsys, monkeypatch, "pruning.py", "--model", trained_run / "weights" / "best.pt", "--data", data,
                               "--project", trained_run.parent, "--name", "t", "exist_ok=True", "--epochs", 1, "--imgsz", 64)
    one_line_error(status, err, "--project/--name", "holds the input --model")


def test_channels_refuses_to_save_over_a_checkpoint(tmp_path, trained_run, capsys, monkeypatch):
    base = trained_run / "weights" / "best.pt"
    with unchanged(trained_run):
        status, err = run_main(capsys, monkeypatch, "plot_channel_image.py", "--base-weights", base, "--prune-weights", base, "--save", base)
    one_line_error(status, err, "--save", "is the input --base-weights")


# --- run folders: re-runs replace, interruptions leave nothing ---------------------------------------------------

def _detect(capsys, monkeypatch, checkpoint, source, project, *extra):
    return run_main_output(capsys, monkeypatch, "detect.py", "--weights", checkpoint, "--source", source, "--imgsz", 64, "--conf", 0.0,
                           "--max_det", 7, "--device", "cpu", "--project", project, "--name", "d", "--exist_ok", "true", *extra)


def test_detect_twice_into_one_folder_replaces_its_results(tmp_path, checkpoint, data, capsys, monkeypatch):
    images = data.parent / "images" / "val"
    for _ in range(2):
        status, _, err = _detect(capsys, monkeypatch, checkpoint, images, tmp_path, "--save_visdrone", "true")
        assert status == 0, err
    run = tmp_path / "d"
    labels = sorted((run / "labels").glob("*.txt"))
    assert len(labels) == 2 and all(len(path.read_text().splitlines()) == 7 for path in labels)  # 7 boxes, not 14
    assert len(json.loads((run / "predictions.json").read_text())) == 14
    # a third run on one image: the other image's label, drawing and VisDrone file (written by the earlier run) go
    status, _, err = _detect(capsys, monkeypatch, checkpoint, images / "0000.jpg", tmp_path)
    assert status == 0, err
    assert sorted(p.name for p in run.iterdir()) == [".lrsdetr-run.json", "0000.jpg", "labels", "predictions.json"]
    assert [p.name for p in (run / "labels").iterdir()] == ["0000.txt"]


def test_a_file_of_the_user_in_the_run_folder_is_left_alone(tmp_path, checkpoint, data, capsys, monkeypatch):
    (tmp_path / "d").mkdir()
    (tmp_path / "d" / "notes.md").write_text("mine")
    for _ in range(2):
        assert _detect(capsys, monkeypatch, checkpoint, data.parent / "images" / "val", tmp_path)[0] == 0
    assert (tmp_path / "d" / "notes.md").read_text() == "mine"


def test_an_interrupted_detect_says_so_in_one_line_and_keeps_nothing(tmp_path, checkpoint, data, capsys, monkeypatch):
    from lrsdetr.engine import detect

    written = detect.DetectionWriter.write

    def interrupt_at_second_frame(self, result):
        written(self, result)
        if sum(self.frames.values()) == 2:
            raise KeyboardInterrupt

    monkeypatch.setattr(detect.DetectionWriter, "write", interrupt_at_second_frame)
    status, _, err = _detect(capsys, monkeypatch, checkpoint, data.parent / "images" / "train", tmp_path)
    assert status == 130 and err.strip().splitlines()[-1] == "detect: interrupted; what this run had written was removed", err
    assert not (tmp_path / "d").exists()


def test_val_twice_into_one_folder_keeps_no_stale_visdrone_results(tmp_path, checkpoint, data, capsys, monkeypatch):
    common = ("--weights", checkpoint, "--data", data, "--split", "val", "--imgsz", 64, "--device", "cpu", "--plots", "false",
              "--project", tmp_path, "--name", "v", "--exist_ok", "true")
    status, _, err = run_main_output(capsys, monkeypatch, "val.py", *common, "--save_visdrone", "true")
    assert status == 0 and (tmp_path / "v" / "visdrone_results").is_dir(), err
    status, _, err = run_main_output(capsys, monkeypatch, "val.py", *common, "--save_visdrone", "false")
    assert status == 0, err
    assert not (tmp_path / "v" / "visdrone_results").exists() and (tmp_path / "v" / "predictions.json").is_file()


@pytest.mark.parametrize("script", ["detect.py", "val.py"])
def test_max_det_0_is_a_usage_error_before_any_folder(tmp_path, checkpoint, data, capsys, monkeypatch, script):
    flags = ("--data", data, "--split", "val") if script == "val.py" else ("--source", data.parent / "images" / "val")
    status, err = run_main(capsys, monkeypatch, script, "--weights", checkpoint, *flags, "--max_det", 0, "--project", tmp_path / "runs")
    one_line_error(status, err, "--max_det 0", "a positive whole number")
    assert not (tmp_path / "runs").exists()


def test_a_lone_text_file_named_jpg_leaves_no_results(tmp_path, checkpoint, capsys, monkeypatch):
    fake = tmp_path / "frame.jpg"
    fake.write_text("not an image")
    status, err = run_main(capsys, monkeypatch, "detect.py", "--weights", checkpoint, "--source", fake, "--imgsz", 64, "--device", "cpu",
                           "--project", tmp_path / "runs", "--name", "d")
    one_line_error(status, err, "--source", str(fake))
    assert not (tmp_path / "runs" / "d").exists()


def test_sliced_max_det_caps_the_whole_frame_not_each_tile(tmp_path, checkpoint, data, capsys, monkeypatch):
    """Each tile gave up to the model's own cap, so one frame held tens of thousands of boxes at a low conf."""
    status, _, err = _detect(capsys, monkeypatch, checkpoint, data.parent / "images" / "val", tmp_path, "--slice", "true",
                             "--slice_size", 32, "--max_det", 5)
    assert status == 0, err
    labels = sorted((tmp_path / "d" / "labels").glob("*.txt"))
    assert len(labels) == 2 and all(len(path.read_text().splitlines()) == 5 for path in labels)
