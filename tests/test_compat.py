"""The authors' pickled best.pt (whole model objects from their fork) imports without their code."""

import json
import subprocess
import sys
import textwrap

import pytest
import torch
from reference_weights import recipe_state_dict

from lrsdetr.compat import import_original_checkpoint

# Written into a throwaway package that only the saving process can import: the loader never sees it.
FORK_MODULE = textwrap.dedent(
    """
    import torch.nn as nn

    class Node(nn.Module):
        '''Stands for any of their fork's classes (DetectionModel, DEF modules, DPRA, ...).'''

    def build_tree(state_dict):
        root = Node()
        for key, tensor in state_dict.items():
            *path, leaf = key.split(".")
            module = root
            for part in path:
                if part not in module._modules:
                    module.add_module(part, Node())
                module = module._modules[part]
            if leaf.startswith("running_") or leaf in ("num_batches_tracked", "relative_position_index"):
                module.register_buffer(leaf, tensor)
            else:
                module.register_parameter(leaf, nn.Parameter(tensor))
        root.names = {i: f"cls{i}" for i in range(10)}
        return root
    """
)


@pytest.fixture(scope="module")
def their_checkpoint(reference_dir, tmp_path_factory):
    folder = tmp_path_factory.mktemp("their_fork")
    (folder / "ultralytics_fork").mkdir()
    (folder / "ultralytics_fork" / "__init__.py").write_text(FORK_MODULE)
    state = recipe_state_dict(reference_dir / "keys.json", seed=0)
    keys = json.loads((reference_dir / "keys.json").read_text())
    for k in keys:  # integer buffers too, as their state dict has them
        if k["role"] == "skip":
            state[k["name"]] = torch.zeros(k["shape"], dtype=torch.long)
    torch.save(state, folder / "state.pt")
    code = (
        "import sys, torch; sys.path.insert(0, sys.argv[1]); from ultralytics_fork import build_tree\n"
        "tree = build_tree(torch.load(sys.argv[1] + '/state.pt'))\n"
        "torch.save({'epoch': 299, 'model': tree.half(), 'ema': None, 'train_args': {}}, sys.argv[1] + '/best.pt')\n"
    )
    subprocess.run([sys.executable, "-c", code, str(folder)], check=True)
    return folder / "best.pt", state


def test_import_their_checkpoint(their_checkpoint):
    path, state = their_checkpoint
    model = import_original_checkpoint(path)
    ours = model.state_dict()
    assert model.names[3] == "cls3"
    torch.testing.assert_close(ours["model.6.m.0.lfa.qkv.conv.weight"], state["model.6.m.0.mixer.fn.qkv.c.weight"].half().float())
    torch.testing.assert_close(ours["model.20.m.fgm.signal.weight"], state["model.20.m.fgm.dwconv2.weight"].half().float())


def test_missing_checkpoint_is_a_clear_error(tmp_path):
    with pytest.raises(FileNotFoundError, match="nope.pt"):
        import_original_checkpoint(tmp_path / "nope.pt")
