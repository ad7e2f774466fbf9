"""Root scripts run in-process, as `python script.py ...` runs them, for tests of what a user sees."""

from __future__ import annotations

import importlib
import runpy
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def run_main(capsys, monkeypatch, script: str, *args: object) -> tuple[int, str]:
    """Run a root script (or `-m module`) with `args` as its command line; return (exit status, stderr)."""
    status, _, err = run_main_output(capsys, monkeypatch, script, *args)
    return status, err


def run_main_output(capsys, monkeypatch, script: str, *args: object) -> tuple[int, str, str]:
    """`run_main`, with stdout too: (exit status, stdout, stderr)."""
    monkeypatch.setattr(sys, "argv", [script, *map(str, args)])
    if script.startswith("-m "):  # `python -m module`: its main(argv) returns the exit status
        status = importlib.import_module(script[3:]).main([str(a) for a in args])
    else:
        with pytest.raises(SystemExit) as done:
            runpy.run_path(str(REPO / script), run_name="__main__")
        status = done.value.code
    out, err = capsys.readouterr()
    return status, out, err


def one_line_error(status: int, err: str, *words: str) -> str:
    """The error line (stderr's last; progress bars may come before it), checked: exit 2, no traceback, `words` in it."""
    line = err.strip().splitlines()[-1] if err.strip() else ""
    assert status == 2 and line.startswith("error: ") and "Traceback" not in err, err
    assert all(word in line for word in words), line
    return line


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory) -> Path:
    """An untrained LRS-DETR-B checkpoint: what detect.py and val.py load."""
    from lrsdetr import RTDETR

    path = tmp_path_factory.mktemp("weights") / "lrs-detr-b.pt"
    RTDETR("lrs-detr-b.yaml").save(path)
    return path
