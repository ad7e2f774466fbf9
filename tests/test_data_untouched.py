"""Training, validation and statistics leave a user's data set byte for byte as it was, and write nothing into it.

Ultralytics re-encodes a JPEG with bytes after its end marker in place when it first scans the labels, and writes its
label cache (labels/<split>.cache) beside the labels; ours reads such an image as decoded, names it in the log, and
keeps the label cache in the lrsdetr cache folder.
"""

import pytest
from script_runs import run_main_output
from source_tree import unchanged
from tiny_data import write_tiny_dataset
from ultralytics.utils import LOGGER

RESTORED = "bytes after its end; read as decoded, the file is left as it is"
pytestmark = pytest.mark.slow


@pytest.fixture
def damaged_data(tmp_path, monkeypatch):
    """A tiny data set whose first train and first val JPEG have 16 bytes after their end marker, and an lrsdetr
    cache folder of its own."""
    monkeypatch.setenv("LRSDETR_CACHE_DIR", str(tmp_path / "cache"))
    data_yaml = write_tiny_dataset(tmp_path / "data", n_train=4, n_val=2, size=64)
    for split in ("train", "val"):
        image = tmp_path / "data" / "images" / split / "0000.jpg"
        image.write_bytes(image.read_bytes() + b"\x00" * 16)
    return data_yaml


@pytest.fixture
def ultralytics_log(caplog):
    """The messages Ultralytics' logger gives (it does not propagate to the root logger)."""
    LOGGER.addHandler(caplog.handler)
    yield caplog
    LOGGER.removeHandler(caplog.handler)


def named(log, image) -> bool:
    return any(str(image) in message and RESTORED in message for message in log.messages)


def test_train_val_and_stats_leave_every_file_as_it_was(damaged_data, tmp_path, capsys, monkeypatch, ultralytics_log):
    root = damaged_data.parent
    train_image, val_image = root / "images" / "train" / "0000.jpg", root / "images" / "val" / "0000.jpg"
    with unchanged(root):
        status, _, err = run_main_output(capsys, monkeypatch, "train.py", "--data", damaged_data, "--epochs", 1, "--imgsz", 64,
                                         "--batch", 2, "--workers", 0, "--device", "cpu", "--warmup_iters", 1, "--plots", "false",
                                         "--project", tmp_path / "runs", "--name", "t")
        assert status == 0, err
        assert named(ultralytics_log, train_image) and named(ultralytics_log, val_image)
        weights = tmp_path / "runs" / "t" / "weights" / "best.pt"
        for run in ("v1", "v2"):  # the second run reuses the label cache the first wrote
            ultralytics_log.clear()
            status, _, err = run_main_output(capsys, monkeypatch, "val.py", "--weights", weights, "--data", damaged_data, "--split", "val",
                                             "--imgsz", 64, "--batch", 2, "--device", "cpu", "--plots", "false",
                                             "--project", tmp_path / "runs", "--name", run)
            assert status == 0, err
            assert named(ultralytics_log, val_image)
        status, out, err = run_main_output(capsys, monkeypatch, "-m lrsdetr.data.stats", root / "images", "--data", damaged_data,
                                           "--out", tmp_path / "stats.png")
        assert status == 0, err
        assert "images: 6" in out and str(train_image) in out and str(val_image) in out
    assert len(list((tmp_path / "cache").rglob("*.cache"))) == 2  # train's and val's label caches, outside the data set
