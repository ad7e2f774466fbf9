"""Every Ultralytics internal this package relies on, in one place, as read from Ultralytics 8.4.190.

We build on Ultralytics' public classes (models, trainers, validators, callbacks); where no public extension point
exists we rely on the names below. tests/test_ultralytics_contract.py checks each one against the installed
Ultralytics and fails naming the entry that moved, so an upgrade shows what to re-read.

`import lrsdetr` changes global state in the three ways the README documents, all made here or listed here:
YOLO_OFFLINE=1 unless the user set it (`offline_by_default`), `ultralytics.RTDETR` is our subclass
(`lrsdetr.register_with_ultralytics`), and plot labels use a font on disk (lrsdetr/utils/fonts.py).
This module imports nothing from Ultralytics at import time: `offline_by_default` must run before Ultralytics
reads YOLO_OFFLINE.
"""

from __future__ import annotations

import contextlib
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
    Internal("ultralytics.engine.model.Model._reset_ckpt_args", "lrsdetr/models/rtdetr.py",
             "the checkpoint arguments Ultralytics keeps when it loads a .pt, for an imported authors' checkpoint"),
    Internal("ultralytics.engine.exporter.Exporter.__call__", "lrsdetr/engine/export.py",
             "names and places every file it writes after the model's pt_path attribute (else its YAML's name, in the "
             "working folder); export_model points pt_path into a scratch folder, so intermediates never replace a file"),
    Internal("ultralytics.engine.trainer.BaseTrainer.__init__", "lrsdetr/models/trainer.py",
             "LRSDETRTrainer.__init__ passes it on: Ultralytics' DDP launcher builds trainers with _callbacks=",
             param="_callbacks"),
    Internal("ultralytics.models.rtdetr.val.RTDETRValidator.__init__", "lrsdetr/models/trainer.py",
             "get_validator hands the trainer's callbacks to the validator, as Ultralytics' own trainer does",
             param="_callbacks"),
    Internal("ultralytics.utils.checks.ONLINE", "lrsdetr/models/rtdetr.py",
             "computed once at import from YOLO_OFFLINE; `online_for_installs` re-reads it while Ultralytics "
             "exports to TensorRT, so it can pip-install tensorrt despite our offline default"),
    Internal("ultralytics.models.RTDETR", "lrsdetr/__init__.py",
             "reassigned (documented in the README): `from ultralytics import RTDETR` resolves it lazily, so the "
             "seed's scripts and SAHI get our subclass"),
    *(Internal(f"{module}.check_font", "lrsdetr/utils/fonts.py",
               "rebound: Ultralytics has no font setting, and offline its check_font tries a download per call")
      for module in ("ultralytics.utils.checks", "ultralytics.utils.plotting", "ultralytics.data.utils")),
)

# The modules whose `check_font` utils/fonts.py rebinds: every Ultralytics module that imports it by name.
CHECK_FONT_CALLERS = tuple(i.name.rsplit(".", 1)[0] for i in INTERNALS if i.name.endswith(".check_font"))

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
