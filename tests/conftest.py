"""Shared test set-up: every test runs offline, in a private Ultralytics settings folder."""

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
import torch

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))  # test helpers (tiny_data, reference_weights)
FULL_REFERENCE_DIR = Path(os.environ.get("LRSDETR_REFERENCE_DIR", REPO.parent / "shared" / "reference"))
COMPACT_REFERENCE_DIR = REPO / "tests" / "fixtures" / "reference"

# Set before anything imports ultralytics, so its settings and online checks see them.
os.environ["YOLO_OFFLINE"] = "1"
os.environ.setdefault("YOLO_CONFIG_DIR", str(REPO / ".pytest_cache" / "ultralytics-config"))
# Child processes (root scripts run end to end) get a proxy that refuses everything.
for var in ("HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy"):
    os.environ[var] = "http://127.0.0.1:9"
os.environ["NO_PROXY"] = os.environ["no_proxy"] = ""
torch.set_num_threads(min(2, os.cpu_count() or 1))
# Imported now, under pytest's session-wide capture: Ultralytics' logger writes to the sys.stdout of its import, and
# a first import inside a test would bind it to that test's capsys stream, closed (a logging traceback) afterwards.
import ultralytics  # noqa: F401

_real_connect = socket.socket.connect


def _loopback_only(sock, address):
    """Refuse any connection that leaves this machine: tests must pass with no network at all."""
    host = address[0] if isinstance(address, tuple) else address
    if isinstance(host, str) and host not in ("127.0.0.1", "::1", "localhost") and sock.family != socket.AF_UNIX:
        raise OSError(f"network access attempted in a test: {address}")
    return _real_connect(sock, address)


@pytest.fixture(autouse=True)
def _offline(monkeypatch):
    monkeypatch.setattr(socket.socket, "connect", _loopback_only)


@pytest.fixture(scope="session", autouse=True)
def _audited_root(tmp_path_factory):
    """Commands run in-process (script_runs.run_main) may read and write under the session's temporary root only what
    they declared: the tests keep their data and outputs there (path_audit.py)."""
    import script_runs

    script_runs.BASETEMP = tmp_path_factory.getbasetemp()


@pytest.fixture(scope="session", autouse=True)
def _lrsdetr_cache(tmp_path_factory):
    """Label caches (lrsdetr/data/dataset.py) in a folder of this session, for child processes too, not in ~/.cache."""
    os.environ["LRSDETR_CACHE_DIR"] = str(tmp_path_factory.mktemp("lrsdetr-cache"))


@pytest.fixture(scope="session")
def reference_dir():
    """The authors' layer-by-layer fixture: the full one in ../shared/reference where present (the deeper check),
    else its compact copy in tests/fixtures/reference, so the fidelity tests run in any clone."""
    full = FULL_REFERENCE_DIR / "features-seed0-256x256.npz"
    return FULL_REFERENCE_DIR if full.exists() else COMPACT_REFERENCE_DIR


@pytest.fixture(scope="session")
def tiny_data(tmp_path_factory):
    """A data.yaml for 8 train / 4 val 128x128 images with 3 classes (written once per session)."""
    from tiny_data import write_tiny_dataset

    return write_tiny_dataset(tmp_path_factory.mktemp("tiny_data"))


@pytest.fixture(scope="session")
def trained_b(tiny_data, tmp_path_factory):
    """One epoch of train.py (LRS-DETR-B, 128 px, batch 4, plots on) on `tiny_data`, trained once per session for the
    tests that need a trained checkpoint: (run folder, train.py's stdout). Tests copy what they modify."""
    project = tmp_path_factory.mktemp("trained_b")
    flags = {"--data": tiny_data, "--epochs": 1, "--imgsz": 128, "--batch": 4, "--workers": 0, "--device": "cpu",
             "--warmup_iters": 2, "--project": project, "--name": "b", "--plots": "true"}
    command = [sys.executable, str(REPO / "train.py"), *(str(v) for flag in flags.items() for v in flag)]
    done = subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, f"{' '.join(command)} exited {done.returncode}\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    return project / "b", done.stdout
