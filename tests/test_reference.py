"""Our LRS-DETR-B computes what the authors' implementation computes, layer by layer (the reference fixture)."""

import json

import pytest
import torch
from reference_fixture import ReferenceFeatures
from reference_weights import recipe_state_dict

from lrsdetr import build_model
from lrsdetr.compat import load_original_state_dict, map_original_state_dict

LAYERS = (2, 4, 6, 8, 10, 18, 20, 21, 24, 27)


@pytest.fixture(scope="module")
def reference(reference_dir):
    return ReferenceFeatures(reference_dir)


@pytest.fixture(scope="module")
def ours_with_their_weights(reference_dir):
    model = build_model("lrs-detr-b.yaml", nc=10).eval()
    load_original_state_dict(model, recipe_state_dict(reference_dir / "keys.json", seed=0))
    return model


def run_with_taps(model, x):
    """Forward once; return (outputs of LAYERS, raw last-decoder-layer rows (300, 14))."""
    taps = {}
    hooks = [model.model[i].register_forward_hook(lambda m, inp, out, i=i: taps.__setitem__(i, out)) for i in LAYERS]
    try:
        with torch.no_grad():
            _, (boxes, scores, *_) = model(x)
    finally:
        for h in hooks:
            h.remove()
    return taps, torch.cat((boxes[-1, 0], scores[-1, 0].sigmoid()), -1)


def test_every_learned_tensor_is_mapped(reference_dir, ours_with_their_weights):
    keys = json.loads((reference_dir / "keys.json").read_text())
    theirs = {k["name"]: torch.zeros(k["shape"]) for k in keys}
    mapped = map_original_state_dict(ours_with_their_weights, theirs)
    ours = {k for k in ours_with_their_weights.state_dict() if not k.endswith("num_batches_tracked")}
    assert set(mapped) == ours


def test_unmapped_keys_are_listed(ours_with_their_weights):
    with pytest.raises(KeyError, match="model.6.m.0.bogus.weight"):
        load_original_state_dict(ours_with_their_weights, {"model.6.m.0.bogus.weight": torch.zeros(1)})


def test_layers_match_the_authors(reference, ours_with_their_weights):
    taps, _ = run_with_taps(ours_with_their_weights, reference.input)
    worst = {i: reference.max_abs_difference(f"layer{i:02d}", taps[i]) for i in LAYERS}
    assert max(worst.values()) <= 1e-4, worst


def test_detections_match_the_authors(reference, ours_with_their_weights):
    """>= 99% of their 300 rows have a row of ours within 1e-3 on all 14 values (order-free: top-k may reorder)."""
    _, rows = run_with_taps(ours_with_their_weights, reference.input)
    theirs = reference.whole("detections")[0]
    distance = (theirs[:, None, :] - rows[None, :, :]).abs().amax(-1)  # (300 theirs, 300 ours)
    matched = (distance.amin(1) <= 1e-3).float().mean().item()
    assert matched >= 0.99, f"only {matched:.1%} of the reference detections matched"
