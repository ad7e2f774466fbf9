"""Ultralytics' RT-DETR trainer, building our detection model, and training across machines."""

from __future__ import annotations

from copy import copy, deepcopy
from datetime import timedelta
from typing import Any, ClassVar
from unittest import mock

import torch.distributed as dist
import torch.nn as nn
from ultralytics.models.rtdetr.train import RTDETRTrainer
from ultralytics.utils import DEFAULT_CFG, LOCAL_RANK, RANK, WORLD_SIZE

from ..data.dataset import rtdetr_dataset
from ..nn.detection_model import LRSDETRDetectionModel, is_pruned
from ..utils.ultralytics_private import as_one_process
from .validator import LRSDETRValidator


class LRSDETRTrainer(RTDETRTrainer):
    """RT-DETR training (loss, data, validation) with LRS-DETR blocks in the model.

    `get_model` builds our model, and keeps a pruned one as it is; `build_dataset` reads the data through
    LRSDETRDataset, which writes nothing into the user's data set. Ultralytics' DDP launcher re-imports this class by
    its module path in each worker, so the workers build the same model.

    Subclasses may take arguments Ultralytics does not know (`extra_args`: name -> default). Ultralytics rejects
    unknown keys in the overrides, and its DDP launcher rebuilds the trainer in each worker from `vars(args)` alone,
    so `__init__` takes them out of the overrides before Ultralytics checks them and puts them back on `self.args`:
    they then travel to DDP workers, are saved with checkpoints and come back on resume. The validator, which
    checks its arguments again, gets them without the extras.
    """

    extra_args: ClassVar[dict[str, Any]] = {}

    def __init__(self, cfg=DEFAULT_CFG, overrides: dict | None = None, _callbacks=None):
        overrides = dict(overrides or {})
        extras = {name: overrides.pop(name, default) for name, default in self.extra_args.items()}
        super().__init__(cfg, overrides, _callbacks)
        if LOCAL_RANK != -1:  # a torch.distributed.run worker (Ultralytics' own launch too: there the two agree)
            self.world_size = WORLD_SIZE
        for name, value in extras.items():
            if self.resume and hasattr(self.args, name):
                continue  # resume: the checkpoint's own value, like every other argument
            setattr(self.args, name, value)

    def add_callback_once(self, event: str, callback) -> None:
        """Ultralytics' public `add_callback`, for a module-level function added in `__init__`: a DDP worker's
        trainer is built with the launcher's pickled callbacks, which already hold it."""
        if callback not in self.callbacks[event]:
            self.add_callback(event, callback)

    def _setup_ddp(self):
        """Ultralytics' set-up puts every process on a GPU; processes on the CPU join the group by gloo."""
        if self.device.type != "cpu":
            return super()._setup_ddp()
        dist.init_process_group("gloo", timeout=timedelta(hours=3), rank=RANK, world_size=self.world_size)  # as on GPUs

    def _setup_train(self):
        """Ultralytics wraps the model with DDP(device_ids=[device.index]), which DDP refuses for a model on the CPU:
        there it gets the same wrap without device ids."""
        if self.world_size > 1 and self.device.type == "cpu":
            with mock.patch.object(nn.parallel, "DistributedDataParallel", CPUDistributedDataParallel):
                return super()._setup_train()
        return super()._setup_train()

    def final_eval(self):
        """Ultralytics validates best.pt on every rank, each on its share of the images, reading it from its own
        machine's run folder (only rank 0 writes one) and on a GPU even for a CPU run. Here the group ends after
        training and rank 0 validates best.pt on all the images, as a single process does."""
        if RANK == -1:
            return super().final_eval()
        dist.destroy_process_group()  # the last collective was the training loop's stop broadcast
        if RANK > 0:
            return
        self.validator.dataloader = None  # it served this rank's share; the validator builds one for all images
        with as_one_process():
            super().final_eval()

    def get_validator(self):
        validator_args = copy(self.args)
        for name in self.extra_args:
            delattr(validator_args, name)
        return LRSDETRValidator(self.test_loader, save_dir=self.save_dir, args=validator_args, _callbacks=self.callbacks)

    def build_dataset(self, img_path, mode="train", batch=None):
        return rtdetr_dataset(img_path, self.args, self.data, mode, batch)

    def get_model(self, cfg=None, weights=None, verbose=True):
        if isinstance(weights, nn.Module) and is_pruned(weights):
            return self.pruned_model(weights)
        model = LRSDETRDetectionModel(cfg, nc=self.data["nc"], ch=self.data["channels"], verbose=verbose and RANK == -1)
        model = self.set_model_names_for_load(model)
        if weights:
            model.load(weights)
        return model

    def pruned_model(self, weights: nn.Module) -> nn.Module:
        """A trainable copy of a pruned model. Its YAML would rebuild the unpruned widths, so fine-tuning, resuming
        and DDP workers (which all come through `get_model`) train the pruned module itself."""
        nc = weights.model[-1].nc
        if nc != self.data["nc"]:
            raise ValueError(f"the pruned model detects {nc} classes but {self.args.data} has {self.data['nc']}: "
                             "prune a model trained on this dataset's classes")
        model = self.set_model_names_for_load(deepcopy(weights).float())
        for parameter in model.parameters():
            parameter.requires_grad_(True)
        return model


class CPUDistributedDataParallel(nn.parallel.DistributedDataParallel):
    """DistributedDataParallel as Ultralytics builds it, for a model on the CPU, where DDP takes no device ids."""

    def __init__(self, module: nn.Module, device_ids=None, **kwargs):
        super().__init__(module, device_ids=None, **kwargs)
