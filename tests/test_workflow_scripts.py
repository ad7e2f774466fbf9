"""The root scripts end to end, as a user runs them (subprocesses, CPU, offline, tiny data at 128 px).

One train.py run (conftest's session fixture `trained_b`) gives the checkpoint that val.py, detect.py, get_FPS.py
and heatmap.py use.
"""

import json
from pathlib import Path

import cv2
import pytest
import yaml
from script_runs import run_in_subprocess
from source_tree import unchanged

REPO = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.slow



@pytest.fixture(scope="module")
def trained(trained_b):
    """train.py for one epoch, plots on (fonts offline; conftest's session run); returns the run folder."""
    run_dir, stdout = trained_b
    assert f"Results in {run_dir}" in stdout
    return run_dir


def test_train_writes_weights_results_and_plots(trained):
    for name in ("weights/best.pt", "weights/last.pt", "results.csv", "results.png", "labels.jpg", "train_batch0.jpg", "confusion_matrix.png"):
        assert (trained / name).is_file(), name


def test_val_predictions_give_coco_metrics_and_tide(trained, tiny_data, tmp_path):
    root = tiny_data.parent
    with unchanged(root):
        out = run_in_subprocess("val.py", "--weights", trained / "weights/best.pt", "--data", tiny_data, "--split", "val", "--imgsz", 128,
                  "--batch", 4, "--device", "cpu", "--project", tmp_path, "--name", "v")
    predictions = tmp_path / "v" / "predictions.json"
    assert predictions.is_file() and "python get_COCO_metrics.py --pred_json" in out.stdout
    ground_truth = tmp_path / "gt.json"
    run_in_subprocess("dataset/yolo2coco.py", "--image_path", root / "images/val", "--label_path", root / "labels/val", "--out", ground_truth, "--data", tiny_data)
    out = run_in_subprocess("get_COCO_metrics.py", "--pred_json", predictions, "--anno_json", ground_truth, "--save_dir", tmp_path / "coco")
    assert "Average Precision  (AP) @[ IoU=0.50:0.95 | area=   all | maxDets=100 ]" in out.stdout and "TIDE errors" in out.stdout
    assert json.loads((tmp_path / "coco" / "metrics_maxDets100.json").read_text())["images"] == 4


def test_user_mistakes_are_one_line_without_traceback(trained, tiny_data, tmp_path):
    ten_classes = tmp_path / "ten.yaml"
    ten_classes.write_text(f"path: {tiny_data.parent}\ntrain: images/train\nval: images/val\nnames: {[f'c{i}' for i in range(10)]}\n")
    cases = [
        ("val.py", "--weights", trained / "weights/best.pt", "--data", ten_classes, "--split", "val"),  # wrong nc
        ("val.py", "--weights", tmp_path / "missing.pt"),
        ("train.py", "--data", tmp_path / "missing.yaml"),
        ("detect.py", "--weights", trained / "weights/best.pt", "--source", tmp_path / "no_images"),
    ]
    errors = [run_in_subprocess(*case, expect=2).stderr.strip() for case in cases]
    for err in errors:
        assert err.startswith("error: --") and "\n" not in err and "Traceback" not in err, err
    assert "predicts nc=3 classes" in errors[0] and "nc=10" in errors[0]


@pytest.fixture(scope="module")
def frames(tiny_data, tmp_path_factory):
    """The tiny val images, and a 4-frame video of them."""
    images = sorted((tiny_data.parent / "images" / "val").glob("*.jpg"))
    video = tmp_path_factory.mktemp("video") / "clip.mp4"
    writer = cv2.VideoWriter(str(video), cv2.VideoWriter_fourcc(*"mp4v"), 5, (128, 128))
    for image in images:
        writer.write(cv2.imread(str(image)))
    writer.release()
    return images, video


@pytest.mark.parametrize("sliced", [False, True])
def test_detect_images_and_video(trained, frames, tmp_path, sliced):
    images, video = frames
    common = ("--weights", trained / "weights/best.pt", "--imgsz", 128, "--conf", 0.0, "--device", "cpu", "--project", tmp_path,
              "--slice", sliced, "--slice_size", 96, "--slice_overlap", 0.25)
    with unchanged(images[0].parent, video):
        out = run_in_subprocess("detect.py", "--source", images[0].parent, "--name", "images", *common)
    assert "4 image(s)/frame(s)" in out.stdout
    assert {p.name for p in (tmp_path / "images").glob("*.jpg")} == {p.name for p in images}
    assert len(list((tmp_path / "images" / "labels").glob("*.txt"))) == 4
    records = json.loads((tmp_path / "images" / "predictions.json").read_text())
    assert records and {"image_id", "category_id", "bbox", "score"} <= set(records[0])
    with unchanged(video):
        run_in_subprocess("detect.py", "--source", video, "--name", "video", *common)
    assert (tmp_path / "video" / "clip.mp4").stat().st_size > 0
    assert len(list((tmp_path / "video" / "labels").glob("clip_*.txt"))) == 4


def test_get_fps(trained):
    out = run_in_subprocess("get_FPS.py", "--weights", trained / "weights/best.pt", "--imgsz", 128, "--batch", 2, "--warmup", 1, "--iterations", 3, "--device", "cpu", "--threads", 1)
    assert "batch 2, fp32, cpu, 1 thread, 3 timed iterations" in out.stdout and "FPS" in out.stdout


def test_heatmap(trained, frames, tmp_path):
    images, _ = frames
    with unchanged(images[0]):
        out = run_in_subprocess("heatmap.py", "--weights", trained / "weights/best.pt", "--source", images[0], "--imgsz", 128, "--method", "GradCAM",
                  "--layers", "20,21", "--conf", 0.0, "--device", "cpu", "--project", tmp_path)
    heatmap = cv2.imread(str(tmp_path / "exp" / f"{images[0].stem}.png"))
    assert "1 heatmap(s) (GradCAM, layers 20,21" in out.stdout and heatmap.shape == (128, 128, 3)


def test_quickstart_from_nothing_to_coco_metrics(tmp_path):
    """The main job on a CPU-test budget: synthetic data, one epoch, validation, COCO metrics, TIDE, plots."""
    out = run_in_subprocess("quickstart.py", "--workdir", tmp_path, "--n_train", 8, "--n_val", 4, "--imgsz", 128, "--epochs", 1, "--batch", 2, "--device", "cpu")
    for text in ("Drawing 8 train + 4 val synthetic drone images", "COCO bbox metrics for", "Per-class AP", "TIDE errors", "Both protocols", "Quick start done"):
        assert text in out.stdout, text
    assert (tmp_path / "train" / "results.png").is_file() and (tmp_path / "val" / "coco_metrics" / "metrics_maxDets100.json").is_file()
    trained = yaml.safe_load((tmp_path / "train" / "args.yaml").read_text())
    assert (trained["batch"], trained["nbs"], trained["lr0"], trained["warmup_bias_lr"]) == (2, 2, 5e-4, 0.0)  # the quick schedule, one step per batch
