"""No script writes over (or into) its own input: outputs that overlap a source are refused in one line, exit 2,
with the source checksummed before and after. Scripts run in-process, as `python script.py ...` would."""

from __future__ import annotations

import runpy
import sys
from pathlib import Path

import pytest
from source_tree import unchanged
from tiny_data import write_tiny_dataset

REPO = Path(__file__).resolve().parents[1]


def run_main(capsys, monkeypatch, script: str, *args: object) -> tuple[int, str]:
    """Run a root script (or `-m module`) with `args` as its command line; return (exit status, stderr)."""
    monkeypatch.setattr(sys, "argv", [script, *map(str, args)])
    with pytest.raises(SystemExit) as done:
        if script.startswith("-m "):
            runpy.run_module(script[3:], run_name="__main__")
        else:
            runpy.run_path(str(REPO / script), run_name="__main__")
    return done.value.code, capsys.readouterr().err


def one_line_error(status: int, err: str, *words: str) -> str:
    line = err.strip()
    assert status == 2 and line.startswith("error: ") and "\n" not in line and "Traceback" not in err, err
    assert all(word in line for word in words), line
    return line


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory) -> Path:
    """An untrained LRS-DETR-B checkpoint: what detect.py and val.py load."""
    from lrsdetr import RTDETR

    path = tmp_path_factory.mktemp("weights") / "lrs-detr-b.pt"
    RTDETR("lrs-detr-b.yaml").save(path)
    return path


@pytest.fixture
def data(tmp_path) -> Path:
    """A tiny YOLO data set (images/{train,val}, labels/{train,val}, data.yaml) of 128 px images."""
    return write_tiny_dataset(tmp_path / "data", n_train=2, n_val=2)


@pytest.mark.parametrize("where", ["the source folder", "inside it", "a folder holding it", "the folder of a source file"])
def test_detect_never_writes_into_its_source(checkpoint, data, capsys, monkeypatch, where):
    images = data.parent / "images" / "val"
    source, project, name = {
        "the source folder": (images, images.parent, images.name),
        "inside it": (images, images, "out"),
        "a folder holding it": (images, data.parent, "images"),
        "the folder of a source file": (images / "0000.jpg", images.parent, images.name),
    }[where]
    common = ("--weights", checkpoint, "--imgsz", 128, "--device", "cpu", "--exist_ok", "true")
    with unchanged(data.parent):
        status, err = run_main(capsys, monkeypatch, "detect.py", "--source", source, "--project", project, "--name", name, *common)
    one_line_error(status, err, "--project/--name", str(source), "choose an output elsewhere")
    if where == "inside it":
        assert not (images / "out").exists()  # refused before the run folder is made
