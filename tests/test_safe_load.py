"""Loading a checkpoint never runs code it holds (lrsdetr/models/checkpoints.py): a crafted pickle is refused in one
line by RTDETR(path) and by every command that loads weights, and runs only once the user trusts it; every kind of
checkpoint this package writes, and a stock Ultralytics RT-DETR one, loads with torch's weights_only unpickler."""

from __future__ import annotations

import os
import sys
import types
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn as nn
from script_runs import checkpoint, one_line_error, run_main  # noqa: F401 (checkpoint: a fixture)
from test_compat import RunsOnUnpickling, their_checkpoint  # noqa: F401 (their_checkpoint: a fixture)
from test_prune import IMGSZ, small_model, write_small_checkpoints
from ultralytics.nn.tasks import RTDETRDetectionModel, load_checkpoint
from ultralytics.utils import IterableSimpleNamespace

from lrsdetr import RTDETR, trusted_checkpoints
from lrsdetr.compat.convert import convert
from lrsdetr.compress.distill import distill
from lrsdetr.compress.finetune import save_checkpoint
from lrsdetr.compress.prune_twins import Twin, to_pruning_view
from lrsdetr.utils.trust import TRUST_VARIABLE
from lrsdetr.nn.detection_model import is_pruned
from lrsdetr.utils.errors import DataError

TRUST_WAYS = ("--trust_checkpoint True", f"{TRUST_VARIABLE}=1")


def marking(marker: Path) -> RunsOnUnpickling:
    """A payload whose unpickling creates `marker`."""
    return RunsOnUnpickling(exec, f"open({str(marker)!r}, 'w').close()")


def craft(folder: Path, legacy: bool = False) -> tuple[Path, Path]:
    """(crafted.pt, marker): unpickling crafted.pt creates the marker file."""
    marker, path = folder / "marker", folder / "crafted.pt"
    torch.save({"model": marking(marker), "ema": None}, path, _use_new_zipfile_serialization=not legacy)
    return path, marker


@pytest.fixture
def crafted(tmp_path) -> tuple[Path, Path]:
    return craft(tmp_path)


@pytest.fixture
def loads(monkeypatch) -> list:
    """The weights_only argument of every torch.load call made while the test runs."""
    calls, real = [], torch.load

    def spy(*args, **kwargs):
        calls.append(kwargs.get("weights_only"))
        return real(*args, **kwargs)

    monkeypatch.setattr(torch, "load", spy)
    return calls


@pytest.mark.parametrize("legacy", [False, True], ids=["zip", "legacy"])
def test_rtdetr_refuses_a_crafted_checkpoint_in_one_line_before_it_runs(tmp_path, legacy):
    path, marker = craft(tmp_path, legacy)
    with pytest.raises(DataError) as refused:
        RTDETR(str(path))
    message = str(refused.value)
    assert message.startswith(f"{path}: not loaded, as unpickling it could run code") and "\n" not in message
    assert ("GLOBAL exec" if legacy else "it names builtins.exec") in message and all(way in message for way in TRUST_WAYS)
    assert not marker.exists()
    torch.load(path, weights_only=False)  # the file really is hostile: an unrestricted load runs it
    assert marker.exists()


def test_ultralytics_own_loader_refuses_it_too(crafted):
    """Once lrsdetr is imported, every Ultralytics load (trainer, AutoBackend, teacher) goes the safe way."""
    path, marker = crafted
    with pytest.raises(DataError, match="it names builtins.exec"):
        load_checkpoint(path)
    assert not marker.exists()


def test_the_environment_variable_trusts_a_file(crafted, monkeypatch):
    path, marker = crafted
    with pytest.raises(DataError):
        RTDETR(str(path))
    monkeypatch.setenv(TRUST_VARIABLE, "1")
    with pytest.raises(TypeError, match="references types outside"):  # it ran; what it left is no model
        RTDETR(str(path))
    assert marker.exists()


def test_trusted_checkpoints_trusts_inside_the_block_only(crafted, monkeypatch):
    path, marker = crafted
    monkeypatch.delenv(TRUST_VARIABLE, raising=False)
    with trusted_checkpoints(False), pytest.raises(DataError):
        RTDETR(str(path))
    with trusted_checkpoints(), pytest.raises(TypeError):
        RTDETR(str(path))
    assert marker.exists()
    marker.unlink()
    with pytest.raises(DataError):
        RTDETR(str(path))
    assert not marker.exists() and TRUST_VARIABLE not in os.environ


