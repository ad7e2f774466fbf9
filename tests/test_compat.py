"""The authors' pickled best.pt (whole model objects from their fork) imports without their code, and only that:
a pickle that would run code is refused before anything runs."""

import hashlib
import json
import os
import subprocess
import sys

import numpy as np
import pytest
import torch
from reference_weights import recipe_state_dict
from ultralytics.utils import LOGGER

from lrsdetr import LRSDETRDetectionModel, RTDETR
from lrsdetr.compat import import_original_checkpoint
from lrsdetr.utils.errors import DataError

# A stand-in for the authors' Ultralytics fork: the saving process imports it in place of the real package, so the
# checkpoint names their module paths (ultralytics.nn.extra_modules...), which the loading process cannot import.
FORK = {
    "ultralytics/__init__.py": "",
    "ultralytics/nn/__init__.py": "",
    "ultralytics/nn/tasks.py": "import torch.nn as nn\n\nclass RTDETRDetectionModel(nn.Module):\n    pass\n",
    "ultralytics/nn/extra_modules/__init__.py": "",
    "ultralytics/nn/extra_modules/block.py": "import torch.nn as nn\n\nclass DEFBlock(nn.Module):\n    pass\n",
    "ultralytics/utils/__init__.py": "import types\n\nclass IterableSimpleNamespace(types.SimpleNamespace):\n    pass\n",
}
SAVE_AS_THE_FORK = """
import sys
folder = sys.argv[1]
sys.path.insert(0, folder)
import numpy as np, torch, torch.nn as nn
from ultralytics.nn.extra_modules.block import DEFBlock
from ultralytics.nn.tasks import RTDETRDetectionModel
from ultralytics.utils import IterableSimpleNamespace

root = RTDETRDetectionModel()
for key, tensor in torch.load(folder + "/state.pt").items():
    *path, leaf = key.split(".")
    module = root
    for depth, part in enumerate(path):
        if part not in module._modules:
            module.add_module(part, DEFBlock() if depth < 2 else nn.Module())
        module = module._modules[part]
    if leaf.startswith("running_") or leaf in ("num_batches_tracked", "relative_position_index"):
        module.register_buffer(leaf, tensor)
    else:
        module.register_parameter(leaf, nn.Parameter(tensor))
root.names = {i: f"cls{i}" for i in range(10)}
root.args = IterableSimpleNamespace(imgsz=640, data="VisDrone.yaml")
torch.save({"epoch": 299, "best_fitness": np.float64(0.5), "model": root.half(), "ema": None, "optimizer": None,
            "train_args": {"imgsz": 640, "epochs": 300, "data": "VisDrone.yaml"}, "version": "8.0.201"}, folder + "/best.pt")
"""


@pytest.fixture(scope="module")
def their_checkpoint(reference_dir, tmp_path_factory):
    """(best.pt as the authors' repository saves it, their state dict) with the fixture's recipe weights."""
    folder = tmp_path_factory.mktemp("their_fork")
    for name, text in FORK.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(text)
    state = recipe_state_dict(reference_dir / "keys.json", seed=0)
    for entry in json.loads((reference_dir / "keys.json").read_text()):  # integer buffers too, as their state dict has them
        if entry["role"] == "skip":
            state[entry["name"]] = torch.zeros(entry["shape"], dtype=torch.long)
    torch.save(state, folder / "state.pt")
    subprocess.run([sys.executable, "-c", SAVE_AS_THE_FORK, str(folder)], check=True)
    return folder / "best.pt", state


def test_import_their_checkpoint(their_checkpoint):
    path, state = their_checkpoint
    model = import_original_checkpoint(path)
    ours = model.state_dict()
    assert model.names[3] == "cls3"
    torch.testing.assert_close(ours["model.6.m.0.lfa.qkv.conv.weight"], state["model.6.m.0.mixer.fn.qkv.c.weight"].half().float())
    torch.testing.assert_close(ours["model.20.m.fgm.signal.weight"], state["model.20.m.fgm.dwconv2.weight"].half().float())


def test_missing_checkpoint_is_a_clear_error(tmp_path):
    with pytest.raises(FileNotFoundError, match="nope.pt"):
        import_original_checkpoint(tmp_path / "nope.pt")


class RunsOnUnpickling:
    """What a malicious best.pt holds: unpickling it calls `function(argument)`."""

    def __init__(self, function, argument):
        self.function, self.argument = function, argument

    def __reduce__(self):
        return self.function, (self.argument,)


