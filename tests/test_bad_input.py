"""Bad input gets one line naming the file, the line/object/record/argument and what was expected (exit 2);
never a traceback, never a silently wrong result. The inputs are checksummed around every run."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pytest
from script_runs import checkpoint, one_line_error, run_main, run_main_output  # noqa: F401 (checkpoint: a fixture)
from source_tree import unchanged
from tiny_data import write_tiny_dataset

REPO = Path(__file__).resolve().parents[1]
NAMES = REPO / "dataset" / "data.yaml"


def _voc(root: Path, size: str, box: str) -> tuple:
    (root / "xml").mkdir()
    (root / "xml" / "a.xml").write_text(f"<annotation><size>{size}</size><object><name>car</name><bndbox>{box}</bndbox></object></annotation>")
    return ("dataset/xml2txt.py", "--src", root / "xml", "--out", root / "labels", "--data", NAMES)


def _visdrone(root: Path, line: str) -> tuple:
    (root / "vd" / "images").mkdir(parents=True)
    (root / "vd" / "annotations").mkdir()
    cv2.imwrite(str(root / "vd" / "images" / "a.jpg"), np.full((40, 60, 3), 90, np.uint8))
    (root / "vd" / "annotations" / "a.txt").write_text(f"1,1,5,5,1,1,0,0\n{line}\n")
    return ("dataset/visdrone2yolo.py", "--src", root / "vd", "--out", root / "yolo")


def _yolo(root: Path, line: str) -> tuple:
    (root / "images").mkdir()
    (root / "labels").mkdir()
    cv2.imwrite(str(root / "images" / "a.jpg"), np.full((40, 60, 3), 90, np.uint8))
    (root / "labels" / "a.txt").write_text(f"0 0.5 0.5 0.1 0.1\n{line}\n")
    return ("dataset/yolo2coco.py", "--image_path", root / "images", "--label_path", root / "labels", "--out", root / "out" / "gt.json", "--data", NAMES)


def _coco(root: Path, gt_box: str, pred_box: str) -> tuple:
    (root / "eval").mkdir()
    gt = '{"images": [{"id": 1, "width": 60, "height": 40}], "categories": [{"id": 1, "name": "car"}], "annotations": [{"id": 1, "image_id": 1, "category_id": 1, "bbox": %s}]}'
    (root / "eval" / "gt.json").write_text(gt % gt_box)
    (root / "eval" / "pred.json").write_text('[{"image_id": 1, "category_id": 1, "score": 0.5, "bbox": %s}]' % pred_box)
    return ("get_COCO_metrics.py", "--pred_json", root / "eval" / "pred.json", "--anno_json", root / "eval" / "gt.json", "--save_dir", root / "metrics")


GOOD_VOC_SIZE, GOOD_VOC_BOX = "<width>60</width><height>40</height>", "<xmin>1</xmin><ymin>1</ymin><xmax>9</xmax><ymax>9</ymax>"
NON_FINITE = {
    "VOC nan coordinate": (lambda r: _voc(r, GOOD_VOC_SIZE, GOOD_VOC_BOX.replace(">1<", ">nan<", 1)), ["a.xml: object 1: expected a finite number in <xmin>, got 'nan'"]),
    "VOC infinite size": (lambda r: _voc(r, "<width>inf</width><height>40</height>", GOOD_VOC_BOX), ["a.xml: <size>: expected a finite number in <width>, got 'inf'"]),
    "VisDrone nan": (lambda r: _visdrone(r, "1,1,nan,5,1,1,0,0"), ["a.txt:2: expected finite coordinates"]),
    "YOLO inf": (lambda r: _yolo(r, "0 0.5 inf 0.1 0.1"), ["a.txt:2: expected normalised coordinates in 0..1"]),
    "COCO GT NaN": (lambda r: _coco(r, "[1, 1, NaN, 5]", "[1, 1, 5, 5]"), ["--anno_json", "gt.json: annotation #0 has bbox [1, 1, nan, 5]"]),
    "COCO prediction Infinity": (lambda r: _coco(r, "[1, 1, 5, 5]", "[1, Infinity, 5, 5]"), ["--pred_json", "pred.json: detection #0 has bbox [1, inf, 5, 5]"]),
}


@pytest.mark.parametrize("case", NON_FINITE)
def test_non_finite_numbers_are_refused_naming_file_and_line(tmp_path, capsys, monkeypatch, case):
    make, words = NON_FINITE[case]
    script, *args = make(tmp_path)
    with unchanged(tmp_path):
        status, err = run_main(capsys, monkeypatch, script, *args)
    one_line_error(status, err, *words)


@pytest.mark.parametrize("gt_box, pred_box, words", [
    ("[10, 10, -5, 5]", "[10, 10, 5, 5]", ["--anno_json", "gt.json: annotation #0 has bbox [10, 10, -5, 5] with a negative width or height"]),
    ("[10, 10, 5, 5]", "[10, 10, 5, -0.5]", ["--pred_json", "pred.json: detection #0 has bbox [10, 10, 5, -0.5] with a negative width or height"]),
])
def test_negative_box_sizes_are_refused_naming_file_record_and_value(tmp_path, capsys, monkeypatch, gt_box, pred_box, words):
    script, *args = _coco(tmp_path, gt_box, pred_box)
    with unchanged(tmp_path):
        status, err = run_main(capsys, monkeypatch, script, *args)
    one_line_error(status, err, *words)


@pytest.mark.parametrize("script, flags", [
    ("detect.py", ["--slice", "true", "--slice_size", "0"]),
    ("detect.py", ["--slice", "true", "--slice_overlap", "1.0"]),
    ("detect.py", ["--slice", "true", "--slice_merge", "FOO"]),
    ("detect.py", ["--slice", "true", "--slice_batch", "0"]),
    ("track.py", ["--slice", "true", "--slice_batch", "1.5"]),
    ("detect.py", ["--conf", "1.5"]),
    ("detect.py", ["--imgsz", "abc"]),
    ("val.py", ["--imgsz", "0"]),
    ("train.py", ["--imgsz", "-1"]),
    ("train.py", ["--epoch", "5"]),  # not --epochs
])
def test_bad_flags_stop_before_a_model_is_loaded_or_a_run_folder_made(tmp_path, capsys, monkeypatch, script, flags):
    weights = tmp_path / "best.pt"
    weights.write_bytes(np.random.default_rng(0).bytes(4096))  # loading it would fail: the flag must be refused first
    source = ["--weights", weights] if script != "train.py" else ["--model", weights]
    status, err = run_main(capsys, monkeypatch, script, *source, "--project", tmp_path / "runs", *flags)
    one_line_error(status, err, flags[-2])
    assert not (tmp_path / "runs").exists()


def _not_a_checkpoint(folder: Path, kind: str) -> Path:
    import torch

    path = folder / "best.pt"
    if kind == "random bytes":
        path.write_bytes(np.random.default_rng(1).bytes(4096))
    elif kind == "empty":
        path.write_bytes(b"")
    else:  # a checkpoint cut short, as by an interrupted copy
        torch.save({"model": torch.zeros(1000)}, path)
        path.write_bytes(path.read_bytes()[:2000])
    return path


@pytest.mark.parametrize("kind", ["random bytes", "empty", "truncated"])
@pytest.mark.parametrize("script, argument", [("detect.py", "--weights"), ("val.py", "--weights"), ("train.py", "--model"), ("export.py", "--weights")])
def test_a_file_that_is_no_checkpoint_is_named_with_what_a_checkpoint_is(tmp_path, capsys, monkeypatch, kind, script, argument):
    weights = _not_a_checkpoint(tmp_path, kind)
    status, err = run_main(capsys, monkeypatch, script, argument, weights, "--device", "cpu")
    one_line_error(status, err, f"{argument} {weights}: not a PyTorch checkpoint", "the .pt file that torch.save writes")


@pytest.mark.parametrize("missing, words", [("names", ["'names' or 'nc' are required"]), ("val", ["'val:' key missing"]), ("train", ["'train:' key missing"])])
@pytest.mark.parametrize("script", ["val.py", "train.py"])
def test_a_data_yaml_missing_a_key_names_the_key(tiny_data, tmp_path, capsys, monkeypatch, missing, words, script):
    lines = {"path": tiny_data.parent, "train": "images/train", "val": "images/val", "names": "{0: a, 1: b, 2: c}"}
    data = tmp_path / "data.yaml"
    data.write_text("".join(f"{key}: {value}\n" for key, value in lines.items() if key != missing))
    import torch

    torch.save({}, tmp_path / "best.pt")  # val.py checks --data before it loads the checkpoint
    weights = ["--weights", tmp_path / "best.pt", "--split", "val"] if script == "val.py" else []
    status, err = run_main(capsys, monkeypatch, script, "--data", data, *weights, "--device", "cpu", "--project", tmp_path / "runs")
    one_line_error(status, err, f"--data {data}", *words)


def test_detect_counts_unreadable_images_and_fails_when_nothing_could_be_read(checkpoint, tmp_path, capsys, monkeypatch):
    images = write_tiny_dataset(tmp_path / "data", n_train=0, n_val=1).parent / "images" / "val"
    (images / "notes.jpg").write_text("a text file with an image's name")
    (images / "cut.jpg").write_bytes((images / "0000.jpg").read_bytes()[:300])  # a JPEG cut short after its header
    common = ("--weights", checkpoint, "--imgsz", 128, "--device", "cpu", "--project", tmp_path / "runs")
    with unchanged(images):
        status, out, err = run_main_output(capsys, monkeypatch, "detect.py", "--source", images, *common, "--name", "some")
        assert status == 0, err
        assert "in 1 image(s)/frame(s); 2 unreadable image(s) skipped: cut.jpg, notes.jpg;" in out

        status, err = run_main(capsys, monkeypatch, "detect.py", "--source", images / "[cn]*.jpg", *common, "--name", "none")
        one_line_error(status, err, "no image or video frame could be read (2 unreadable image(s))")
        status, err = run_main(capsys, monkeypatch, "detect.py", "--source", images / "notes.jpg", *common, "--name", "lone")
    one_line_error(status, err, f"--source {images / 'notes.jpg'}: no image or video frame could be read (1 unreadable image(s))")
    assert sorted(p.name for p in (tmp_path / "runs").iterdir()) == ["some"]  # no run folder (nor predictions.json) for nothing read


def test_detect_on_a_folder_without_images_is_one_line(tmp_path, capsys, monkeypatch):
    (tmp_path / "notes").mkdir()
    (tmp_path / "notes" / "readme.txt").write_text("no images here")
    weights = _not_a_checkpoint(tmp_path, "empty")
    weights.write_bytes(b"\x80")  # passes the format check; the source is refused before it is loaded
    status, err = run_main(capsys, monkeypatch, "detect.py", "--weights", weights, "--source", tmp_path / "notes", "--project", tmp_path / "runs")
    one_line_error(status, err, f"--source {tmp_path / 'notes'}: no image or video files")
    assert not (tmp_path / "runs").exists()


def _not_an_onnx_model(path: Path, kind: str) -> Path:
    import onnx
    from onnx import TensorProto, helper

    tensor = [helper.make_tensor_value_info(name, TensorProto.FLOAT, [1, 3, 64, 64]) for name in ("images", "output0")]
    data = helper.make_model(helper.make_graph([helper.make_node("Identity", ["images"], ["output0"])], "g", tensor[:1], tensor[1:])).SerializeToString()
    onnx.load_from_string(data)  # whole, it is a model
    path.write_bytes({"cut short": data[: len(data) // 2], "text": b"a text file\n", "empty": b""}[kind])
    return path


@pytest.mark.parametrize("kind", ["cut short", "text", "empty"])
@pytest.mark.parametrize("script", ["val.py", "detect.py"])
def test_a_file_named_onnx_that_is_no_onnx_model_is_named(tiny_data, tmp_path, capsys, monkeypatch, kind, script):
    weights = _not_an_onnx_model(tmp_path / "best.onnx", kind)
    source = ("--data", tiny_data, "--split", "val") if script == "val.py" else ("--source", tiny_data.parent / "images" / "val")
    status, err = run_main(capsys, monkeypatch, script, "--weights", weights, *source, "--device", "cpu", "--project", tmp_path / "runs")
    one_line_error(status, err, f"--weights {weights}: not an ONNX model, or a truncated one", "expected a .onnx file that export.py writes")
    assert not (tmp_path / "runs").exists()


@pytest.mark.parametrize("key, entries", [
    ("categories", '[{"id": 1, "name": "car"}, {"id": 2, "name": "van"}, {"id": 1, "name": "bus"}]'),
    ("images", '[{"id": 1, "width": 60, "height": 40}, {"id": 1, "width": 80, "height": 40}]'),
])
def test_repeated_ids_in_coco_ground_truth_are_refused(tmp_path, capsys, monkeypatch, key, entries):
    script, *args = _coco(tmp_path, "[1, 1, 5, 5]", "[1, 1, 5, 5]")
    gt = json.loads((tmp_path / "eval" / "gt.json").read_text())
    gt[key] = json.loads(entries)
    (tmp_path / "eval" / "gt.json").write_text(json.dumps(gt))
    with unchanged(tmp_path):
        status, err = run_main(capsys, monkeypatch, script, *args)
    first, second = (0, 2) if key == "categories" else (0, 1)
    one_line_error(status, err, f"gt.json: '{key}' #{first} and #{second} both have id 1, expected each id once")


def test_a_byte_order_mark_and_a_class_written_1_0_are_read_as_ultralytics_reads_them(tmp_path, capsys, monkeypatch):
    from ultralytics.data.utils import verify_image_label

    script, *args = _yolo(tmp_path, "0 0.5 0.5 0.2 0.2")
    label = tmp_path / "labels" / "a.txt"
    label.write_bytes(b"\xef\xbb\xbf" + b"1.0 0.5 0.5 0.2 0.2\n2 0.25 0.25 0.1 0.1\n")
    with unchanged(tmp_path / "images", tmp_path / "labels"):
        status, err = run_main(capsys, monkeypatch, script, *args)
    assert status == 0, err
    coco = json.loads((tmp_path / "out" / "gt.json").read_text())
    assert [a["category_id"] for a in coco["annotations"]] == [2, 3]  # class index + 1
    ultralytics_read = verify_image_label((str(tmp_path / "images" / "a.jpg"), str(label), "", False, 10, 0, 0, False))
    assert ultralytics_read[8] == 0 and ultralytics_read[1][:, 0].tolist() == [1.0, 2.0]  # no corrupt label, same classes

    label.write_text("1.5 0.5 0.5 0.2 0.2\n")  # no class: refused by both
    status, err = run_main(capsys, monkeypatch, script, *args)
    one_line_error(status, err, "a.txt:1: expected an integer class, got '1.5'")
    assert verify_image_label((str(tmp_path / "images" / "a.jpg"), str(label), "", False, 10, 0, 0, False))[8] == 1


def test_a_visdrone_annotation_with_a_byte_order_mark_is_read(tmp_path, capsys, monkeypatch):
    script, *args = _visdrone(tmp_path, "10,10,20,10,1,4,0,0")
    annotation = tmp_path / "vd" / "annotations" / "a.txt"
    annotation.write_bytes(b"\xef\xbb\xbf" + annotation.read_bytes())
    status, err = run_main(capsys, monkeypatch, script, *args)
    assert status == 0, err
    assert (tmp_path / "yolo" / "labels" / "train" / "a.txt").read_text().count("\n") == 2


@pytest.mark.parametrize("damage, ultralytics_says", [("cut short", "ignoring corrupt image/label"), ("bytes after the end", "corrupt JPEG restored and saved")])
def test_a_truncated_jpeg_is_named_at_conversion_and_never_linked(tmp_path, capsys, monkeypatch, damage, ultralytics_says):
    """Ultralytics leaves such an image out of training, or re-saves it in place: through a hard link that would
    rewrite the user's source image, so it is copied."""
    from ultralytics.data.utils import verify_image_label

    script, *args = _visdrone(tmp_path, "10,10,20,10,1,4,0,0")
    image = tmp_path / "vd" / "images" / "a.jpg"
    cv2.imwrite(str(image), np.random.default_rng(0).integers(0, 255, (40, 60, 3), dtype=np.uint8))
    image.write_bytes(image.read_bytes()[:-200] if damage == "cut short" else image.read_bytes() + b"\x00" * 16)
    with unchanged(tmp_path / "vd"):
        status, out, err = run_main_output(capsys, monkeypatch, script, *args)
        assert status == 0, err
        assert ("warning: JPEG truncated or with bytes after its end (training reads it as decoded and leaves the file as it is, "
                "or leaves it out if it does not decode; Ultralytics' own tools re-save it in place): a.jpg") in out
        converted = tmp_path / "yolo" / "images" / "train" / "a.jpg"
        assert not converted.samefile(image)
        message = verify_image_label((str(converted), str(tmp_path / "yolo" / "labels" / "train" / "a.txt"), "", False, 10, 0, 0, False))[-1]
        assert ultralytics_says in message

        status, out, err = run_main_output(capsys, monkeypatch, "dataset/yolo2coco.py", "--image_path", image.parent, "--label_path", tmp_path / "yolo" / "labels" / "train",
                                           "--out", tmp_path / "gt.json", "--data", NAMES)
        assert status == 0 and "warning: JPEG truncated" in out and "a.jpg" in out, err


