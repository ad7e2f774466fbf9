"""Checks of what a user passes to the root scripts, before Ultralytics sees it.

Ultralytics reports a missing dataset or checkpoint with a traceback from deep inside its loaders, and
validates a 10-class checkpoint on a 3-class data.yaml without a word. Each check here raises a `DataError`
of one line that names the argument, the file and what was expected; `run_script` prints it and exits 2.
"""

from __future__ import annotations

import _compat_pickle
import importlib.util
import math
import pickletools
import zipfile
from pathlib import Path

from ultralytics.data.utils import check_det_dataset
from ultralytics.utils.checks import check_yaml

from ..cfg import resolve_model_cfg
from ..data.files import list_images
from ..data.yolo import label_folder
from ..models.checkpoints import refuse_unsafe
from ..models.outputs import TRAINED_WEIGHTS as CHECKPOINT_EXAMPLE
from ..utils.errors import DataError

DATASET_SPLITS = ("train", "val", "test", "minival")  # the image entries a data.yaml may hold
MODEL_CONFIG_SUFFIXES = ("", ".yaml", ".yml")  # '' for a packaged config's bare name (lrs-detr-b)
PICKLE_START = b"\x80"  # torch.save's legacy format is a pickle stream; its current one a zip archive


def require_checkpoint(weights: str, argument: str = "--weights") -> str:
    """`weights` as an existing checkpoint file, checked by its format, and refused if it names what safe loading
    does not rebuild (models/checkpoints.py), before Ultralytics' loader sees it or a run folder is made."""
    if not weights or not Path(weights).is_file():
        raise DataError(f"{argument} {weights or repr(weights)}: no such file (expected a checkpoint such as {CHECKPOINT_EXAMPLE})")
    with open(weights, "rb") as file:
        start = file.read(1)
    if not (zipfile.is_zipfile(weights) or start == PICKLE_START):
        raise DataError(
            f"{argument} {weights}: not a PyTorch checkpoint, or an empty or truncated one (expected the .pt file that torch.save "
            f"writes when training, such as {CHECKPOINT_EXAMPLE})"
        )
    missing = [module for module in sorted(pickled_modules(weights)) if not module.startswith("ultralytics.") and not _importable(module)]
    if missing:
        raise DataError(f"{argument} {weights}: the checkpoint needs the Python module '{missing[0]}', which is not installed here (expected a checkpoint saved by lrsdetr or Ultralytics)")
    refuse_unsafe(weights, argument)
    return str(weights)


def pickled_modules(weights: str | Path) -> set[str]:
    """The modules whose classes a torch.save zip archive pickles (its GLOBAL opcodes: torch.save's protocol 2).

    Read without unpickling, so a checkpoint from another code base is named before Ultralytics' loader tries to
    pip-install the missing module. `ultralytics.*` modules are left to that loader (and lrsdetr.compat, for the
    authors' fork), as are files this cannot read.
    """
    try:
        with zipfile.ZipFile(weights) as archive:
            data = next((archive.read(name) for name in archive.namelist() if name.endswith("data.pkl")), b"")
        globals_ = [arg for opcode, arg, _ in pickletools.genops(data) if opcode.name == "GLOBAL"]
    except Exception:  # noqa: BLE001 - any unreadable archive is the loader's to report
        return set()
    modules = {str(arg).split(" ")[0] for arg in globals_}
    return {_compat_pickle.IMPORT_MAPPING.get(module, module) for module in modules}  # protocol 2 writes __builtin__


def _importable(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):
        return False


def require_model(model: str, argument: str = "--model") -> str:
    """A checkpoint file, a model YAML, or the name of a packaged or Ultralytics config; returned resolved.

    An export (.onnx, .engine, an OpenVINO folder, ...) holds a traced graph, not the PyTorch model that training,
    exporting or timing rebuilds: refused by name before Ultralytics' suffix assertion.
    """
    if str(model).endswith(".pt"):
        return require_checkpoint(model, argument)
    if Path(model).is_dir() or Path(model).suffix.lower() not in MODEL_CONFIG_SUFFIXES:
        raise DataError(
            f"{argument} {model}: not a PyTorch model (an export such as .onnx is a traced graph, which cannot be trained, "
            f"exported or timed again); expected a .pt checkpoint such as {CHECKPOINT_EXAMPLE} or a model YAML such as lrs-detr-b.yaml"
        )
    resolved = resolve_model_cfg(model)
    try:
        return str(check_yaml(resolved))
    except FileNotFoundError:
        raise DataError(f"{argument} {model}: no such model config (expected lrs-detr-b.yaml, rtdetr-r18.yaml, a YAML path or a .pt checkpoint)") from None


