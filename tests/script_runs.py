"""Root scripts run as `python script.py ...` runs them (in-process, or in a child process), for tests of what a
user sees."""

from __future__ import annotations

import importlib
import runpy
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
from path_audit import audited

REPO = Path(__file__).resolve().parents[1]
BASETEMP = Path(tempfile.gettempdir())  # conftest narrows it to the session's own temporary root


def run_in_subprocess(script: str | Path, *flags: object, expect: int = 0, timeout: int = 600) -> subprocess.CompletedProcess:
    """`python script --flag value ...` from the repository root in a child process; fails the test unless it exits
    `expect`, showing the ends of its output."""
    args = [sys.executable, str(REPO / script), *map(str, flags)]
    out = subprocess.run(args, cwd=REPO, capture_output=True, text=True, timeout=timeout)
    assert out.returncode == expect, f"{' '.join(args)} exited {out.returncode}\n{out.stdout[-3000:]}\n{out.stderr[-3000:]}"
    return out


def run_main(capsys, monkeypatch, script: str, *args: object) -> tuple[int, str]:
    """Run a root script (or `-m module`) with `args` as its command line; return (exit status, stderr)."""
    status, _, err = run_main_output(capsys, monkeypatch, script, *args)
    return status, err


def run_main_output(capsys, monkeypatch, script: str, *args: object) -> tuple[int, str, str]:
    """`run_main`, with stdout too: (exit status, stdout, stderr). Every file the command reads or writes under the
    tests' temporary root must lie under a path it declared (path_audit.py)."""
    monkeypatch.setattr(sys, "argv", [script, *map(str, args)])
    with audited(BASETEMP):
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