def _flat_dataset(root: Path, count: int = 4) -> tuple[Path, Path]:
    """images/ and labels/ with a label for every image."""
    images = write_tiny_dataset(root, n_train=count, n_val=0).parent / "images" / "train"
    return images, images.parent.parent / "labels" / "train"


def _writers(root: Path) -> dict[str, tuple]:
    images, labels = _flat_dataset(root / "data")
    vd = Path(_visdrone(root, "10,10,20,10,1,4,0,0")[2])
    return {
        "split_data": ("dataset/split_data.py", "--image_path", images, "--label_path", labels, "--train", "0.5", "--val", "0.5", "--test", "0", "--link", "false"),
        "visdrone2yolo": ("dataset/visdrone2yolo.py", "--src", vd, "--link", "false"),
        "yolo2coco": ("dataset/yolo2coco.py", "--image_path", images, "--label_path", labels, "--data", root / "data" / "data.yaml"),
    }


@pytest.mark.parametrize("script", ["split_data", "visdrone2yolo", "yolo2coco"])
def test_an_output_path_below_a_file_is_one_line_and_writes_nothing(tmp_path, capsys, monkeypatch, script):
    command = _writers(tmp_path)[script]
    (tmp_path / "taken").write_text("a file where the output folder should be")
    out = tmp_path / "taken" / ("gt.json" if script == "yolo2coco" else "out")
    with unchanged(tmp_path):
        status, err = run_main(capsys, monkeypatch, *command, "--out", out)
    one_line_error(status, err, f"out {out}", f"{tmp_path / 'taken'} is a file; expected a folder")


