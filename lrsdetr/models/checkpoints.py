"""Loading a checkpoint never runs code it holds, unless the user trusts the file.

A `.pt` file is a pickle, and unpickling calls whatever function the file names (`os.system`, `exec`). Ultralytics
unpickles with `weights_only=False` unless ULTRALYTICS_SAFE_LOAD=1, and its safe mode refuses our classes. Once
`import lrsdetr` ran, every checkpoint Ultralytics reads (`RTDETR(path)`, the trainer's model, `pretrained` and
resume, a teacher, AutoBackend: all pass through its `torch_safe_load`, which `install` rebinds) loads with torch's
weights_only unpickler, which rebuilds tensors, plain data and the classes on an allow-list and refuses anything
else before calling it. The allow-list is the layer classes (nn.Module subclasses) of torch, Ultralytics, this
package and the module of every block in our registry (nn/registry.py), with the few plain-data types Ultralytics'
own safe loader rebuilds: everything in the checkpoints this package writes (training, pruning, sparse learning,
distillation, compat convert) and in stock RT-DETR ones.

A file from elsewhere that names anything else is refused in one line, with the ways to trust it: the commands'
`--trust_checkpoint True`, LRSDETR_TRUST_CHECKPOINTS=1, or `with lrsdetr.trusted_checkpoints():` in Python. The
authors' checkpoints never need trust: compat/original.py reads them with a restricted unpickler of its own.
"""

from __future__ import annotations

import importlib
import pickle
import zipfile
from pathlib import Path

import torch
import torch.nn as nn
import ultralytics.nn.tasks

from ..compat.original import is_original_checkpoint
from ..nn.registry import BLOCKS
from ..utils.errors import DataError
from ..utils.trust import TRUST_VARIABLE, checkpoints_trusted, trusted_checkpoints
from ..utils.ultralytics_private import TORCH_SAFE_LOAD_HOLDERS

__all__ = ("TRUST_VARIABLE", "checkpoints_trusted", "trusted_checkpoints", "refuse_unsafe", "torch_safe_load", "install")

TRUST_HINT = (f"if you trust the file, pass --trust_checkpoint True, set {TRUST_VARIABLE}=1 or load it inside "
              "`with lrsdetr.trusted_checkpoints():`")

# Modules (with those under them) whose layer classes a checkpoint may hold: torch's layers, Ultralytics' blocks and
# models, RT-DETR's loss and its matcher (a model that has computed a loss keeps them as `criterion`, and
# `RTDETR.save()` pickles them), and this package (our blocks and model, the pruning twins a sparse-learning run
# trains and saves).
LAYER_MODULES = ("torch.nn.modules", "ultralytics.nn.modules", "ultralytics.nn.tasks", "ultralytics.models.utils",
                 "ultralytics.utils.loss", __name__.partition(".")[0])

# What Ultralytics' safe loader (torch_safe_load with safe_only=True) registers itself: the plain data its checkpoints
# hold besides tensors (numpy scalars, the argument namespace, paths) and a getattr that returns only a layer's
# forward methods. tests/test_ultralytics_contract.py checks that it still does.
ULTRALYTICS_SAFE_GLOBALS = frozenset({
    "numpy.dtype", "numpy.core.multiarray.scalar", "numpy._core.multiarray.scalar",
    "ultralytics.utils.IterableSimpleNamespace", "ultralytics.yolo.utils.IterableSimpleNamespace",
    "pathlib.PosixPath", "pathlib.WindowsPath", "pathlib._local.PosixPath", "pathlib._local.WindowsPath",
    "builtins.getattr",
})

ULTRALYTICS_TORCH_SAFE_LOAD = ultralytics.nn.tasks.torch_safe_load


def _in_layer_module(module: str) -> bool:
    """True for a module of LAYER_MODULES, or of a block in our registry (a block registered from elsewhere)."""
    roots = {*LAYER_MODULES, *(block.__module__ for block in BLOCKS)}
    return any(module == root or module.startswith(f"{root}.") for root in roots)


