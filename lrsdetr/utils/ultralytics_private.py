"""Every Ultralytics internal this package relies on, in one place, as read from Ultralytics 8.4.190.

We build on Ultralytics' public classes (models, trainers, validators, callbacks); where no public extension point
exists we rely on the names below. tests/test_ultralytics_contract.py checks each one against the installed
Ultralytics and fails naming the entry that moved, so an upgrade shows what to re-read.

`import lrsdetr` changes global state in the five ways docs/architecture.md documents, all made here or listed here:
YOLO_OFFLINE=1 unless the user set it (`offline_by_default`), `ultralytics.RTDETR` is our subclass
(`lrsdetr.register_with_ultralytics`), plot labels use a font on disk (lrsdetr/utils/fonts.py), and checkpoints
load with torch's weights_only unpickler and our allow-list unless trusted (lrsdetr/models/checkpoints.py), and
RT-DETR's deformable attention samples by one gather on the CPU (lrsdetr/nn/deformable_sampling.py).
This module imports nothing from Ultralytics at import time: `offline_by_default` must run before Ultralytics
reads YOLO_OFFLINE.
"""

from __future__ import annotations

import contextlib
import importlib
import os
from collections.abc import Iterator
from dataclasses import dataclass
from unittest import mock

ULTRALYTICS_VERSION = "8.4.190"


@dataclass(frozen=True)
class Internal:
    """A private (or re-implemented) Ultralytics name: `name` is its dotted path, `param` a constructor parameter
    of it we pass by name, `used_in` our module, `why` the reason no public way does."""

    name: str
    used_in: str
    why: str
    param: str = ""


INTERNALS = (
    Internal("ultralytics.nn.tasks.RTDETRDetectionModel.__init__", "lrsdetr/nn/detection_model.py",
             "not called for YAMLs with our blocks: it builds with Ultralytics' parse_model, which knows only its own "
             "blocks and takes no builder; we set DETECTION_MODEL_ATTRIBUTES ourselves"),
    Internal("ultralytics.nn.distill_model.DistillationModel.__init__", "lrsdetr/compress/distill.py",
             "not called: it is YOLO's (needs a Detect head and args.dis, builds YOLO projectors); we set "
             "DISTILLATION_MODEL_ATTRIBUTES, which its inherited train/fuse/forward/__getstate__/__setstate__ read"),
    Internal("ultralytics.nn.distill_model.DistillationModel._register_feature_hooks", "lrsdetr/compress/distill.py",
             "hooks feats_idx/teacher_feats_idx into _student_feats/_teacher_feats; the same call its __setstate__ "
             "makes after the EMA's and DDP's copies, so ours must hook the same way"),
    Internal("ultralytics.engine.model.Model._load", "lrsdetr/models/rtdetr.py",
             "overridden: the only place RTDETR(path) loads a .pt; ours also imports the authors' checkpoints"),
    *(Internal(f"{module}.torch_safe_load", "lrsdetr/models/checkpoints.py",
               "rebound: every checkpoint Ultralytics reads passes through it (load_checkpoint looks it up when "
               "called: RTDETR(path), the trainer's model, pretrained and resume, AutoBackend); ours loads safely "
               "unless trusted", param="safe_only")
      for module in ("ultralytics.nn.tasks", "ultralytics.nn")),
    Internal("ultralytics.nn.modules.transformer.multi_scale_deformable_attn_pytorch", "lrsdetr/nn/deformable_sampling.py",
             "rebound: MSDeformAttn.forward calls it by this module-level name; ours samples by one gather on the CPU"),
    Internal("ultralytics.nn.tasks._SafeLoad._build", "lrsdetr/models/checkpoints.py",
             "the plain-data globals its safe loader registers itself (ULTRALYTICS_SAFE_GLOBALS): our allow-list "
             "accepts them and leaves them to it"),
    Internal("ultralytics.engine.model.Model._reset_ckpt_args", "lrsdetr/models/rtdetr.py",
             "the checkpoint arguments Ultralytics keeps when it loads a .pt, for an imported authors' checkpoint"),
    Internal("ultralytics.engine.exporter.Exporter.__call__", "lrsdetr/engine/export.py",
             "names and places every file it writes after the model's pt_path attribute (else its YAML's name, in the "
             "working folder); export_model points pt_path into a scratch folder, so intermediates never replace a file"),
    Internal("ultralytics.engine.trainer.BaseTrainer.__init__", "lrsdetr/models/trainer.py",
             "LRSDETRTrainer.__init__ passes it on: Ultralytics' DDP launcher builds trainers with _callbacks=",
             param="_callbacks"),
    Internal("ultralytics.engine.trainer.BaseTrainer._setup_ddp", "lrsdetr/models/trainer.py",
             "overridden: it joins the process group on a GPU only; CPU processes join by gloo"),
    Internal("ultralytics.engine.trainer.BaseTrainer._setup_train", "lrsdetr/models/trainer.py",
             "overridden for CPU processes: it wraps the model as nn.parallel.DistributedDataParallel(device_ids="
             "[device.index]), which DDP refuses for a CPU model, so that name is CPUDistributedDataParallel meanwhile"),
    Internal("ultralytics.engine.trainer.BaseTrainer.final_eval", "lrsdetr/models/trainer.py",
             "overridden under DDP: every rank validates best.pt from its own machine's run folder, on a GPU; "
             "ours ends the group and lets rank 0 alone validate (as_one_process)"),
    *(Internal(f"{module}.RANK", "lrsdetr/utils/ultralytics_private.py",
               "read at import; as_one_process sets it to -1 while rank 0 validates best.pt alone after DDP training")
      for module in ("ultralytics.engine.validator", "ultralytics.models.yolo.detect.val")),
    Internal("ultralytics.models.rtdetr.val.RTDETRValidator.__init__", "lrsdetr/models/trainer.py",
             "get_validator hands the trainer's callbacks to the validator, as Ultralytics' own trainer does",
             param="_callbacks"),
    Internal("ultralytics.engine.exporter.build_yolo_dataset", "lrsdetr/models/rtdetr.py",
             "rebound while RTDETR.export runs: the INT8 calibration data set is built by this module-level name, with "
             "no exporter method or argument to choose another; ours writes nothing into the data set"),
    Internal("ultralytics.data.dataset.YOLODataset._load_or_scan_cache", "lrsdetr/data/dataset.py",
             "overridden: the one place get_labels hands over the label cache's path (labels/<split>.cache, in the "
             "user's data set), which we move to the lrsdetr cache folder", param="cache_path"),
    Internal("ultralytics.utils.checks.ONLINE", "lrsdetr/models/rtdetr.py",
             "computed once at import from YOLO_OFFLINE; `online_for_installs` re-reads it while Ultralytics "
             "exports to TensorRT, so it can pip-install tensorrt despite our offline default"),
    Internal("ultralytics.models.RTDETR", "lrsdetr/__init__.py",
             "reassigned (documented in docs/architecture.md): `from ultralytics import RTDETR` resolves it lazily, so the "
             "seed's scripts and SAHI get our subclass"),
    *(Internal(f"{module}.check_font", "lrsdetr/utils/fonts.py",
               "rebound: Ultralytics has no font setting, and offline its check_font tries a download per call")
      for module in ("ultralytics.utils.checks", "ultralytics.utils.plotting", "ultralytics.data.utils")),
)

