"""plot_channel_image.py: channels per layer of a model and its pruned version, as a list and a bar chart."""

import subprocess
import sys
from pathlib import Path

import pytest
from test_prune import small_model, write_small_checkpoints

from lrsdetr import build_model
from lrsdetr.compress.prune import PruneSettings, prune
from lrsdetr.tools.channels import compare_channels
from lrsdetr.utils.errors import DataError

REPO = Path(__file__).resolve().parents[1]


def test_rows_follow_the_layers_and_leave_out_the_decoder_internals():
    base = small_model()
    rows = compare_channels(base, prune(base, PruneSettings("l1", speed_up=1.2, imgsz=96, iterative_steps=10, scope="blocks")))
    names = [name for name, _, _ in rows]
    assert names[0] == "model.0.conv" and names[-1] == "model.28.input_proj.2.0"
    assert any(after < before for _, before, after in rows)
    assert all(after == before for name, before, after in rows if name.startswith("model.28."))  # fixed width


def test_models_with_other_layers_are_refused():
    with pytest.raises(DataError, match="do not have the same layers"):
        compare_channels(small_model(), build_model("rtdetr-r18.yaml"))


@pytest.mark.slow
def test_script_writes_the_chart(tiny_data, tmp_path):
    teacher, student = write_small_checkpoints(tmp_path, tiny_data)
    chart = tmp_path / "chart.png"
    result = subprocess.run([sys.executable, "plot_channel_image.py", "--base-weights", str(teacher),
                             "--prune-weights", str(student), "--save", str(chart)], cwd=REPO, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr[-2000:]
    assert chart.stat().st_size > 10_000 and "layers pruned" in result.stdout
    missing = subprocess.run([sys.executable, "plot_channel_image.py", "--base-weights", "nope.pt"], cwd=REPO, capture_output=True, text=True)
    assert missing.returncode == 2 and missing.stderr.strip() == "error: --base-weights nope.pt: no such checkpoint"