def _layer_class(name: str) -> type[nn.Module] | None:
    """The layer class `name` ('module.Class') stands for, if it is one defined in a layer module."""
    module, _, attribute = name.rpartition(".")
    if not _in_layer_module(module):
        return None
    try:
        found = getattr(importlib.import_module(module), attribute, None)
    except ImportError:
        return None
    is_layer = isinstance(found, type) and issubclass(found, nn.Module) and found.__module__ == module
    return found if is_layer else None


def _pickled_globals(path: Path) -> list[str] | None:
    """The globals `path`'s pickle names beyond torch's own allow-list (and those already registered), read without
    unpickling; None for a file that is not torch.save's zip archive (torch < 1.6 format, or not a checkpoint):
    torch's weights_only unpickler then refuses what it cannot rebuild, when it loads."""
    if not zipfile.is_zipfile(path):
        return None
    try:
        return torch.serialization.get_unsafe_globals_in_checkpoint(path)
    except (ValueError, RuntimeError, zipfile.BadZipFile):  # an archive torch.save did not write: the loader says so
        return None


def _refusal(path: str | Path, reason: str, argument: str = "") -> DataError:
    subject = f"{argument} {path}" if argument else str(path)
    return DataError(f"{subject}: not loaded, as unpickling it could run code: {reason}; {TRUST_HINT}")


def _allow(path: str | Path, argument: str = "") -> None:
    """Register the layer classes `path` names with torch's weights_only unpickler; refuse a file naming anything
    outside the allow-list."""
    names = _pickled_globals(Path(path))
    if names is None:
        return
    layers = {name: _layer_class(name) for name in names if name not in ULTRALYTICS_SAFE_GLOBALS}
    refused = sorted(name for name, layer in layers.items() if layer is None)
    if refused:
        raise _refusal(path, f"it names {', '.join(refused)}, which safe loading does not rebuild (it rebuilds "
                             "tensors, plain data and the layers of torch, Ultralytics and lrsdetr)", argument)
    torch.serialization.add_safe_globals(list(layers.values()))


def refuse_unsafe(path: str | Path, argument: str = "") -> None:
    """Raise the one-line refusal (naming `argument` and `path`) if safe loading would refuse the checkpoint, before
    anything is written (the layer classes it names are registered for its load); nothing when checkpoints are
    trusted or the file is one of the authors' (compat reads those without running code)."""
    if not checkpoints_trusted() and not is_original_checkpoint(path):
        _allow(path, argument)


def _torch_reason(error: BaseException) -> str:
    """The line of torch's weights_only error that says what it refused."""
    detail = str(error).rpartition("WeightsUnpickler error: ")[2].strip()
    return detail.splitlines()[0].split(". ")[0] if detail else type(error).__name__


def torch_safe_load(weight, safe_only: bool | None = None):
    """Ultralytics' `torch_safe_load`, safe by default: with `safe_only` None it loads with weights_only and our
    allow-list unless checkpoints are trusted. A refusal is one DataError naming the file, what it names and how to
    trust it. Returns (checkpoint, file), as Ultralytics' does."""
    safe = not checkpoints_trusted() if safe_only is None else safe_only
    if safe and Path(weight).is_file():
        _allow(weight)
    try:
        return ULTRALYTICS_TORCH_SAFE_LOAD(weight, safe_only=safe)
    except TypeError as error:  # Ultralytics' message for a refused load; torch's reason is its cause
        if safe and isinstance(error.__cause__, pickle.UnpicklingError):
            raise _refusal(weight, _torch_reason(error.__cause__)) from None
        raise


def install() -> None:
    """Make every checkpoint load of Ultralytics go through `torch_safe_load` (idempotent): `load_checkpoint`, which
    all its loaders call, looks the function up in its module when it runs; `ultralytics.nn` re-exports it."""
    for module in TORCH_SAFE_LOAD_HOLDERS:
        importlib.import_module(module).torch_safe_load = torch_safe_load