@pytest.fixture(scope="module")
def harmless(tmp_path_factory, tiny_data) -> Path:
    """A checkpoint of ours for the argument a command needs besides the crafted one."""
    return write_small_checkpoints(tmp_path_factory.mktemp("harmless"), tiny_data)[0]


def _commands(crafted: Path, harmless: Path, data: Path, image: Path, runs: Path) -> dict[str, tuple]:
    train = ("train.py", "--data", data, "--imgsz", IMGSZ, "--epochs", 1, "--device", "cpu", "--project", runs)
    retrain = ("--data", data, "--imgsz", IMGSZ, "--epochs", 1, "--device", "cpu", "--project", runs)
    return {
        "train --model": (*train, "--model", crafted),
        "train --pretrained": (*train, "--model", harmless, "--pretrained", crafted),
        "train --resume": (*train, "--resume", crafted),
        "val": ("val.py", "--weights", crafted, "--data", data, "--split", "val", "--device", "cpu", "--project", runs),
        "detect": ("detect.py", "--weights", crafted, "--source", image, "--device", "cpu", "--project", runs),
        "track": ("track.py", "--weights", crafted, "--source", image, "--device", "cpu", "--project", runs),
        "export": ("export.py", "--weights", crafted, "--imgsz", IMGSZ),
        "fps": ("get_FPS.py", "--weights", crafted, "--device", "cpu"),
        "heatmap": ("heatmap.py", "--weights", crafted, "--source", image, "--device", "cpu", "--project", runs),
        "pruning --model": ("pruning.py", "--model", crafted, *retrain),
        "distill --model": ("distill.py", "--model", crafted, "--teacher_weights", harmless, *retrain),
        "distill --teacher_weights": ("distill.py", "--model", harmless, "--teacher_weights", crafted, *retrain),
        "channels": ("plot_channel_image.py", "--base-weights", crafted, "--prune-weights", harmless, "--save", runs / "c.png"),
    }


COMMANDS = list(_commands(Path(), Path(), Path(), Path(), Path()))


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_refuses_a_crafted_checkpoint_until_it_is_trusted(command, crafted, harmless, tiny_data, tmp_path,
                                                                         capsys, monkeypatch):
    path, marker = crafted
    monkeypatch.chdir(tmp_path)
    image = next((tiny_data.parent / "images" / "val").glob("*.jpg"))
    args = _commands(path, harmless, tiny_data, image, tmp_path / "runs")[command]
    status, err = run_main(capsys, monkeypatch, *args)
    line = one_line_error(status, err, str(path), "not loaded, as unpickling it could run code", "builtins.exec", *TRUST_WAYS)
    assert not marker.exists(), line
    assert not (tmp_path / "runs").exists()  # refused before any output
    with pytest.raises(TypeError, match="references types outside"):  # trusted, it ran; what it left is no model
        run_main(capsys, monkeypatch, *args, "--trust_checkpoint", "True")
    assert marker.exists() and TRUST_VARIABLE not in os.environ  # trusted for that run only


def _save_naming_their_classes(path: Path, payload, monkeypatch) -> None:
    """Save `payload` inside a module of the authors' fork (ultralytics.nn.extra_modules), as their best.pt names it."""
    block = types.new_class("DEFBlock", (nn.Module,))
    block.__module__ = "ultralytics.nn.extra_modules.block"
    module = types.ModuleType(block.__module__)
    module.DEFBlock = block
    with monkeypatch.context() as saving:  # importable while saving only, as their code is not installed here
        saving.setitem(sys.modules, block.__module__, module)
        holder = block()
        holder.hidden = payload
        torch.save({"model": holder, "ema": None}, path)


@pytest.mark.parametrize("trusted", [False, True])
@pytest.mark.parametrize("as_theirs", [False, True], ids=["plain", "naming-their-classes"])
def test_compat_convert_never_unpickles_code_trusted_or_not(tmp_path, capsys, monkeypatch, trusted, as_theirs):
    """The authors' checkpoints are read by compat's restricted unpickler, which needs no trust and gives none."""
    path, marker = craft(tmp_path)
    if as_theirs:
        _save_naming_their_classes(path, marking(marker), monkeypatch)
    if trusted:
        monkeypatch.setenv(TRUST_VARIABLE, "1")
    status, err = run_main(capsys, monkeypatch, "-m lrsdetr.compat.__main__", "convert", path, tmp_path / "new.pt")
    words = ("it references 'builtins.exec'", "refusing to unpickle it") if as_theirs else ("was not saved by the authors' repository",)
    one_line_error(status, err, str(path), *words)
    assert not marker.exists() and not (tmp_path / "new.pt").exists()


