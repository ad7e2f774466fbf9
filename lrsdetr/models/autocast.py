"""bf16 on CPU for Ultralytics' request of 16-bit floats (`quantize=16`, formerly `half=True`), mixed with fp32.

Ultralytics runs PyTorch weights in fp16 on a GPU when asked, but in fp32 on CPU (its fp16 there is slow and
breaks RT-DETR). Our validator and predictor, and get_FPS, run the forward pass, and only it, under torch's CPU
autocast in bf16 instead: convolutions and matrix products in bf16, the rest as torch's autocast rules keep it.
The layer classes in `KEEP_FP32` run in fp32 even then; `lrsdetr bench bf16` (the per-layer scan in docs/speed.md)
says which layers' bf16 costs accuracy: none, on the models it was run on, so the list is empty. The model is fused
and warmed up outside, so no weight is ever rounded.

`layer_precisions` sets the precision layer by layer by wrapping forwards, only while it is open, so a model that
is later saved carries none of it.

RT-DETR's decoder makes its anchors (the reference boxes, in logit space) in the dtype of its features and keeps them
for every later call at the same size. Under bf16 autocast they came out in bf16, box centres rounded to 8 bits of
mantissa, and stayed so: -0.5 AP50 on the quick-start model (docs/speed.md#bf16-layer-by-layer). `--half` makes them
in fp32 (`fp32_anchors`).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import ExitStack, contextmanager

import torch
from torch import nn
from ultralytics.nn.modules import RTDETRDecoder

# Layer classes run in fp32 under `--half` on CPU: none. `lrsdetr bench bf16` on the accuracy benchmark's trained
# LRS-DETR-B and RT-DETR-R18 (docs/speed.md#bf16-layer-by-layer) found no layer whose bf16 costs AP: bf16 everywhere
# stays within 0.1 AP50 of fp32 (with the decoder's anchors in fp32, as `fp32_anchors` makes them), and keeping the
# decoder in fp32 changed nothing. torch's autocast rules already keep
# the sensitive operations (softmax, normalisations, the boxes' sigmoid refinement) in fp32. Name a class here, e.g.
# RTDETRDecoder, to keep it in fp32 (the scan's `--half` row shows the effect).
KEEP_FP32: tuple[type[nn.Module], ...] = ()


def wants_cpu_bf16(args, device: torch.device | str) -> bool:
    """True when `args` (an Ultralytics run's) ask for 16-bit floats and the model runs on CPU."""
    return args.quantize == 16 and torch.device(device).type == "cpu"


def cpu_bf16(enabled: bool = True) -> torch.autocast:
    """torch's CPU autocast to bf16 (a context manager, or a decorator)."""
    return torch.autocast("cpu", dtype=torch.bfloat16, enabled=enabled)


def _in_fp32(value):
    """`value` with every bf16 tensor in it (also inside tuples, lists and dicts) made fp32."""
    if isinstance(value, torch.Tensor):
        return value.float() if value.dtype == torch.bfloat16 else value
    if isinstance(value, (tuple, list)):
        return type(value)(_in_fp32(v) for v in value)
    if isinstance(value, dict):
        return {k: _in_fp32(v) for k, v in value.items()}
    return value


def _set_precision(module: nn.Module, bf16: bool, stack: ExitStack) -> None:
    """While `stack` is open, `module`'s forward runs under CPU autocast to bf16 (`bf16`) or with it off, its inputs
    made fp32; either way what it returns leaves in fp32, so fp32 layers after it take it as it is. A wrapper of the
    forward rather than hooks: torch.compile traces a `with autocast` block, not an autocast entered by a hook."""
    own = vars(module).get("forward")  # an instance's own forward (the validator's bf16 wrapper), put back after
    forward = module.forward

    def run(*args, **kwargs):
        with cpu_bf16(bf16):
            output = forward(*(args if bf16 else _in_fp32(args)), **kwargs)
        return _in_fp32(output)

    module.forward = run
    stack.callback(lambda: setattr(module, "forward", own) if own is not None else delattr(module, "forward"))


@contextmanager
def layer_precisions(precisions: Mapping[nn.Module, bool]) -> Iterator[None]:
    """While open, each module runs in bf16 (True) or fp32 (False), nested modules overriding their parents."""
    with ExitStack() as stack:
        for module, bf16 in precisions.items():
            _set_precision(module, bf16, stack)
        yield


def kept_in_fp32(model: nn.Module) -> list[nn.Module]:
    """The modules of `model` that `--half` keeps in fp32 (KEEP_FP32, read when called)."""
    return [module for module in model.modules() if isinstance(module, KEEP_FP32)]


def decoders(model: nn.Module) -> list[RTDETRDecoder]:
    return [module for module in model.modules() if isinstance(module, RTDETRDecoder)]


def forget_anchors(model: nn.Module) -> None:
    """Make RT-DETR's decoders in `model` make their anchors afresh on their next call (at whatever precision runs)."""
    for decoder in decoders(model):
        decoder.shapes = []


@contextmanager
def fp32_anchors(model: nn.Module) -> Iterator[None]:
    """While open, RT-DETR's decoders in `model` make their anchors in fp32, whatever the features' dtype; anchors an
    earlier call left in another dtype are made again."""
    with ExitStack() as stack:
        for decoder in decoders(model):
            if decoder.anchors.dtype != torch.float32:
                decoder.shapes = []
            generate = type(decoder)._generate_anchors
            decoder._generate_anchors = lambda shapes, feats, *args, generate=generate, **kwargs: generate(shapes, feats.float(), *args, **kwargs)
            stack.callback(delattr, decoder, "_generate_anchors")
        yield


@contextmanager
def mixed_bf16(model: nn.Module, enabled: bool = True) -> Iterator[None]:
    """While open, `model` runs under bf16 autocast except the KEEP_FP32 layers, in fp32, and the decoder's anchors,
    made in fp32; nothing when not `enabled`."""
    if not enabled:
        yield
        return
    with cpu_bf16(), fp32_anchors(model), layer_precisions(dict.fromkeys(kept_in_fp32(model), False)):
        yield
