"""Import weights of the authors' LRS-DETR implementation (their Ultralytics 8.0.201 fork).

Their state dict names our blocks' parts differently (`mixer.fn.qkv.c` for our `lfa.qkv.conv`, ...).
We map names layer by layer, by each block's registered `original_names` (nn/registry.py), so a name is only ever
rewritten inside the block it belongs to, and we refuse to load unless every learned tensor of both sides is accounted for.
Their best.pt is a pickle of whole model objects: we unpickle it without their code and without trusting it
(`_OriginalUnpickler`: tensors and plain data only, their classes as inert stand-ins, anything else refused).
"""

from __future__ import annotations

import codecs
import pickle
import pickletools
import re
import zipfile
from collections import OrderedDict
from pathlib import Path, PurePosixPath, PureWindowsPath

import numpy as np
import torch
import torch.nn as nn
from ultralytics.nn.modules import RTDETRDecoder

from ..nn import modules  # noqa: F401  (registers our blocks)
from ..nn.registry import BlockSpec, spec_of
from ..utils.errors import DataError

__all__ = ("load_original_state_dict", "import_original_checkpoint", "map_original_state_dict", "is_original_checkpoint",
           "original_to_ultralytics_checkpoint")

# Integer bookkeeping, rebuilt by our modules (BN batch counters, DPRA's relative-position index).
_BOOKKEEPING = re.compile(r"(num_batches_tracked|relative_position_index)$")


def _layer_of(key: str) -> tuple[int, str]:
    match = re.match(r"^model\.(\d+)\.(.*)$", key)
    if not match:
        raise KeyError(f"'{key}' is not a layer key of the form 'model.<index>.<name>'")
    return int(match.group(1)), match.group(2)


def _rename(inner: str, spec: BlockSpec) -> str:
    """Our name for their key `inner` of a layer, by its block's registered `original_names` (first match wins)."""
    for pattern, replacement in spec.original_names:
        new, count = re.subn(pattern, replacement, inner)
        if count:
            return new
    return inner


