"""The Ultralytics internals we rely on (lrsdetr/utils/ultralytics_private.py) are still there and still mean
what we read in 8.4.190; each failure names the entry, where we use it and what changed."""

import ast
import importlib
import inspect
import os
import socket
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest
import torch.nn as nn
import ultralytics
import ultralytics.engine.model
import ultralytics.nn.tasks
from test_prune import IMGSZ, small_cfg
from tiny_data import write_tiny_dataset
from ultralytics.cfg import get_cfg
from ultralytics.data.utils import check_det_dataset, verify_image_label
from ultralytics.models.rtdetr.train import RTDETRTrainer, RTDETRValidator
from ultralytics.nn.distill_model import DistillationModel
from ultralytics.nn.tasks import DetectionModel, RTDETRDetectionModel
from ultralytics.utils import checks

import lrsdetr
from lrsdetr.compress.distill import DistillationSettings, LRSDETRDistillationModel
from lrsdetr.data import dataset as our_dataset
from lrsdetr.models import checkpoints
from lrsdetr.nn import deformable_sampling
from lrsdetr.utils import ultralytics_private as private

REPO = Path(__file__).resolve().parents[1]
STOCK_BACKBONE = [[-1, 1, "Conv", [16, 3, 2]], [-1, 1, "Conv", [16, 3, 2]], [-1, 1, "Conv", [16, 3, 2]], [-1, 1, "Conv", [16, 3, 2]]]
STOCK_RTDETR = {"nc": 3, "backbone": STOCK_BACKBONE, "head": [[[1, 2, 3], 1, "RTDETRDecoder", [3, 32, 10, 2, 2, 1]]]}
STOCK_YOLO = {"nc": 3, "backbone": STOCK_BACKBONE, "head": [[[1, 2, 3], 1, "Detect", [3]]]}


def resolve(dotted: str):
    """The object a dotted path names: the longest importable module prefix, then attributes."""
    parts = dotted.split(".")
    for split in range(len(parts), 0, -1):
        try:
            target = importlib.import_module(".".join(parts[:split]))
        except ImportError:
            continue
        for name in parts[split:]:
            target = getattr(target, name)
        return target
    raise ImportError(dotted)


def own_attributes(module: nn.Module, also_not=()) -> set:
    """Instance attributes (submodules included) beyond those every nn.Module has (and `also_not`)."""
    names = set(vars(module)) | set(module._modules) | set(module._parameters) | set(module._buffers)
    return names - set(vars(nn.Module())) - set(also_not)


def moved(what: str, read: set, installed: set, where: str) -> str:
    return (f"{what} sets other attributes in Ultralytics {ultralytics.__version__} than in "
            f"{private.ULTRALYTICS_VERSION}: new {sorted(installed - read)}, gone {sorted(read - installed)}; "
            f"update {where} and lrsdetr/utils/ultralytics_private.py")


def test_the_internals_were_read_from_the_installed_version():
    assert ultralytics.__version__ == private.ULTRALYTICS_VERSION, (
        f"lrsdetr/utils/ultralytics_private.py was read from Ultralytics {private.ULTRALYTICS_VERSION}, installed is "
        f"{ultralytics.__version__}: check each entry (this file's other tests) and update its version")


@pytest.mark.parametrize("internal", private.INTERNALS, ids=lambda i: i.name + (f"({i.param})" if i.param else ""))
def test_each_listed_internal_still_exists(internal):
    try:
        target = resolve(internal.name)
    except (ImportError, AttributeError):
        pytest.fail(f"Ultralytics {ultralytics.__version__} has no {internal.name} (read from "
                    f"{private.ULTRALYTICS_VERSION}); {internal.used_in} relies on it: {internal.why}")
    if internal.param:
        assert internal.param in inspect.signature(target).parameters, (
            f"{internal.name} takes no {internal.param!r} any more; {internal.used_in} passes it: {internal.why}")


def test_our_detection_model_sets_what_ultralytics_constructor_sets():
    installed = own_attributes(RTDETRDetectionModel(STOCK_RTDETR, verbose=False))
    assert installed == private.DETECTION_MODEL_ATTRIBUTES, moved(
        "RTDETRDetectionModel.__init__", private.DETECTION_MODEL_ATTRIBUTES, installed, "LRSDETRDetectionModel.__init__")
    ours = own_attributes(lrsdetr.build_model(small_cfg()))
    assert ours == installed, f"LRSDETRDetectionModel sets {sorted(ours)}, Ultralytics' constructor {sorted(installed)}"