# Our own checkpoints, and a stock one, load safely: torch.load is called with weights_only=True only.

def _loads_safely(path: Path, loads: list) -> nn.Module:
    loads.clear()
    model = RTDETR(str(path)).model
    assert loads == [True], f"{path}: torch.load called with weights_only={loads}"
    return model


@pytest.mark.slow
@pytest.mark.parametrize("name", ["best.pt", "last.pt"])
def test_a_trained_checkpoint_loads_safely(trained_b, loads, name):
    model = _loads_safely(trained_b[0] / "weights" / name, loads)
    assert type(model).__name__ == "LRSDETRDetectionModel"


@pytest.fixture(scope="module")
def small_checkpoints(tiny_data, tmp_path_factory) -> tuple[Path, Path]:
    """(teacher.pt, student.pt): the small model, and it pruned, as the trainer writes them."""
    return write_small_checkpoints(tmp_path_factory.mktemp("small"), tiny_data)


def test_a_pruned_checkpoint_loads_safely(small_checkpoints, loads):
    assert is_pruned(_loads_safely(small_checkpoints[1], loads))


def test_a_checkpoint_in_the_pruning_view_loads_safely(tiny_data, tmp_path, loads):
    """Sparse learning trains, saves and reloads the model with its pruning twins in place."""
    path = save_checkpoint(to_pruning_view(small_model()), tmp_path / "sparse.pt", {"data": str(tiny_data), "imgsz": IMGSZ})
    assert any(isinstance(module, Twin) for module in _loads_safely(path, loads).modules())


@pytest.mark.slow
def test_a_distilled_student_loads_safely(small_checkpoints, tiny_data, tmp_path, loads):
    teacher, student = small_checkpoints
    run = distill({"model": str(student), "teacher_weights": str(teacher), "data": str(tiny_data), "imgsz": IMGSZ,
                   "epochs": 1, "batch": 4, "workers": 0, "device": "cpu", "plots": False, "warmup_iters": 2,
                   "project": str(tmp_path), "name": "kd", "kd_loss_type": "logical"})
    for name in ("best.pt", "last.pt"):
        assert is_pruned(_loads_safely(run / "weights" / name, loads))


def test_a_converted_authors_checkpoint_loads_safely(their_checkpoint, tmp_path, loads):  # noqa: F811
    converted = tmp_path / "ours.pt"
    convert(their_checkpoint[0], converted)
    model = _loads_safely(converted, loads)
    assert type(model).__name__ == "LRSDETRDetectionModel" and model.names[3] == "cls3"


def test_a_stock_ultralytics_rtdetr_checkpoint_loads_safely(tmp_path, loads):
    """Ultralytics' own model class, its argument namespace and a numpy fitness, as its trainer saves them."""
    cfg = {"nc": 3, "backbone": [[-1, 1, "Conv", [16, 3, 2]]] * 4, "head": [[[1, 2, 3], 1, "RTDETRDecoder", [3, 32, 10, 2, 2, 1]]]}
    stock = RTDETRDetectionModel(cfg, verbose=False)
    stock.args = IterableSimpleNamespace(imgsz=64, task="detect")
    path = tmp_path / "stock.pt"
    torch.save({"model": stock.half(), "ema": None, "best_fitness": np.float64(0.5), "train_args": {"imgsz": 64}}, path)
    assert type(_loads_safely(path, loads)) is RTDETRDetectionModel


def test_a_model_saved_after_computing_its_loss_loads_safely(tmp_path, loads):
    """The model keeps its loss and matcher as `criterion` once it has computed one; RTDETR.save() pickles them."""
    from test_baselines import tiny_batch

    wrapper = RTDETR("rtdetr-r18.yaml")
    wrapper.model.train().nc = wrapper.model.model[-1].nc
    wrapper.model.loss(tiny_batch(64))
    assert wrapper.model.criterion is not None
    wrapper.save(tmp_path / "after-loss.pt")
    assert type(_loads_safely(tmp_path / "after-loss.pt", loads).criterion).__name__ == "RTDETRDetectionLoss"