@pytest.mark.parametrize("script", ["split_data", "visdrone2yolo"])
@pytest.mark.parametrize("failing_write", [3, 4])
def test_a_write_failing_mid_run_never_leaves_an_image_without_its_label(tmp_path, capsys, monkeypatch, script, failing_write):
    """A full disk or a lost permission halfway: whichever write fails, every image written has its label."""
    import errno
    import os

    command = _writers(tmp_path)[script]
    if script == "visdrone2yolo":  # a second image, so that writes 3 and 4 belong to it
        vd = Path(command[2])
        cv2.imwrite(str(vd / "images" / "b.jpg"), np.full((40, 60, 3), 90, np.uint8))
        (vd / "annotations" / "b.txt").write_text("1,1,5,5,1,1,0,0\n")
    real_replace, calls = os.replace, []

    def replace(source, target):
        calls.append(target)
        if len(calls) == failing_write:
            raise OSError(errno.ENOSPC, "No space left on device")
        return real_replace(source, target)

    monkeypatch.setattr(os, "replace", replace)
    out = tmp_path / "out"
    status, err = run_main(capsys, monkeypatch, *command, "--out", out)
    one_line_error(status, err, f"{calls[-1]}: cannot write it (No space left on device)")
    written = list(out.glob("images/*/*.jpg"))
    assert len(written) == (failing_write - 1) // 2
    for image in written:
        assert (out / "labels" / image.parent.name / f"{image.stem}.txt").is_file(), image