def test_our_distillation_model_sets_what_ultralytics_constructor_sets():
    student, teacher = DetectionModel(STOCK_YOLO, verbose=False), DetectionModel(STOCK_YOLO, verbose=False)
    student.args = get_cfg(overrides={"imgsz": 64})
    copied = {name for name in vars(student) if not name.startswith("_")}
    installed = own_attributes(DistillationModel(teacher, student), also_not=copied)
    assert installed == private.DISTILLATION_MODEL_ATTRIBUTES, moved(
        "DistillationModel.__init__", private.DISTILLATION_MODEL_ATTRIBUTES, installed, "LRSDETRDistillationModel.__init__")
    student, teacher = lrsdetr.build_model(small_cfg()), lrsdetr.build_model(small_cfg())
    ours = LRSDETRDistillationModel(student, teacher, DistillationSettings(), IMGSZ)
    missing = {name for name in installed - {"dis"} if not hasattr(ours, name)}  # dis: YOLO's loss weight
    assert not missing, f"LRSDETRDistillationModel.__init__ does not set {sorted(missing)}, which Ultralytics' sets"
    assert all(not p.requires_grad for p in ours.teacher_model.parameters()) and not ours.teacher_model.training


def dataset_settings(dataset) -> dict:
    """What a dataset was built with and holds: its plain attributes, images, label count and transforms."""
    plain = {name: value for name, value in vars(dataset).items() if isinstance(value, (str, int, float, bool, type(None)))}
    return {**plain, "im_files": dataset.im_files, "labels": len(dataset.labels),
            "transforms": [type(t).__name__ for t in dataset.transforms.transforms]}


def test_our_datasets_are_built_as_ultralytics_builds_its_own(tmp_path, monkeypatch):
    """data/dataset.py's rtdetr_dataset repeats the arguments RTDETRTrainer's and RTDETRValidator's build_dataset
    pass; it must build the same data set, only of our class."""
    monkeypatch.setenv("LRSDETR_CACHE_DIR", str(tmp_path / "cache"))
    data = check_det_dataset(str(write_tiny_dataset(tmp_path / "data", n_train=6, n_val=2, size=64)))
    args = get_cfg(overrides={"imgsz": 64, "fraction": 0.5, "classes": [0, 2]})
    owner = SimpleNamespace(args=args, data=data)
    for mode, build in (("train", RTDETRTrainer.build_dataset), ("val", RTDETRTrainer.build_dataset), ("val", RTDETRValidator.build_dataset)):
        ours = our_dataset.rtdetr_dataset(data[mode], args, data, mode, batch=2)
        theirs = build(owner, data[mode], mode, 2)
        assert type(ours) is our_dataset.LRSDETRDataset and type(theirs) is our_dataset.RTDETRDataset
        assert dataset_settings(ours) == dataset_settings(theirs), f"{build.__qualname__}({mode!r}) builds another data set"


def test_ultralytics_still_names_its_in_place_restore_as_we_read_it(tmp_path):
    """data/dataset.py drops check_image's message about the throwaway copy it re-encodes, recognised by its text."""
    data = write_tiny_dataset(tmp_path, n_train=1, n_val=0, size=64).parent
    image = data / "images" / "train" / "0000.jpg"
    image.write_bytes(image.read_bytes() + b"\x00" * 16)
    message = verify_image_label((str(image), str(data / "labels" / "train" / "0000.txt"), "", False, 3, 0, 0, False))[-1]
    assert message.endswith(our_dataset.ULTRALYTICS_RESAVED), message


def test_every_ultralytics_module_that_imports_check_font_is_rebound():
    """utils/fonts.py rebinds check_font where it is imported by name; a new importer would escape it."""
    root = Path(ultralytics.__file__).parent
    importers = set()
    for path in root.rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        if "check_font" not in text:
            continue
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, ast.ImportFrom) and any(alias.name == "check_font" for alias in node.names):
                importers.add(".".join(path.relative_to(root.parent).with_suffix("").parts))
    importers.add("ultralytics.utils.checks")  # where it is defined, and called by its own name
    assert importers == set(private.CHECK_FONT_CALLERS), (
        f"Ultralytics {ultralytics.__version__} calls check_font by name in {sorted(importers)}, "
        f"{private.ULTRALYTICS_VERSION} in {sorted(private.CHECK_FONT_CALLERS)}: update ultralytics_private.py")
    for name in private.CHECK_FONT_CALLERS:
        assert importlib.import_module(name).check_font is lrsdetr.utils.fonts.check_font


def test_every_module_of_the_validator_that_reads_rank_is_rebound():
    """After DDP training rank 0 validates best.pt alone under as_one_process; a validator module whose RANK it
    missed would wait for the ranks that have left, or look for a GPU."""
    readers = {cls.__module__ for cls in RTDETRValidator.__mro__ if hasattr(sys.modules[cls.__module__], "RANK")}
    assert readers == set(private.ONE_PROCESS_MODULES), (
        f"Ultralytics {ultralytics.__version__}'s RTDETRValidator reads RANK in {sorted(readers)}, "
        f"{private.ULTRALYTICS_VERSION}'s in {sorted(private.ONE_PROCESS_MODULES)}: update ultralytics_private.py")


