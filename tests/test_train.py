"""One epoch of training + validation on CPU, offline; the checkpoint reloads in a fresh process and predicts."""

import subprocess
import sys

import pytest
import torch

from lrsdetr import RTDETR
from lrsdetr.models.recipe import TRAIN_RECIPE, WARMUP_ITERATIONS


@pytest.fixture(scope="module")
def trained(tiny_data, tmp_path_factory):
    project = tmp_path_factory.mktemp("runs")
    model = RTDETR("lrs-detr-b.yaml")
    metrics = model.train(
        data=str(tiny_data), epochs=1, imgsz=128, batch=4, workers=0, device="cpu",
        project=str(project), name="b", exist_ok=True, plots=False, amp=False, verbose=False,
    )
    return project / "b" / "weights", metrics


@pytest.mark.slow
def test_training_writes_checkpoints_and_metrics(trained):
    weights, metrics = trained
    assert (weights / "best.pt").is_file() and (weights / "last.pt").is_file()
    assert "metrics/mAP50-95(B)" in metrics.results_dict


@pytest.mark.slow
@pytest.mark.parametrize("importer", ["from lrsdetr import RTDETR", "from ultralytics import RTDETR"])
def test_checkpoint_reloads_in_a_fresh_process(trained, tiny_data, importer):
    """A fresh interpreter loads best.pt (our classes unpickle by module path) and predicts."""
    weights, _ = trained
    image = next((tiny_data.parent / "images" / "val").glob("*.jpg"))
    code = (
        f"{importer}\nimport sys\n"
        "m = RTDETR(sys.argv[1])\n"
        "r = m.predict(sys.argv[2], imgsz=128, conf=0.0, verbose=False)[0]\n"
        "print('TYPE', type(m.model).__name__, 'BOXES', len(r.boxes))\n"
    )
    out = subprocess.run([sys.executable, "-c", code, str(weights / "best.pt"), str(image)], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-3000:]
    assert "TYPE LRSDETRDetectionModel BOXES" in out.stdout
    assert int(out.stdout.split("BOXES")[1]) > 0


@pytest.mark.slow
def test_val_info_fuse_through_the_wrapper(trained, tiny_data, tmp_path):
    """val() scores every box of the val labels and gives best.pt the mAP its training's final validation gave it."""
    weights, train_metrics = trained
    model = RTDETR(str(weights / "best.pt"))
    layers, params, *_ = model.info()
    assert layers > 0 and params > 10_000_000
    metrics = model.val(data=str(tiny_data), imgsz=128, batch=4, workers=0, device="cpu", plots=False, verbose=False,
                        project=str(tmp_path))  # not Ultralytics' default, a folder inside the installed package
    boxes = sum(len(f.read_text().splitlines()) for f in (tiny_data.parent / "labels" / "val").glob("*.txt"))
    assert metrics.nt_per_class.sum() == boxes
    assert metrics.box.map == pytest.approx(train_metrics.results_dict["metrics/mAP50-95(B)"], abs=1e-6)
    model.fuse()
    assert model.model.is_fused()


class _Stop(Exception):
    """Raised when the first epoch starts: the trainer is set up (arguments, run folder, warm-up), nothing trained."""


def _stop(trainer):
    raise _Stop


def _set_up_trainer(config: str, data, **kwargs):
    model = RTDETR(config)
    model.add_callback("on_train_epoch_start", _stop)
    with pytest.raises(_Stop):
        model.train(data=str(data), imgsz=64, batch=4, workers=0, device="cpu", plots=False, **kwargs)
    return model.trainer


def test_python_training_of_our_config_takes_the_recipe_and_runs_train(tiny_data, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    trainer = _set_up_trainer("lrs-detr-b.yaml", tiny_data, epochs=1, project="runs/train", name="b")
    assert trainer.save_dir == tmp_path / "runs" / "train" / "b"  # as the seed's scripts, not runs/detect/runs/train
    assert {key: getattr(trainer.args, key) for key in TRAIN_RECIPE} == {**TRAIN_RECIPE, "epochs": 1, "imgsz": 64, "batch": 4}
    assert trainer.args.warmup_epochs == pytest.approx(WARMUP_ITERATIONS / len(trainer.train_loader))
    # What Ultralytics builds from it (ARCHITECTURE.md section 4): AdamW at 1e-4, beta1 0.9, weight decay 1e-4 once
    # Ultralytics has scaled it by batch and accumulation, a constant rate, fp32, no early stop.
    optimizer = trainer.optimizer
    assert type(optimizer) is torch.optim.AdamW
    assert [(g["initial_lr"], g["betas"][0]) for g in optimizer.param_groups] == [(1e-4, 0.9)] * len(optimizer.param_groups)
    assert sorted(g["weight_decay"] for g in optimizer.param_groups)[-1] == pytest.approx(1e-4)
    assert [trainer.lf(epoch) for epoch in range(trainer.epochs + 1)] == [1.0] * (trainer.epochs + 1)
    assert not trainer.amp and trainer.stopper.patience == float("inf")


def test_python_training_keeps_what_the_caller_gives(tiny_data, tmp_path):
    trainer = _set_up_trainer("rtdetr-r18.yaml", tiny_data, project=str(tmp_path), lr0=5e-4, warmup_epochs=1.0, optimizer="SGD")
    assert (trainer.args.lr0, trainer.args.warmup_epochs, trainer.args.optimizer) == (5e-4, 1.0, "SGD")
    assert (trainer.args.lrf, trainer.args.epochs, trainer.args.amp) == (1.0, 300, False)  # the rest from the recipe


def test_python_training_of_a_stock_config_keeps_ultralytics_defaults(tiny_data, tmp_path):
    trainer = _set_up_trainer("rtdetr-l.yaml", tiny_data, project=str(tmp_path), epochs=1)
    args = trainer.args
    assert (args.lrf, args.weight_decay, args.mosaic, args.patience, args.warmup_epochs) == (0.01, 0.0005, 1.0, 100, 3.0)
