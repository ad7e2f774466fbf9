"""The LRS-DETR detection model: Ultralytics' RT-DETR model class, built with our block rules."""

from __future__ import annotations

from copy import deepcopy

import torch
import torch.nn as nn
from ultralytics.nn.modules import Conv, RepConv
from ultralytics.nn.tasks import RTDETRDetectionModel, yaml_model_load
from ultralytics.utils import LOGGER
from ultralytics.utils.torch_utils import initialize_weights

from ..cfg import IMGSZ, resolve_model_cfg
from .build import build_layers, uses_custom_blocks
from .modules import OmniKernel

PRUNED_KEY = "pruned"  # model.yaml entry: how the model was pruned from the architecture the YAML describes


def is_pruned(model: nn.Module) -> bool:
    """True for a model returned by `lrsdetr.compress.prune` (its widths are not those its YAML builds): trainers keep
    such a model as it is instead of rebuilding it from its YAML."""
    return PRUNED_KEY in (getattr(model, "yaml", None) or {})


def load_model_yaml(cfg) -> dict:
    """A YAML dict from a dict, a path, or the bare name of a packaged config."""
    return cfg if isinstance(cfg, dict) else yaml_model_load(resolve_model_cfg(cfg))


class LRSDETRDetectionModel(RTDETRDetectionModel):
    """RT-DETR detection model whose YAML may use LRS-DETR blocks.

    Loss, inference and loading are Ultralytics' own; only the layer building differs, and only
    for YAMLs that use our blocks (others, e.g. rtdetr-l.yaml, go through Ultralytics' builder).
    """

    def __init__(self, cfg="lrs-detr-b.yaml", ch=3, nc=None, verbose=True):
        yaml_dict = load_model_yaml(cfg)
        if not uses_custom_blocks(yaml_dict):
            super().__init__(yaml_dict, ch=ch, nc=nc, verbose=verbose)
            return
        # Ultralytics' constructor builds with its own parse_model and takes no builder: we set the attributes it
        # sets (lrsdetr/utils/ultralytics_private.py, DETECTION_MODEL_ATTRIBUTES), the layers built by ours.
        nn.Module.__init__(self)
        self.yaml = yaml_dict
        self.yaml["channels"] = ch
        if nc and nc != self.yaml["nc"]:
            LOGGER.info(f"Overriding model.yaml nc={self.yaml['nc']} with nc={nc}")
            self.yaml["nc"] = nc
        self.model, self.save = build_layers(deepcopy(self.yaml), ch=ch, verbose=verbose)
        self.names = {i: f"{i}" for i in range(self.yaml["nc"])}
        self.inplace = self.yaml.get("inplace", True)
        self.stride = torch.Tensor([32])  # the RT-DETR decoder works at strides 8-32; 32 is the size multiple
        initialize_weights(self)
        if verbose:
            self.info()
            LOGGER.info("")

    def fuse(self, verbose=True, imgsz=IMGSZ):
        """Ultralytics' Conv+BN / RepConv fusion, the Omni-Kernel's four depthwise convs merged into one, and the
        inference layout: channels_last weights, activations in place.

        On 2 CPU cores a fused LRS-DETR-B runs `model(x)` (x in NCHW) 12-17% faster with the last two, same math:
        oneDNN's convs run in channels_last without reordering every map, and an in-place activation skips one
        fresh tensor per conv (fresh large tensors cost page faults). Ultralytics' AutoBackend puts models in
        channels_last on x86 CPUs anyway, and back to NCHW on CUDA.
        """
        for m in self.modules():
            if isinstance(m, OmniKernel):
                m.merge_depthwise()
        super().fuse(verbose=verbose, imgsz=imgsz)
        for m in self.modules():
            # forward_fuse is act(conv(x)): the conv's output is fresh and read by nothing else. The default act
            # is one module shared by every Conv in the process, so each fused Conv gets its own in-place copy.
            if isinstance(m, (Conv, RepConv)) and m.forward == m.forward_fuse and type(m.act) in (nn.SiLU, nn.ReLU):
                m.act = type(m.act)(inplace=True)
        return self.to(memory_format=torch.channels_last)

    def is_fused(self):
        return super().is_fused() and not any(isinstance(m, OmniKernel) and not hasattr(m, "dw_merged") for m in self.modules())
