"""Distillation of a pruned LRS-DETR (student) from the unpruned one (teacher): MLSSD and feature distillation
(paper section 3.4), trained by Ultralytics' engine.

Ultralytics 8.4 trains distillation through a wrapper model (`ultralytics.nn.distill_model.DistillationModel`) that
its trainer knows: the teacher's weights stay frozen (and its BN in eval), the EMA and the final checkpoints keep
only the student, and DDP syncs the student and the distillation's own layers. Its loss is YOLO's; ours
(`LRSDETRDistillationModel`) subclasses it for RT-DETR: the teacher's decoder gives every layer's predictions, and
the loss adds `kd_losses.build_kd_loss`'s MLSSD and/or feature terms, weighted by `kd_schedule.kd_weight` and, as
in the authors' trainer, multiplied by the number of images in the batch (RT-DETR's detection loss is not).

The distillation settings are trainer arguments Ultralytics does not know; `LRSDETRDistillTrainer.extra_args`
carries them through Ultralytics' checks and its DDP launch (see `LRSDETRTrainer`).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from copy import deepcopy
from dataclasses import asdict, dataclass, fields
from pathlib import Path

import torch
import torch.nn as nn
from ultralytics.nn.distill_model import DistillationModel
from ultralytics.nn.tasks import load_checkpoint
from ultralytics.utils.torch_utils import copy_attr, unwrap_model

from ..engine.train import RETRAINING_DEFAULTS, train
from ..models import RTDETR, LRSDETRTrainer
from ..models.outputs import PRUNED_WEIGHTS, TRAINED_WEIGHTS, pinned_run_folder
from ..models.recipe import TRAIN_RECIPE, WARMUP_ITERATIONS
from ..tools.checks import (
    dataset_inputs,
    require_checkpoint,
    require_data,
    require_number,
)
from ..utils.command import Command
from ..utils.errors import DataError
from ..utils.guard import CommandPaths
from .kd_losses import (
    FEATURE_LOSS_TYPES,
    KD_LOSS_TYPES,
    LOGICAL_LOSS_TYPES,
    build_kd_loss,
)
from .kd_schedule import KD_LOSS_DECAYS, kd_weight

# The seed's distill keys that the checkpoints make unneeded: the student's and the teacher's architectures are
# in their checkpoints (prune_model: the student is a pruned checkpoint; teacher_cfg: the teacher's YAML).
UNNEEDED_SEED_KEYS = ("prune_model", "teacher_cfg")


def _layer_list(layers: str | list[int]) -> tuple[int, ...]:
    """'21, 24, 27' (the seed's form) or [21, 24, 27] -> (21, 24, 27)."""
    return tuple(int(i) for i in (layers.split(",") if isinstance(layers, str) else layers))


def _weight_list(weights: str | list[float]) -> tuple[float, ...]:
    """'0.2, 0.5, 0.5, 1.0' or a list -> a tuple of floats; '' -> () (equal weights)."""
    if isinstance(weights, str):
        weights = [w for w in weights.split(",") if w.strip()]
    return tuple(float(w) for w in weights)


@dataclass(frozen=True)
class DistillationSettings:
    """distill.py's distillation options (the seed's names and meanings). Bad options, like every mismatch below,
    are `DataError`s: problems the user fixes, reported in one line by the root script."""

    teacher_weights: str = ""  # the unpruned model's checkpoint
    kd_loss_type: str = "logical"  # logical, feature or all
    logical_loss_type: str = "mlssd"  # mlssd (every level, teacher-confidence weighted) or logical (last layer)
    logical_loss_ratio: float = 1e-4
    feature_loss_type: str = "cwd"  # cwd, mgd, mimic, chsim, sp, sp_l2
    feature_loss_ratio: float = 0.05
    teacher_kd_layers: str = "21, 24, 27"  # layers whose outputs are distilled, level by level
    student_kd_layers: str = "21, 24, 27"
    kd_loss_decay: str = "constant"  # constant, cosine, linear, cosine_epoch, linear_epoch
    kd_loss_epoch: float = 1.0  # share of the epochs over which distillation applies
    # MLSSD's level weights (encoder top-k, decoder layers): '' weighs levels equally, as the authors' code ran with
    # batch 8; '0.2, 0.5, 0.5, 1.0' is the paper's weighting (their code applied it only at batch size 4).
    mlssd_level_weights: str = ""

    def __post_init__(self):
        for name, valid in (("kd_loss_type", KD_LOSS_TYPES), ("logical_loss_type", LOGICAL_LOSS_TYPES),
                            ("feature_loss_type", FEATURE_LOSS_TYPES), ("kd_loss_decay", KD_LOSS_DECAYS)):
            if getattr(self, name) not in valid:
                raise DataError(f"unknown {name} {getattr(self, name)!r}; valid: {', '.join(valid)}")
        if len(self.teacher_layers) != len(self.student_layers):
            raise DataError(f"teacher_kd_layers {list(self.teacher_layers)} and student_kd_layers "
                             f"{list(self.student_layers)} must list the same number of layers")
        require_number("logical_loss_ratio", self.logical_loss_ratio, 0)
        require_number("feature_loss_ratio", self.feature_loss_ratio, 0)
        if not 0 < self.kd_loss_epoch <= 1:
            raise DataError(f"kd_loss_epoch must be in (0, 1], got {self.kd_loss_epoch}")
        try:
            _weight_list(self.mlssd_level_weights)
        except (TypeError, ValueError):
            raise DataError(f"mlssd_level_weights {self.mlssd_level_weights!r}: expected numbers separated by commas, "
                            "e.g. '0.2, 0.5, 0.5, 1.0', or '' for equal weights") from None

    @property
    def level_weights(self) -> tuple[float, ...] | None:
        return _weight_list(self.mlssd_level_weights) or None

    @property
    def teacher_layers(self) -> tuple[int, ...]:
        return _layer_list(self.teacher_kd_layers)

    @property
    def student_layers(self) -> tuple[int, ...]:
        return _layer_list(self.student_kd_layers)

    @property
    def logical(self) -> bool:
        return self.kd_loss_type in ("logical", "all")

    @classmethod
    def from_args(cls, args) -> DistillationSettings:
        """From a dict or Ultralytics' argument namespace (other keys are ignored)."""
        values = args if isinstance(args, dict) else vars(args)
        return cls(**{f.name: values[f.name] for f in fields(cls) if f.name in values})


def load_teacher(weights: str) -> nn.Module:
    if not weights or not Path(weights).is_file():
        raise DataError(f"teacher_weights {weights or repr(weights)}: no such checkpoint")
    return load_checkpoint(weights)[0]


def check_pair(student: nn.Module, teacher: nn.Module, settings: DistillationSettings) -> None:
    """The mismatches distillation cannot work with, as errors that name them."""
    s_head, t_head = student.model[-1], teacher.model[-1]
    if s_head.nc != t_head.nc:
        raise DataError(f"the teacher detects {t_head.nc} classes, the student {s_head.nc}: they must be the same")
    if settings.logical:
        weights = settings.level_weights
        if settings.logical_loss_type == "mlssd" and weights and len(weights) != s_head.num_decoder_layers + 1:
            raise DataError(f"mlssd_level_weights has {len(weights)} weights; MLSSD distils "
                             f"{s_head.num_decoder_layers + 1} levels (the encoder's top-k and each decoder layer)")
        if s_head.num_decoder_layers != t_head.num_decoder_layers:
            raise DataError(f"logical distillation compares decoder layer by layer: the student has "
                             f"{s_head.num_decoder_layers} decoder layers, the teacher {t_head.num_decoder_layers}")
        if s_head.num_queries != t_head.num_queries:
            raise DataError(f"logical distillation compares query by query: the student has {s_head.num_queries} "
                             f"queries, the teacher {t_head.num_queries}")
    for who, model, layers in (("teacher", teacher, settings.teacher_layers), ("student", student, settings.student_layers)):
        last = len(model.model) - 2
        if any(not 0 <= i <= last for i in layers):
            raise DataError(f"{who}_kd_layers {list(layers)}: the {who}'s layers before its decoder are 0..{last}")


@contextlib.contextmanager
def every_decoder_layer(model: nn.Module) -> Iterator[None]:
    """The decoder's training-mode output (every layer, the encoder's top-k) from a model in eval mode: only the
    decoder's own mode flags change, so BN and dropout stay in eval. Without targets it adds no denoising queries."""
    head = model.model[-1]
    head.training = head.decoder.training = True
    try:
        yield
    finally:
        head.training = head.decoder.training = False


class LRSDETRDistillationModel(DistillationModel):
    """Student and frozen teacher for Ultralytics' trainer; forward hooks take each model's `kd_layers` outputs and
    decoder output (Ultralytics' FeatureHook), and `loss` adds the distillation to the student's detection loss."""

    def __init__(self, student: nn.Module, teacher: nn.Module, settings: DistillationSettings, imgsz: int):
        # The base constructor is YOLO's (a Detect head, args.dis, MLP projectors): we set the attributes it sets,
        # which its inherited methods read (lrsdetr/utils/ultralytics_private.py, DISTILLATION_MODEL_ATTRIBUTES).
        nn.Module.__init__(self)
        check_pair(student, teacher, settings)
        self.settings = settings
        device = next(student.parameters()).device
        self.student_model = student
        self.teacher_model = teacher.to(device).eval().requires_grad_(False)
        self.feats_idx = [*settings.student_layers, len(student.model) - 1]  # the last level is the decoder
        self.teacher_feats_idx = [*settings.teacher_layers, len(teacher.model) - 1]
        self._teacher_feats, self._student_feats, self._teacher_hooks, self._student_hooks = {}, {}, [], []
        self._register_feature_hooks()
        student_channels, teacher_channels = self._feature_channels(imgsz)
        copy_attr(self, student)
        self.kd_loss = build_kd_loss(settings.kd_loss_type, settings.logical_loss_type, settings.feature_loss_type,
                                     settings.logical_loss_ratio, settings.feature_loss_ratio,
                                     student_channels, teacher_channels, settings.level_weights).to(device)
        self.steps, self.steps_per_epoch, self.epochs = 0, 1, 1

    @property
    def projector(self) -> nn.Module:
        """The distillation's own trainable layers (adapters, MGD generators), by the name Ultralytics restores."""
        return self.kd_loss

    @torch.no_grad()
    def _feature_channels(self, imgsz: int) -> tuple[list[int], list[int]]:
        """Channels of the distilled maps, from one pass of a blank image; their sizes must match level by level."""
        mode = self.student_model.training
        image = torch.zeros(1, 3, imgsz, imgsz, device=next(self.teacher_model.parameters()).device)
        self.student_model.eval()(image)
        self.teacher_model(image)
        self.student_model.train(mode)
        levels = range(len(self.feats_idx) - 1)
        student, teacher = ([feats[i] for i in levels] for feats in (self._student_feats, self._teacher_feats))
        for i, s, t in zip(levels, student, teacher):
            if s.shape[2:] != t.shape[2:]:
                raise DataError(f"student layer {self.feats_idx[i]} gives {tuple(s.shape[2:])} maps, teacher layer "
                                 f"{self.teacher_feats_idx[i]} {tuple(t.shape[2:])}: distilled layers must match in size")
        return [s.shape[1] for s in student], [t.shape[1] for t in teacher]

    def schedule(self, steps_per_epoch: int, epochs: int) -> None:
        """The length of training, for `kd_loss_decay` (the trainer calls it once its data loader exists)."""
        self.steps_per_epoch, self.epochs = max(steps_per_epoch, 1), epochs

    def kd_weight(self) -> float:
        return kd_weight(self.settings.kd_loss_decay, self.steps, self.steps_per_epoch * self.epochs,
                         self.steps // self.steps_per_epoch, self.epochs, self.settings.kd_loss_epoch)

    def loss(self, batch: dict, preds=None) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        """Detection loss + distillation loss, and their parts (`kd_loss` is 0 in validation, which has no teacher)."""
        if not self.training:
            loss, items = self.student_model.loss(batch, preds)
            return loss, {**items, "kd_loss": torch.zeros_like(loss)}
        self._teacher_feats.clear()
        self._student_feats.clear()
        with torch.no_grad(), every_decoder_layer(self.teacher_model):
            self.teacher_model.predict(batch["img"])
        loss, items = self.student_model.loss(batch)
        decoder = len(self.feats_idx) - 1
        distilled, _ = self.kd_loss(
            self._student_feats[decoder], self._teacher_feats[decoder],
            [self._student_feats[i] for i in range(decoder)], [self._teacher_feats[i] for i in range(decoder)],
            num_gts=batch["cls"].shape[0],
        )
        distilled = distilled * self.kd_weight() * batch["img"].shape[0]  # the authors' trainer: x batch size
        self.steps += 1
        return loss + distilled, {**items, "kd_loss": distilled.detach()}


class LRSDETRDistillTrainer(LRSDETRTrainer):
    """RT-DETR training of the student with the teacher's guidance; only the model set-up differs.

    Distillation runs do not resume: the teacher and the distillation's layers are not in the checkpoints (start a
    new distillation from the run's last.pt, which holds the student).
    """

    extra_args = asdict(DistillationSettings())

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.add_callback_once("on_pretrain_routine_end", schedule_distillation)

    def setup_model(self):
        if self.resume:
            raise DataError("distillation runs do not resume; distill again with model=<run>/weights/last.pt")
        checkpoint = super().setup_model()
        self.set_model_attributes()  # the student's nc, names and args, before the wrapper takes its place
        settings = DistillationSettings.from_args(self.args)
        self.model = LRSDETRDistillationModel(self.model, load_teacher(settings.teacher_weights), settings, self.args.imgsz)
        return checkpoint


def schedule_distillation(trainer: LRSDETRDistillTrainer) -> None:
    """The length of training, for `kd_loss_decay`: a callback at the end of Ultralytics' training set-up, once
    the data loader exists."""
    unwrap_model(trainer.model).schedule(len(trainer.train_loader), trainer.epochs)


def distill(params: dict) -> Path:
    """distill.py: train `params['model']` (the student) with the recipe and the distillation `params` ask for.
    Every mismatch between student, teacher and settings is reported before training starts. The seed's
    `prune_model` and `teacher_cfg` are accepted and not needed (the checkpoints hold both architectures)."""
    params = {"warmup_iters": WARMUP_ITERATIONS, **{k: v for k, v in params.items() if k not in UNNEEDED_SEED_KEYS}}
    settings = DistillationSettings.from_args(params)
    require_data(params["data"])
    student = RTDETR(require_checkpoint(params["model"], "--model"))
    LRSDETRDistillationModel(deepcopy(student.model), load_teacher(settings.teacher_weights), settings, params["imgsz"])
    return train({**TRAIN_RECIPE, **params, **asdict(settings), "project": params.get("project") or "runs/distill",
                  "trainer": LRSDETRDistillTrainer})


DISTILL_DOC = """Distil a pruned LRS-DETR (the student, from pruning.py) from the unpruned LRS-DETR-B (the teacher): MLSSD
(logical), feature distillation, or both, trained with the LRS-DETR recipe.

Example: python distill.py --model runs/prune/lamp_speedup1.35/weights/best.pt              --teacher_weights runs/train/lrs-detr-b/weights/best.pt --data dataset/data.yaml --device 0
The student's and teacher's checkpoints hold their architectures (the seed's `teacher_cfg` and `prune_model` are
not needed). The result, runs/distill/<name>/weights/best.pt, is the student alone (LRS-DETR-T).
Mismatched layer lists, a teacher with other classes, or (logical) another decoder depth stop before training.
Other Ultralytics train arguments go on as name=value (python distill.py lr0=5e-4 nbs=4) or into param_dict.
"""

_SETTINGS = DistillationSettings()

# The distillation settings' defaults are the dataclass's, bar the teacher: the one train.py writes.
DISTILL_DEFAULTS = {
    "model": PRUNED_WEIGHTS,
    **RETRAINING_DEFAULTS,
    "project": "runs/distill",
    "name": f"lamp1.35_logical_{_SETTINGS.logical_loss_type}_{_SETTINGS.logical_loss_ratio}",
    "warmup_iters": WARMUP_ITERATIONS,
    "teacher_weights": TRAINED_WEIGHTS,
    **{key: getattr(_SETTINGS, key) for key in (
        "kd_loss_type", "kd_loss_decay", "kd_loss_epoch", "logical_loss_type", "logical_loss_ratio", "mlssd_level_weights",
        "teacher_kd_layers", "student_kd_layers", "feature_loss_type", "feature_loss_ratio")},
    "trust_checkpoint": False,
}


def distill_paths(params: dict) -> CommandPaths:
    """Reads the student, the teacher and the data set; writes the run folder (pinned)."""
    folder, pinned = pinned_run_folder(params)
    return (CommandPaths(pinned)
            .reads("--model", require_checkpoint(params["model"], "--model"))
            .reads("--teacher_weights", require_checkpoint(params["teacher_weights"], "--teacher_weights"))
            .reads("--data", *dataset_inputs(params["data"]))
            .writes("--project/--name", folder))


COMMAND = Command("distill", "distil a pruned student from its teacher (MLSSD, features)", DISTILL_DOC, DISTILL_DEFAULTS,
                  distill_paths, distill, script="distill.py", passthrough=True)