def require_data(data: str, splits: tuple[str, ...] = ("train", "val"), argument: str = "--data") -> dict:
    """The dataset dict Ultralytics will use (paths resolved), after checking that every split's images exist."""
    if not data or not Path(data).is_file():
        raise DataError(f"{argument} {data or repr(data)}: no such file (expected a data.yaml with path, train, val and names)")
    try:
        info = check_det_dataset(str(data), autodownload=False, split=splits[-1])
    except (FileNotFoundError, SyntaxError, TypeError, ValueError) as error:  # ValueError: a YAML syntax error
        # Ultralytics names the missing key on its message's second line ("either 'names' or 'nc' are required")
        message = " ".join(line.strip() for line in str(error).replace(" ❌", "").splitlines() if line.strip() and not line.startswith("Verify YAML"))
        raise DataError(f"{argument} {data}: {message}") from None
    for split in splits:
        folders = info.get(split)
        if not folders:
            raise DataError(f"{argument} {data}: no '{split}:' entry (expected a folder of {split} images, relative to 'path')")
        for folder in folders if isinstance(folders, list) else [folders]:
            if not Path(folder).exists():
                raise DataError(f"{argument} {data}: {split} images not found at {folder} (expected images/{split} with labels/{split} beside it)")
    return info


def dataset_inputs(data: str, splits: tuple[str, ...] = ("train", "val"), argument: str = "--data") -> list[Path]:
    """The data.yaml, and the image and label folders of every split it names (those `splits` must exist): what
    a command that reads the data set must never write into. A split given as a list file adds the folders of
    the images it lists."""
    info = require_data(data, splits, argument)
    require_label_classes(info, data, splits, argument)
    paths = [Path(data)]
    for split in DATASET_SPLITS:
        for entry in _as_list(info.get(split)):
            path = Path(entry)
            folders = {image.parent for image in _listed_images(path)} if path.is_file() else {path}
            paths += [path, *folders, *(label_folder(folder) for folder in folders)]
    return list(dict.fromkeys(paths))


def require_label_classes(info: dict, data: str, splits: tuple[str, ...], argument: str = "--data") -> None:
    """Every label of `splits` names one of the data.yaml's classes: Ultralytics drops an image holding another
    class as 'corrupt', so a data.yaml with too few names silently trains (or scores) on part of the data."""
    for split in splits:
        for entry in _as_list(info.get(split)):
            folder = label_folder(Path(entry))
            for path in sorted(folder.glob("*.txt")) if Path(entry).is_dir() and folder.is_dir() else []:
                for number, line in enumerate(path.read_text(encoding="utf-8-sig", errors="replace").splitlines(), start=1):
                    word = line.split(maxsplit=1)[0] if line.strip() else ""
                    if word.replace(".", "", 1).isdigit() and float(word) >= info["nc"]:
                        raise DataError(f"{argument} {data} has nc={info['nc']} (classes 0..{info['nc'] - 1}) but {path}:{number} "
                                        f"has class {word}; expected a name for every class the labels use")


def _as_list(entry: str | list | None) -> list:
    return entry if isinstance(entry, list) else [entry] if entry else []


def split_images(entry: str | list) -> list[Path]:
    """The image files of a data.yaml split as check_det_dataset resolves it: a folder's images, a list file's, or
    those of each entry of a list."""
    return [image for item in _as_list(entry) for image in (_listed_images(Path(item)) if Path(item).is_file() else list_images(Path(item)))]


def _listed_images(list_file: Path) -> list[Path]:
    """The images a split's list file names, as Ultralytics reads it: one path a line, `./` meaning the file's folder."""
    lines = [line.strip() for line in list_file.read_text(encoding="utf-8-sig", errors="replace").splitlines() if line.strip()]
    return [list_file.parent / line[2:] if line.startswith("./") else Path(line) for line in lines]


def require_same_classes(model_names: dict, data_info: dict, weights: str, data: str) -> None:
    """A checkpoint can only be scored on data with the classes it was trained on."""
    if len(model_names) != data_info["nc"]:
        raise DataError(
            f"--weights {weights} predicts nc={len(model_names)} classes but --data {data} has nc={data_info['nc']}: "
            "evaluate with the data.yaml the model was trained on"
        )


def require_number(name: str, value: object, minimum: float, *, above: bool = False, whole: bool = False) -> None:
    """`value` as a finite number (a whole one if `whole`) of at least `minimum`, or above it if `above`; otherwise a
    DataError naming the setting `name`. Checks settings that would fail, or silently misbehave, deep in a run."""
    number = isinstance(value, int if whole else (int, float)) and not isinstance(value, bool) and math.isfinite(value)
    if not number or not (value > minimum if above else value >= minimum):
        bound = f"above {minimum}" if above else f"of at least {minimum}"
        raise DataError(f"{name} must be a {'whole' if whole else 'finite'} number {bound}, got {value!r}")