@pytest.mark.parametrize("script", ["detect.py", "val.py", "train.py"])
def test_a_project_that_is_a_file_is_one_line_before_the_model_loads(tiny_data, tmp_path, capsys, monkeypatch, script):
    import torch

    torch.save({}, tmp_path / "best.pt")  # not loadable as a model: the project must be refused first
    (tmp_path / "taken").write_text("a file")
    args = {"detect.py": ("--weights", tmp_path / "best.pt", "--source", tiny_data.parent / "images" / "val"),
            "val.py": ("--weights", tmp_path / "best.pt", "--data", tiny_data, "--split", "val"),
            "train.py": ("--model", "lrs-detr-b.yaml", "--data", tiny_data)}[script]
    status, err = run_main(capsys, monkeypatch, script, *args, "--project", tmp_path / "taken", "--device", "cpu")
    one_line_error(status, err, f"{tmp_path / 'taken'} is a file; expected a folder")


def _checkpoint_pickling(module_name: str, path: Path) -> Path:
    """A torch.save checkpoint whose model is an instance of a class from `module_name`, which is then gone."""
    import sys
    import types

    import torch

    module = types.ModuleType(module_name)
    exec("class Block:\n    pass\n", module.__dict__)
    module.Block.__module__ = module_name
    sys.modules[module_name] = module
    try:
        torch.save({"model": module.Block(), "train_args": {}}, path)
    finally:
        del sys.modules[module_name]
    return path