# The modules whose `check_font` utils/fonts.py rebinds: every Ultralytics module that imports it by name.
CHECK_FONT_CALLERS = tuple(i.name.rsplit(".", 1)[0] for i in INTERNALS if i.name.endswith(".check_font"))

# The modules of RTDETRValidator's classes that read RANK (the process's DDP rank) by name: `as_one_process` rebinds it.
ONE_PROCESS_MODULES = tuple(i.name.rsplit(".", 1)[0] for i in INTERNALS if i.name.endswith(".RANK"))

# The modules whose `torch_safe_load` models/checkpoints.py rebinds: where it is defined and where it is re-exported.
TORCH_SAFE_LOAD_HOLDERS = tuple(i.name.rsplit(".", 1)[0] for i in INTERNALS if i.name.endswith(".torch_safe_load"))

# What RTDETRDetectionModel.__init__ (DetectionModel's, via _initialize_yolo_model) sets besides nn.Module's own.
DETECTION_MODEL_ATTRIBUTES = frozenset({"yaml", "model", "save", "names", "inplace", "stride"})

# What DistillationModel.__init__ sets besides nn.Module's own and the student's public attributes (it copies those,
# as we do); `dis` is its YOLO loss weight, unused by our loss.
DISTILLATION_MODEL_ATTRIBUTES = frozenset({
    "teacher_model", "student_model", "feats_idx", "teacher_feats_idx", "projector", "dis",
    "_teacher_feats", "_student_feats", "_teacher_hooks", "_student_hooks",
})

TENSORRT_FORMATS = frozenset({"engine", "tensorrt", "trt"})

# Whether the user chose YOLO_OFFLINE / YOLO_AUTOINSTALL before `import lrsdetr` set their defaults.
USER_SET_YOLO_OFFLINE = "YOLO_OFFLINE" in os.environ
USER_SET_YOLO_AUTOINSTALL = "YOLO_AUTOINSTALL" in os.environ


def offline_by_default() -> None:
    """YOLO_OFFLINE=1 unless the user set it: nothing here needs the network (no weight, font or telemetry
    downloads). Ultralytics reads it once, when first imported. Offline, its pip install of a missing package can
    only fail after saying "attempting AutoUpdate", so YOLO_AUTOINSTALL defaults to False then."""
    os.environ.setdefault("YOLO_OFFLINE", "1")
    if os.environ["YOLO_OFFLINE"].strip().lower() in ("1", "true", "yes", "on", "y", "t"):
        os.environ.setdefault("YOLO_AUTOINSTALL", "False")


@contextlib.contextmanager
def online_for_installs(export_format: str) -> Iterator[None]:
    """Ultralytics' online and auto-install state as if we had not set YOLO_OFFLINE (nor YOLO_AUTOINSTALL), for a
    TensorRT export: Ultralytics then pip-installs a missing `tensorrt`, which our offline default would refuse.
    A YOLO_OFFLINE the user set, and every other format, keep the state as it is."""
    if export_format.lower() not in TENSORRT_FORMATS or USER_SET_YOLO_OFFLINE:
        yield
        return
    from ultralytics.utils import checks, is_online

    with mock.patch.dict(os.environ, {"YOLO_OFFLINE": "0"}):
        online = is_online()
    autoinstall = checks.AUTOINSTALL if USER_SET_YOLO_AUTOINSTALL else True
    with mock.patch.object(checks, "ONLINE", online), mock.patch.object(checks, "AUTOINSTALL", autoinstall):
        yield


@contextlib.contextmanager
def as_one_process() -> Iterator[None]:
    """Ultralytics' validator as a process outside DDP sees itself (RANK -1: the device from `device`, nothing
    gathered from other ranks), for rank 0's validation of best.pt once the DDP group has ended."""
    with contextlib.ExitStack() as stack:
        for module in ONE_PROCESS_MODULES:
            stack.enter_context(mock.patch.object(importlib.import_module(module), "RANK", -1))
        yield
