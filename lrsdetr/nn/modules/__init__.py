"""LRS-DETR's blocks, one file per idea of the paper: DFENet, SEFP, DPRA."""

from .dfenet import ConvGLU, DEFBlock, DEFModule, LocalFeatureAggregation
from .dpra import DPRA
from .resnet import BasicBlock, BasicStage, BottleneckBlock, BottleneckStage, ResNetStem
from .sefp import FrequencyGatingModule, OmniKernel, SMEModule, SPDConv

__all__ = (
    "ConvGLU",
    "DEFBlock",
    "DEFModule",
    "LocalFeatureAggregation",
    "DPRA",
    "BasicBlock",
    "BasicStage",
    "BottleneckBlock",
    "BottleneckStage",
    "ResNetStem",
    "FrequencyGatingModule",
    "OmniKernel",
    "SMEModule",
    "SPDConv",
)