def test_a_checkpoint_needing_a_module_that_is_not_installed_is_one_line(tiny_data, tmp_path, capsys, monkeypatch):
    weights = _checkpoint_pickling("lab_plugin", tmp_path / "theirs.pt")
    status, err = run_main(capsys, monkeypatch, "val.py", "--weights", weights, "--data", tiny_data, "--split", "val", "--device", "cpu")
    one_line_error(status, err, f"--weights {weights}: the checkpoint needs the Python module 'lab_plugin', which is not installed here")
    assert "AutoUpdate" not in err


@pytest.mark.parametrize("route", ["a checkpoint naming a missing module", "any requirement check"])
def test_no_autoupdate_is_attempted_offline(tiny_data, tmp_path, route):
    """Ultralytics pip-installs what a checkpoint or an exporter needs; offline that can only fail, after saying so."""
    import os
    import subprocess
    import sys

    if route == "any requirement check":
        command = [sys.executable, "-c", "import lrsdetr\nfrom ultralytics.utils.checks import check_requirements\ncheck_requirements('lab-plugin')"]
    else:
        weights = _checkpoint_pickling("lab_plugin", tmp_path / "theirs.pt")
        command = [sys.executable, str(REPO / "val.py"), "--weights", str(weights), "--data", str(tiny_data), "--split", "val", "--device", "cpu"]
    env = {key: value for key, value in os.environ.items() if key not in ("YOLO_AUTOINSTALL", "YOLO_OFFLINE")}  # as a user's shell
    done = subprocess.run(command, capture_output=True, text=True, env=env, cwd=tmp_path, timeout=300)
    output = done.stdout + done.stderr
    assert "lab" in output and "attempting AutoUpdate" not in output, output[-3000:]