def test_every_checkpoint_ultralytics_loads_passes_through_our_torch_safe_load():
    """models/checkpoints.py rebinds torch_safe_load where Ultralytics binds the name; a new module importing it by
    name, or a load_checkpoint that no longer looked it up, would load checkpoints past it, unrestricted."""
    root = Path(ultralytics.__file__).parent
    holders = {"ultralytics.nn.tasks"}  # where it is defined
    for path in root.rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        if "torch_safe_load" in text and any(isinstance(node, ast.ImportFrom) and any(a.name == "torch_safe_load" for a in node.names)
                                             for node in ast.walk(ast.parse(text))):
            holders.add(".".join(path.relative_to(root.parent).with_suffix("").parts).removesuffix(".__init__"))
    assert holders == set(private.TORCH_SAFE_LOAD_HOLDERS), (
        f"Ultralytics {ultralytics.__version__} binds torch_safe_load in {sorted(holders)}, {private.ULTRALYTICS_VERSION} "
        f"in {sorted(private.TORCH_SAFE_LOAD_HOLDERS)}: update ultralytics_private.py")
    for name in holders:
        assert importlib.import_module(name).torch_safe_load is checkpoints.torch_safe_load
    assert "torch_safe_load" in ultralytics.nn.tasks.load_checkpoint.__code__.co_names


def test_deformable_attention_calls_our_sampling_by_the_name_we_rebind():
    """nn/deformable_sampling.py rebinds the name MSDeformAttn.forward looks up; a forward that called the sampling
    another way, or another module importing it by name, would run Ultralytics' grid_sample unseen."""
    from ultralytics.nn.modules import transformer

    root = Path(ultralytics.__file__).parent
    importers = {".".join(path.relative_to(root.parent).with_suffix("").parts) for path in root.rglob("*.py")
                 if any(isinstance(node, ast.ImportFrom) and any(a.name == "multi_scale_deformable_attn_pytorch" for a in node.names)
                        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))))}
    assert importers == {"ultralytics.nn.modules.transformer"}, f"imported by name in {sorted(importers)}: rebind there too"
    assert transformer.multi_scale_deformable_attn_pytorch is deformable_sampling.multi_scale_deformable_sampling
    assert "multi_scale_deformable_attn_pytorch" in transformer.MSDeformAttn.forward.__code__.co_names


def test_the_globals_we_leave_to_ultralytics_safe_loader_are_still_its():
    """Our allow-list accepts these and lets Ultralytics' safe loader register them (models/checkpoints.py)."""
    gone = checkpoints.ULTRALYTICS_SAFE_GLOBALS - set(ultralytics.nn.tasks._SafeLoad._build())
    assert not gone, (f"Ultralytics {ultralytics.__version__}'s safe loader no longer rebuilds {sorted(gone)}: "
                      "update ULTRALYTICS_SAFE_GLOBALS in lrsdetr/models/checkpoints.py")


def test_import_changes_only_the_documented_global_state():
    """In a fresh process without YOLO_OFFLINE: `import lrsdetr` adds YOLO_OFFLINE=1 to the environment and
    nothing else, and `from ultralytics import RTDETR` then gives our class."""
    code = ("import os; import ultralytics; before = dict(os.environ); import lrsdetr; "
            "changed = {k: v for k, v in os.environ.items() if before.get(k) != v}; "
            "from ultralytics import RTDETR; print(changed, RTDETR is lrsdetr.RTDETR, set(before) - set(os.environ))")
    env = {k: v for k, v in os.environ.items() if k != "YOLO_OFFLINE"}
    env["PYTHONPATH"] = str(REPO)
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120, cwd=REPO)
    assert out.stdout.strip().splitlines()[-1] == "{'YOLO_OFFLINE': '1'} True set()", out.stderr[-2000:]


@pytest.mark.parametrize(("export_format", "user_set", "online_inside"), [
    ("engine", False, True), ("trt", False, True), ("onnx", False, False), ("engine", True, False),
])
def test_tensorrt_export_may_go_online_unless_the_user_said_offline(monkeypatch, export_format, user_set, online_inside):
    """Our YOLO_OFFLINE default must not stop Ultralytics installing tensorrt for a TensorRT export."""
    monkeypatch.setattr(private, "USER_SET_YOLO_OFFLINE", user_set)
    monkeypatch.setattr(socket, "getaddrinfo", lambda *args, **kwargs: [])  # DNS answers: as if online
    assert checks.ONLINE is False
    with private.online_for_installs(export_format):
        assert checks.ONLINE is online_inside
    assert checks.ONLINE is False and os.environ["YOLO_OFFLINE"] == "1"


@pytest.mark.parametrize(("export_format", "online_inside"), [("engine", True), ("onnx", False)])
def test_rtdetr_export_runs_ultralytics_export_in_that_scope(monkeypatch, export_format, online_inside):
    """RTDETR.export (export.py's path too) wraps Ultralytics' export: its exporter sees ONLINE as the scope sets it."""
    seen = []
    monkeypatch.setattr(ultralytics.engine.model.Model, "export", lambda self, **kwargs: seen.append(checks.ONLINE))
    monkeypatch.setattr(private, "USER_SET_YOLO_OFFLINE", False)
    monkeypatch.setattr(socket, "getaddrinfo", lambda *args, **kwargs: [])
    lrsdetr.RTDETR.__new__(lrsdetr.RTDETR).export(format=export_format)
    assert seen == [online_inside] and checks.ONLINE is False
