"""One home per block: a block defined and registered here (and nowhere else) is built from a YAML, pruned by its
registered scope rule, and loaded from the authors' names for its tensors."""

import pytest
import torch
import torch.nn as nn
from ultralytics.nn.modules import Conv

from lrsdetr import build_model
from lrsdetr.compat.original import load_original_state_dict
from lrsdetr.compress.prune import PruneSettings, prune
from lrsdetr.nn.modules import DPRA, DEFBlock
from lrsdetr.nn.registry import BLOCKS, register_block, sets_channels, spec_of
from test_prune import IMGSZ, small_cfg

LAYER = 3  # small_cfg's stride-8 Conv, which LAMP cuts when nothing keeps it whole


class ResidualConv(nn.Module):
    """A test block: Ultralytics' Conv, then a residual 1x1 Conv."""

    def __init__(self, c1: int, c2: int, k: int = 1, s: int = 1):
        super().__init__()
        self.conv = Conv(c1, c2, k, s)
        self.mix = Conv(c2, c2, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.conv(x)
        return x + self.mix(x)


# The authors' names for its tensors, as a checkpoint of theirs would hold them.
THEIR_NAMES = ((r"^cv\.", "conv."), (r"^pw\.", "mix."))


@pytest.fixture
def registered():
    """Registers ResidualConv for one test: `registered(**spec)` (re-registering replaces the spec)."""
    yield lambda **spec: register_block(ResidualConv, channels=sets_channels, **spec)
    BLOCKS.pop(ResidualConv, None)


def model_with_test_block() -> nn.Module:
    cfg = small_cfg()
    cfg["backbone"][LAYER] = [-1, 1, "ResidualConv", [64, 3, 2]]
    torch.manual_seed(0)
    model = build_model(cfg)
    with torch.no_grad():
        for parameter in model.parameters():  # untie the BN scales and gains so LAMP has something to rank
            parameter.add_(torch.randn_like(parameter) * 0.05)
    return model.eval()


def test_an_unregistered_block_is_not_found_by_the_builder():
    with pytest.raises(KeyError, match="unknown block 'ResidualConv'"):
        model_with_test_block()


def test_the_registered_channel_rule_builds_the_block(registered):
    registered()
    model = model_with_test_block()
    layer = model.model[LAYER]
    assert isinstance(layer, ResidualConv) and layer.conv.conv.in_channels == 32 and layer.mix.conv.out_channels == 64
    assert model(torch.rand(1, 3, IMGSZ, IMGSZ))[0].shape[1] == 50  # the decoder's queries: every layer ran


@pytest.mark.slow
@pytest.mark.parametrize("whole", [True, False])
def test_the_paper_scope_keeps_the_block_whole_exactly_when_it_is_registered_so(registered, whole):
    registered(whole_in_paper_scope=whole)
    model = model_with_test_block()
    pruned = prune(model, PruneSettings("lamp", speed_up=1.2, imgsz=IMGSZ, iterative_steps=20))
    assert (pruned.model[LAYER].conv.conv.out_channels == 64) is whole
    assert pruned.model[LAYER].mix.conv.out_channels == pruned.model[LAYER].conv.conv.out_channels


@pytest.mark.slow
def test_the_blocks_scope_keeps_what_the_block_names_fixed(registered):
    registered(fixed_in_blocks_scope=lambda block: [block.conv.conv])
    pruned = prune(model_with_test_block(), PruneSettings("lamp", speed_up=1.2, imgsz=IMGSZ, iterative_steps=20, scope="blocks"))
    assert pruned.model[LAYER].conv.conv.out_channels == 64


def their_state_dict(model: nn.Module, extra: dict) -> dict:
    """`model`'s tensors under the authors' names for the test block's layer (our names elsewhere), plus `extra`."""
    ours_to_theirs = {"conv.": "cv.", "mix.": "pw."}
    renamed = {}
    for key, tensor in model.state_dict().items():
        prefix = f"model.{LAYER}."
        if key.startswith(prefix):
            inner = key[len(prefix):]
            ours = next(o for o in ours_to_theirs if inner.startswith(o))
            key = prefix + ours_to_theirs[ours] + inner[len(ours):]
        renamed[key] = tensor.clone()
    return {**renamed, **extra}


def test_the_importer_maps_the_authors_names_and_skips_what_the_block_does_not_build(registered):
    registered()
    source = model_with_test_block()
    unused = {f"model.{LAYER}.cv.spare.weight": torch.zeros(1)}
    theirs = their_state_dict(source, unused)
    with pytest.raises(KeyError, match="their key with no place in our model: model.3.cv.conv.weight"):
        load_original_state_dict(model_with_test_block(), theirs)  # no names registered yet
    registered(original_names=THEIR_NAMES)
    with pytest.raises(KeyError, match="their key with no place in our model: model.3.conv.spare.weight"):
        load_original_state_dict(model_with_test_block(), theirs)
    registered(original_names=THEIR_NAMES, original_unused=r"^cv\.spare\.")
    loaded = load_original_state_dict(model_with_test_block(), theirs)
    assert torch.equal(loaded.model[LAYER].mix.conv.weight, source.model[LAYER].mix.conv.weight)
    assert all(torch.equal(a, b) for a, b in zip(loaded.state_dict().values(), source.state_dict().values()))


def test_a_subclass_takes_its_nearest_registered_base_spec():
    class Subclassed(DPRA):
        pass

    assert spec_of(Subclassed) is BLOCKS[DPRA] and spec_of(DEFBlock) is BLOCKS[DEFBlock] is not spec_of(DPRA)
    assert spec_of(nn.Linear) is None
