"""Small pieces of the workflows: offline fonts, warm-up in iterations, user-input checks, torchrun devices."""

from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
import ultralytics.utils
import ultralytics.utils.downloads
import ultralytics.utils.plotting

from lrsdetr.engine.ddp import is_main_process, torchrun_device
from lrsdetr.models.recipe import WarmupIterations
from lrsdetr.tools.checks import require_checkpoint, require_data, require_model, require_same_classes
from lrsdetr.tools.fps import Latency
from lrsdetr.utils import fonts
from lrsdetr.utils.errors import DataError


def test_offline_plots_use_matplotlib_font_without_network(monkeypatch, tmp_path):
    monkeypatch.setattr(ultralytics.utils, "ONLINE", False)
    monkeypatch.setattr(ultralytics.utils, "USER_CONFIG_DIR", tmp_path)  # no Arial.ttf downloaded there
    monkeypatch.setattr(ultralytics.utils.downloads, "is_url", lambda *a, **k: pytest.fail("font download attempted"))
    fonts.install()
    assert fonts.check_font("Arial.ttf") == fonts.MATPLOTLIB_FONT and fonts.MATPLOTLIB_FONT.is_file()
    annotator = ultralytics.utils.plotting.Annotator(np.zeros((64, 64, 3), np.uint8), pil=True)
    assert Path(annotator.font.path) == fonts.MATPLOTLIB_FONT
    (tmp_path / "Arial.ttf").write_bytes(fonts.MATPLOTLIB_FONT.read_bytes())
    assert fonts.check_font("Arial.ttf") == tmp_path / "Arial.ttf"  # a font Ultralytics downloaded earlier wins


def test_warmup_is_counted_in_iterations():
    trainer = SimpleNamespace(args=SimpleNamespace(warmup_epochs=3.0), train_loader=range(800))
    WarmupIterations(2000)(trainer)
    assert trainer.args.warmup_epochs * 800 == pytest.approx(2000)


def test_user_input_errors_are_one_line_naming_the_argument(tiny_data, tmp_path):
    messages = []
    for check in (
        lambda: require_checkpoint(str(tmp_path / "missing.pt")),
        lambda: require_model("no-such-model.yaml"),
        lambda: require_data(str(tmp_path / "missing.yaml")),
        lambda: require_data(str(tiny_data), splits=("test",)),
        lambda: require_same_classes({i: str(i) for i in range(10)}, require_data(str(tiny_data)), "best.pt", str(tiny_data)),
    ):
        with pytest.raises(DataError) as error:
            check()
        messages.append(str(error.value))
    assert all("\n" not in m and m.startswith("--") for m in messages), messages
    assert "nc=10" in messages[-1] and "nc=3" in messages[-1]


def test_missing_split_folder_is_named(tiny_data, tmp_path):
    data = tmp_path / "data.yaml"
    data.write_text(tiny_data.read_text().replace("val: images/val", "val: images/nowhere"))
    with pytest.raises(DataError, match="images not found.*nowhere"):
        require_data(str(data))


def test_model_names_resolve():
    assert require_model("lrs-detr-b.yaml").endswith("lrs-detr-b.yaml")
    assert require_model("rtdetr-l.yaml").endswith("rtdetr-l.yaml")  # Ultralytics' own configs still work


@pytest.mark.parametrize(
    ("env", "device", "expected"),
    [
        ({}, "0", "0"),  # a plain python train.py: untouched
        ({"WORLD_SIZE": "4", "LOCAL_WORLD_SIZE": "4", "LOCAL_RANK": "2", "RANK": "2"}, "", "0,1,2,3"),
        ({"WORLD_SIZE": "2", "LOCAL_WORLD_SIZE": "2", "LOCAL_RANK": "0", "RANK": "0"}, "4,5", "4,5"),
        ({"WORLD_SIZE": "8", "LOCAL_WORLD_SIZE": "4", "LOCAL_RANK": "1", "RANK": "5"}, "", "0,1,2,3"),  # 2nd of 2 machines
        ({"WORLD_SIZE": "2", "LOCAL_WORLD_SIZE": "1", "LOCAL_RANK": "0", "RANK": "0"}, "cpu", "cpu"),  # gloo
    ],
)
def test_torchrun_device(monkeypatch, env, device, expected):
    for name in ("WORLD_SIZE", "LOCAL_WORLD_SIZE", "LOCAL_RANK", "RANK"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    assert torchrun_device(device) == expected
    assert is_main_process() == (env.get("RANK", "0") == "0")


@pytest.mark.parametrize(("device", "world"), [("0", "4"), ("0,1,2,3,4,5,6,7", "8"), ("mps", "4")])
def test_torchrun_device_mismatch_is_an_error(monkeypatch, device, world):
    monkeypatch.setenv("WORLD_SIZE", world)
    monkeypatch.setenv("LOCAL_WORLD_SIZE", "4")
    monkeypatch.setenv("LOCAL_RANK", "0")
    with pytest.raises(DataError):
        torchrun_device(device)


def test_latency_summary():
    latency = Latency([10.0, 12.0, 14.0], batch=2, imgsz=640, device="cpu", dtype="fp32", parameters=15_594_146, gflops=67.72)
    assert latency.mean_ms == 12.0 and latency.fps == pytest.approx(2000 / 12)
    assert "15,594,146 parameters, 67.72 GFLOPs" in latency.summary() and "12.00 +/- 1.63 ms" in latency.summary()