def test_a_folder_without_write_permission_is_one_line(tmp_path, capsys, monkeypatch):
    """Tests run as root here, who may write anywhere: the permission answer is the one thing simulated."""
    import os

    command = _writers(tmp_path)["split_data"]
    (tmp_path / "locked").mkdir()
    real_access = os.access
    monkeypatch.setattr(os, "access", lambda path, mode, **kw: Path(path) != tmp_path / "locked" and real_access(path, mode, **kw))
    with unchanged(tmp_path):
        status, err = run_main(capsys, monkeypatch, *command, "--out", tmp_path / "locked" / "out")
    one_line_error(status, err, f"no permission to write in {tmp_path / 'locked'}; expected a folder you can write to")


@pytest.mark.parametrize("script", ["train.py", "val.py"])
@pytest.mark.parametrize("problem, words", [
    ("a YAML syntax error", ["YAML syntax error", "did not find expected ',' or ']'"]),
    ("fewer names than the labels' classes", ["has nc=1 (classes 0..0) but", "/0000.txt:", "has class"]),
])
def test_a_data_yaml_that_cannot_describe_the_labels_is_one_line_before_any_run_folder(tmp_path, capsys, monkeypatch, script, problem, words):
    """Ultralytics drops every image holding a class beyond `names` as 'corrupt' (a traceback when none is left, or a
    score of what remains); a YAML syntax error was a traceback. Both now stop before the model or a run folder."""
    data = write_tiny_dataset(tmp_path / "data", n_train=2, n_val=2, size=64)
    yaml = tmp_path / "data.yaml"
    yaml.write_text(f"path: {data.parent}\ntrain: images/train\nval: [images/val\nnames: {{0: a}}\n" if problem.startswith("a YAML")
                    else f"path: {data.parent}\ntrain: images/train\nval: images/val\nnames:\n  0: a\n")
    flags = ("--epochs", 1) if script == "train.py" else ("--split", "val", "--weights", _untrained(tmp_path))
    with unchanged(data.parent):
        status, err = run_main(capsys, monkeypatch, script, "--data", yaml, "--imgsz", 64, "--device", "cpu", "--project", tmp_path / "runs", *flags)
    one_line_error(status, err, f"--data {yaml}", *words)
    assert not (tmp_path / "runs").exists()


def _untrained(folder: Path) -> Path:
    from lrsdetr import RTDETR

    RTDETR("rtdetr-r18.yaml").save(folder / "r18.pt")
    return folder / "r18.pt"