@pytest.mark.parametrize("legacy_format", [False, True])
@pytest.mark.parametrize("function, command", [(exec, "open({marker!r}, 'w').close()"), (os.system, "touch '{marker}'")])
def test_a_pickle_that_runs_code_is_refused_before_it_runs(tmp_path, function, command, legacy_format):
    marker, path = tmp_path / "marker", tmp_path / "best.pt"
    payload = RunsOnUnpickling(function, command.format(marker=str(marker)))
    torch.save({"model": payload, "ema": None}, path, _use_new_zipfile_serialization=not legacy_format)
    name = f"{function.__module__}.{function.__name__}"  # builtins.exec, posix.system
    with pytest.raises(DataError, match=rf"best\.pt: it references '{name}', which no checkpoint needs"):
        import_original_checkpoint(path)
    assert not marker.exists()
    torch.load(path, weights_only=False)  # the file really is malicious: an unrestricted load runs the payload
    assert marker.exists()


@pytest.mark.filterwarnings("ignore:`torch.jit.script` is deprecated:FutureWarning")
def test_a_torchscript_archive_is_refused(tmp_path):
    path = tmp_path / "best.pt"
    torch.jit.script(torch.nn.ReLU()).save(str(path))
    with pytest.raises(DataError, match="best.pt: a TorchScript archive, not a checkpoint"):
        import_original_checkpoint(path)


def test_rtdetr_loads_their_checkpoint_with_a_one_line_note(their_checkpoint, caplog):
    path, state = their_checkpoint
    LOGGER.addHandler(caplog.handler)  # Ultralytics' logger does not propagate to the root logger
    try:
        model = RTDETR(str(path))
    finally:
        LOGGER.removeHandler(caplog.handler)
    note = [message for message in caplog.messages if "authors' LRS-DETR repository" in message]
    assert note == [f"{path}: saved by the authors' LRS-DETR repository, importing its weights "
                    f"(convert it once with: python -m lrsdetr.compat convert {path} NEW.pt)"]
    assert isinstance(model.model, LRSDETRDetectionModel) and model.task == "detect" and model.model.names[3] == "cls3"
    torch.testing.assert_close(model.model.state_dict()["model.20.m.fgm.signal.weight"], state["model.20.m.fgm.dwconv2.weight"].half().float())
    result = model.predict(np.zeros((64, 64, 3), dtype=np.uint8), imgsz=64, verbose=False)[0]
    assert result.boxes.data.shape[1] == 6 and result.names[3] == "cls3"


LOAD_WITH_ULTRALYTICS = """
import sys, numpy as np
from ultralytics import RTDETR
model = RTDETR(sys.argv[1])
result = model.predict(np.zeros((64, 64, 3), dtype=np.uint8), imgsz=64, verbose=False)[0]
print(type(model.model).__name__, model.model.names[3], next(model.model.parameters()).dtype, result.boxes.data.shape[1])
"""


def test_convert_writes_a_checkpoint_ultralytics_loads(their_checkpoint, tmp_path):
    path, _ = their_checkpoint
    before = hashlib.sha256(path.read_bytes()).hexdigest()
    ours = tmp_path / "converted" / "ours.pt"
    convert = [sys.executable, "-m", "lrsdetr.compat", "convert", str(path), str(ours)]
    done = subprocess.run(convert, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert f"{ours}: LRS-DETR-B with 10 classes from {path}" in done.stdout
    loaded = subprocess.run([sys.executable, "-c", LOAD_WITH_ULTRALYTICS, str(ours)], capture_output=True, text=True, timeout=300)
    assert loaded.returncode == 0, loaded.stderr[-2000:]
    assert loaded.stdout.split()[-4:] == ["LRSDETRDetectionModel", "cls3", "torch.float32", "6"]
    again = subprocess.run(convert, capture_output=True, text=True, timeout=300)  # never overwrites
    assert again.returncode == 2 and again.stderr.strip() == f"error: {ours}: already exists; give a new path for the converted checkpoint"
    assert hashlib.sha256(path.read_bytes()).hexdigest() == before


def test_convert_refuses_a_checkpoint_not_saved_by_their_repository(tmp_path):
    path = tmp_path / "ours.pt"
    torch.save({"model": torch.nn.Linear(2, 2)}, path)
    done = subprocess.run([sys.executable, "-m", "lrsdetr.compat", "convert", str(path), str(tmp_path / "new.pt")],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 2 and "was not saved by the authors' repository" in done.stderr
    assert not (tmp_path / "new.pt").exists()