def map_original_state_dict(model: nn.Module, state_dict: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """Their state dict, renamed and reshaped to our model's keys (not loaded; see load_original_state_dict)."""
    layers = model.model
    mapped = {}
    for key, tensor in state_dict.items():
        if _BOOKKEEPING.search(key):
            continue
        index, inner = _layer_of(key)
        if index >= len(layers):
            raise KeyError(f"'{key}' names layer {index}, but the model has {len(layers)} layers")
        layer = layers[index]
        spec = spec_of(layer) or BlockSpec()  # an unregistered layer: names kept, nothing unused
        if spec.original_unused and re.search(spec.original_unused, inner):  # their tensor our block does not build
            continue
        if isinstance(layer, RTDETRDecoder) and inner == "denoising_class_embed.weight":
            # 8.0.201 keeps an extra padding row (index nc) that denoising never samples; 8.4 has nc rows
            tensor = tensor[: layer.denoising_class_embed.num_embeddings]
        mapped[f"model.{index}.{_rename(inner, spec)}"] = tensor
    return mapped


def load_original_state_dict(model: nn.Module, state_dict: dict[str, torch.Tensor]) -> nn.Module:
    """Load the authors' state dict into our LRS-DETR-B; raise listing every unmapped or missing key."""
    mapped = map_original_state_dict(model, state_dict)
    ours = {k: v for k, v in model.state_dict().items() if not _BOOKKEEPING.search(k)}
    unmapped = sorted(set(mapped) - set(ours))
    missing = sorted(set(ours) - set(mapped))
    wrong_shape = sorted(k for k in set(mapped) & set(ours) if mapped[k].shape != ours[k].shape)
    if unmapped or missing or wrong_shape:
        lines = [f"  their key with no place in our model: {k}" for k in unmapped]
        lines += [f"  our tensor with no source in theirs: {k}" for k in missing]
        lines += [f"  shape differs: {k} theirs {tuple(mapped[k].shape)} ours {tuple(ours[k].shape)}" for k in wrong_shape]
        raise KeyError("cannot load the original state dict:\n" + "\n".join(lines))
    model.load_state_dict(mapped, strict=False)
    return model


class _StandIn:
    """Takes the place of any class from the authors' model code while unpickling; keeps its state, runs nothing."""

    def __init__(self, *args, **kwargs):
        pass

    def __setstate__(self, state):
        self.__dict__.update(state if isinstance(state, dict) else {"state": state})


# Modules whose classes a checkpoint of the authors' model pickles (their Ultralytics fork, torch's layers):
# each such class becomes an inert `_StandIn` subclass, never the real class.
MODEL_CODE_MODULES = ("ultralytics", "torch.nn.modules")


def _allowed_globals() -> dict[str, object]:
    """The real functions and types a checkpoint needs: tensor and storage rebuilding, dtypes, containers, numpy
    scalars and arrays. Each builds data from data; none can run code named by the file."""
    allowed = {f"torch._utils.{name}": getattr(torch._utils, name)
               for name in ("_rebuild_tensor", "_rebuild_tensor_v2", "_rebuild_tensor_v3", "_rebuild_parameter",
                            "_rebuild_parameter_with_state") if hasattr(torch._utils, name)}
    allowed["torch._tensor._rebuild_from_type_v2"] = torch._tensor._rebuild_from_type_v2
    allowed.update({f"torch.{name}": value for name, value in vars(torch).items() if isinstance(value, torch.dtype)})
    allowed.update({"torch.Size": torch.Size, "torch.device": torch.device, "collections.OrderedDict": OrderedDict,
                    "_codecs.encode": codecs.encode, "numpy.dtype": np.dtype, "numpy.ndarray": np.ndarray})
    allowed.update({f"builtins.{kind.__name__}": kind for kind in (set, frozenset, bytearray, slice, complex)})
    scalar, reconstruct = np.float64(0).__reduce__()[0], np.zeros(1).__reduce__()[0]
    for module in ("numpy.core.multiarray", "numpy._core.multiarray"):  # numpy 1 and numpy 2 pickles
        allowed.update({f"{module}.scalar": scalar, f"{module}._reconstruct": reconstruct})
    for module in ("pathlib", "pathlib._local"):  # a path saved on either OS (pure paths: no file access)
        allowed.update({f"{module}.PosixPath": PurePosixPath, f"{module}.WindowsPath": PureWindowsPath})
    return allowed


_ALLOWED_GLOBALS = _allowed_globals()


class _OriginalUnpickler(pickle.Unpickler):
    """Allow-listed globals resolve to the real objects, classes of the model code to stand-ins, anything else
    (builtins.exec, os.system, ...) stops the load before it is called."""

    def find_class(self, module: str, name: str):
        module = "builtins" if module == "__builtin__" else module  # protocol 2 names it as Python 2 did
        full_name = f"{module}.{name}"
        if full_name in _ALLOWED_GLOBALS:
            return _ALLOWED_GLOBALS[full_name]
        if any(module == root or module.startswith(f"{root}.") for root in MODEL_CODE_MODULES):
            return type(name, (_StandIn,), {"__module__": f"original.{module}"})
        raise pickle.UnpicklingError(
            f"it references '{full_name}', which no checkpoint needs (only tensors, containers and model classes); "
            "refusing to unpickle it, as that could run code"
        )


class _Pickle:
    """The pickle_module torch.load uses: our restricted unpickler in place of pickle's."""

    Unpickler = _OriginalUnpickler
    load = staticmethod(lambda file, **kwargs: _OriginalUnpickler(file, **kwargs).load())


def _is_torchscript(path: Path) -> bool:
    """torch.load hands a TorchScript archive (it holds constants.pkl) to torch.jit.load, past our unpickler."""
    if not zipfile.is_zipfile(path):
        return False
    with zipfile.ZipFile(path) as archive:
        return any(name.rpartition("/")[2] == "constants.pkl" for name in archive.namelist())


def _unpickle_checkpoint(path: Path):
    """Unpickle `path` with the restricted unpickler; a refused file is one DataError naming it."""
    if _is_torchscript(path):
        raise DataError(f"{path}: a TorchScript archive, not a checkpoint (expected a best.pt saved by training)")
    try:
        return torch.load(path, map_location="cpu", pickle_module=_Pickle, weights_only=False)
    except pickle.UnpicklingError as error:
        raise DataError(f"{path}: {error}") from None


def _module_state_dict(obj, prefix: str = "") -> dict[str, torch.Tensor]:
    """Rebuild `state_dict()` from an unpickled stand-in module tree (_parameters, _buffers, _modules)."""
    state = getattr(obj, "__dict__", {})
    tensors = {}
    for store in ("_parameters", "_buffers"):
        for name, value in (state.get(store) or {}).items():
            if value is not None:
                tensors[prefix + name] = value.detach() if isinstance(value, torch.Tensor) else value
    for name, child in (state.get("_modules") or {}).items():
        if child is not None:
            tensors.update(_module_state_dict(child, f"{prefix}{name}."))
    return tensors


def import_original_checkpoint(path: str | Path, nc: int | None = None):
    """Read one of the authors' pickled `best.pt` files without their code; return our model with its weights.

    Their checkpoint pickles the whole model object (classes from their fork). We unpickle with stand-ins
    for those classes, rebuild the state dict from the module tree, and load it into LRS-DETR-B.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"checkpoint not found: {path}")
    return _model_from_checkpoint(_unpickle_checkpoint(path), path, nc)


def _model_from_checkpoint(checkpoint, path: Path, nc: int | None = None):
    """Our LRS-DETR-B holding the weights of an unpickled checkpoint of theirs."""
    from ..nn.detection_model import LRSDETRDetectionModel

    source = (checkpoint.get("ema") or checkpoint.get("model")) if isinstance(checkpoint, dict) else checkpoint
    if source is None:
        raise KeyError(f"{path}: no 'ema' or 'model' entry; is it an Ultralytics checkpoint?")
    state_dict = _module_state_dict(source)
    if not state_dict:
        raise ValueError(f"{path}: found no tensors in the pickled model")
    nc = nc or int(state_dict["model.28.enc_score_head.weight"].shape[0])
    model = LRSDETRDetectionModel("lrs-detr-b.yaml", nc=nc, verbose=False)
    load_original_state_dict(model, {k: v.float() for k, v in state_dict.items()})
    names = getattr(source, "__dict__", {}).get("names")
    if isinstance(names, dict):
        model.names = names
    return model


# Where the authors' fork keeps the blocks it adds to Ultralytics; stock Ultralytics has no such module.
ORIGINAL_MODULE = "ultralytics.nn.extra_modules"


def _pickled_globals(path: Path) -> set[str]:
    """'module.name' of each global a torch.save archive's pickle names, read off its opcodes without unpickling.

    torch.save writes pickle protocol 2, where every global is one GLOBAL opcode.
    """
    with zipfile.ZipFile(path) as archive:
        pickles = [name for name in archive.namelist() if name.rpartition("/")[2] == "data.pkl"]
        data = archive.read(pickles[0]) if pickles else b""
    return {arg.replace(" ", ".") for opcode, arg, _ in pickletools.genops(data) if opcode.name == "GLOBAL"} if data else set()


def is_original_checkpoint(path: str | Path) -> bool:
    """True for a checkpoint saved by the authors' repository: its pickle names classes of their extra_modules."""
    path = Path(path)
    if path.suffix != ".pt" or not path.is_file() or not zipfile.is_zipfile(path):
        return False
    try:
        return any(name.startswith(f"{ORIGINAL_MODULE}.") for name in _pickled_globals(path))
    except (ValueError, zipfile.BadZipFile):  # not a pickle we can read: leave the file to Ultralytics' loader
        return False


def _plain_train_args(checkpoint) -> dict:
    """Their training arguments that Ultralytics 8.4 still has, with plain values only."""
    from ultralytics.cfg import DEFAULT_CFG_DICT

    args = checkpoint.get("train_args") if isinstance(checkpoint, dict) else None
    plain = (str, int, float, bool, type(None), list, tuple)
    return {k: v for k, v in (args or {}).items() if k in DEFAULT_CFG_DICT and isinstance(v, plain)} if isinstance(args, dict) else {}


def original_to_ultralytics_checkpoint(path: str | Path) -> dict:
    """The authors' best.pt as an Ultralytics checkpoint dict of our LRS-DETR-B (FP32), which `RTDETR` loads."""
    from datetime import datetime

    from ultralytics import __version__

    path = Path(path)
    checkpoint = _unpickle_checkpoint(path)
    try:
        model = _model_from_checkpoint(checkpoint, path)
    except KeyError as error:
        problems = str(error.args[0]).splitlines()
        first = problems[1].strip() if len(problems) > 1 else f"no tensor {problems[0]}"
        raise DataError(f"{path}: not a checkpoint of the authors' LRS-DETR-B ({first})") from None
    train_args = {**_plain_train_args(checkpoint), "task": "detect"}
    return {"model": model, "ema": None, "train_args": train_args, "date": datetime.now().astimezone().isoformat(),
            "version": __version__, "imported_from": str(path)}
