"""Distillation of the pruned small model from the unpruned one: one epoch per kd_loss_type on tiny data, the
teacher frozen, the distillation's layers trained, the settings through a DDP worker, and the clear errors."""

from dataclasses import asdict, fields

import pytest
import torch
from script_runs import one_line_error, run_main
from test_prune import IMGSZ, run_ddp_worker, small_model, write_small_checkpoints

from lrsdetr.compress.distill import DistillationSettings, LRSDETRDistillationModel, LRSDETRDistillTrainer, distill
from lrsdetr.compress.finetune import save_checkpoint
from lrsdetr.nn.detection_model import is_pruned
from lrsdetr.utils.errors import DataError

TRAIN = {"imgsz": IMGSZ, "epochs": 1, "batch": 4, "workers": 0, "device": "cpu", "plots": False, "exist_ok": True,
         "warmup_iters": 2}


@pytest.fixture(scope="module")
def checkpoints(tiny_data, tmp_path_factory):
    return write_small_checkpoints(tmp_path_factory.mktemp("checkpoints"), tiny_data)


def params(checkpoints, tiny_data, project, **settings):
    return {"model": str(checkpoints[1]), "teacher_weights": str(checkpoints[0]), "data": str(tiny_data),
            "project": str(project), "name": "kd", **TRAIN, **settings}


def loaded(path):
    return torch.load(path, weights_only=False)["model"]


@pytest.mark.slow
@pytest.mark.parametrize("settings", [
    {"kd_loss_type": "logical", "logical_loss_type": "mlssd", "kd_loss_decay": "cosine"},
    {"kd_loss_type": "feature", "feature_loss_type": "cwd", "feature_loss_ratio": 1.0},
    {"kd_loss_type": "all", "logical_loss_type": "logical", "feature_loss_type": "mgd", "kd_loss_decay": "linear_epoch"},
], ids=["logical", "feature", "all"])
def test_one_epoch_of_distillation_gives_the_pruned_student_alone(checkpoints, tiny_data, tmp_path, monkeypatch, settings):
    monkeypatch.chdir(tmp_path)  # a relative project lands in the working folder, as in train.py
    run = distill(params(checkpoints, tiny_data, "runs/distill", **settings))
    assert run == tmp_path / "runs" / "distill" / "kd"
    best = loaded(run / "weights" / "best.pt")
    assert type(best).__name__ == "LRSDETRDetectionModel" and is_pruned(best)
    header, row = (run / "results.csv").read_text().splitlines()
    kd = float(row.split(",")[header.split(",").index("train/kd_loss")])
    assert kd > 0


def test_teacher_stays_frozen_and_the_adapters_learn(checkpoints):
    student, teacher = loaded(checkpoints[1]).float(), loaded(checkpoints[0]).float()
    student.nc = 3  # what Ultralytics' trainer sets before it trains
    settings = DistillationSettings(kd_loss_type="all", feature_loss_type="mimic")
    model = LRSDETRDistillationModel(student, teacher, settings, IMGSZ).train()
    batch = {"img": torch.rand(2, 3, IMGSZ, IMGSZ), "cls": torch.tensor([[0.0], [2.0]]),
             "bboxes": torch.tensor([[0.5, 0.5, 0.3, 0.3], [0.4, 0.6, 0.2, 0.2]]), "batch_idx": torch.tensor([0.0, 1.0])}
    loss, items = model(batch)
    loss.backward()
    assert items["kd_loss"] > 0 and not teacher.training and teacher.model[-1].training is False
    assert all(p.grad is None and not p.requires_grad for p in teacher.parameters())
    adapters = list(model.projector.parameters())
    assert adapters and all(p.grad is not None for p in adapters)  # student widths differ: 1x1 adapters
    assert {id(p) for p in adapters} <= {id(p) for p in model.parameters()}  # what Ultralytics' optimizer gets


@pytest.mark.slow
def test_ddp_worker_gets_the_distillation_settings(checkpoints, tiny_data, tmp_path):
    """The worker rebuilds the trainer from its arguments alone: the settings must be among them."""
    overrides = params(checkpoints, tiny_data, tmp_path, kd_loss_type="feature", feature_loss_type="sp", name="ddp")
    overrides.pop("warmup_iters")
    run_ddp_worker(LRSDETRDistillTrainer(overrides=overrides))
    assert "kd_loss" in (tmp_path / "ddp" / "results.csv").read_text()
    saved = torch.load(tmp_path / "ddp" / "weights" / "best.pt", weights_only=False)
    assert is_pruned(saved["model"]) and "kd_loss_type" not in saved["train_args"]  # final checkpoints: Ultralytics keys


@pytest.mark.parametrize("settings, message", [
    ({"teacher_kd_layers": "21, 24", "student_kd_layers": "21, 24, 27"}, "must list the same number of layers"),
    ({"kd_loss_type": "features"}, "unknown kd_loss_type 'features'"),
    ({"kd_loss_decay": "step"}, "unknown kd_loss_decay 'step'"),
    ({"kd_loss_type": "feature", "teacher_kd_layers": "21, 24, 28", "student_kd_layers": "21, 24, 27"}, r"layers before its decoder are 0..27"),
    ({"kd_loss_type": "feature", "teacher_kd_layers": "24, 21", "student_kd_layers": "21, 24"}, "must match in size"),
    ({"teacher_weights": "missing.pt"}, "teacher_weights missing.pt: no such checkpoint"),
])
def test_mismatches_stop_before_training(checkpoints, tiny_data, tmp_path, settings, message):
    with pytest.raises(DataError, match=message):
        distill(params(checkpoints, tiny_data, tmp_path, **settings))
    assert not (tmp_path / "kd").exists()


@pytest.mark.parametrize("flags, message", [
    (["--logical_loss_ratio", "-1"], "logical_loss_ratio must be a finite number of at least 0, got -1"),
    (["--logical_loss_ratio", "nan"], "logical_loss_ratio must be a finite number of at least 0, got nan"),
    (["--kd_loss_type", "feature", "--feature_loss_ratio", "-0.05"], "feature_loss_ratio must be a finite number of at least 0, got -0.05"),
    (["--feature_loss_ratio", "inf"], "feature_loss_ratio must be a finite number of at least 0, got inf"),
])
def test_distill_script_refuses_negative_or_non_finite_loss_ratios_in_one_line(flags, message, checkpoints, tiny_data,
                                                                                tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    status, err = run_main(capsys, monkeypatch, "distill.py", "--model", checkpoints[1], "--teacher_weights", checkpoints[0],
                           "--data", tiny_data, "--imgsz", IMGSZ, "--device", "cpu", *flags)
    assert one_line_error(status, err, message) == f"error: {message}"
    assert not any(tmp_path.iterdir())


@pytest.mark.parametrize("teacher_cfg, kd_loss_type, message", [
    ({"nc": 4}, "feature", "the teacher detects 4 classes, the student 3"),
    ({"decoder_layers": 2}, "logical", "the student has 3 decoder layers, the teacher 2"),
])
def test_teacher_of_another_kind_is_refused(checkpoints, tiny_data, tmp_path, teacher_cfg, kd_loss_type, message):
    teacher = save_checkpoint(small_model(**teacher_cfg), tmp_path / "teacher.pt", {})
    with pytest.raises(DataError, match=message):
        distill({**params(checkpoints, tiny_data, tmp_path, kd_loss_type=kd_loss_type), "teacher_weights": str(teacher)})
    assert not (tmp_path / "kd").exists()


def test_every_setting_given_reaches_the_trainer(checkpoints, tiny_data, tmp_path):
    """Each setting, set away from its default, comes back from the trainer's arguments (what DDP workers and
    checkpoints carry); Ultralytics' own argument check does not see them."""
    given = DistillationSettings(
        teacher_weights=str(checkpoints[0]), kd_loss_type="all", logical_loss_type="logical", logical_loss_ratio=0.5,
        feature_loss_type="sp", feature_loss_ratio=2.0, teacher_kd_layers="21, 24", student_kd_layers="24, 27",
        kd_loss_decay="cosine", kd_loss_epoch=0.5, mlssd_level_weights="0.2, 0.5, 0.5, 1.0")
    assert all(getattr(given, f.name) != f.default for f in fields(DistillationSettings))
    overrides = params(checkpoints, tiny_data, tmp_path)
    overrides.pop("warmup_iters")  # distill() takes it, the trainer gets warmup_epochs
    trainer = LRSDETRDistillTrainer(overrides={**overrides, **asdict(given)})
    assert DistillationSettings.from_args(trainer.args) == given


# The seed README's distillation param_dict, copied as it is
SEED_DISTILL_PARAM_DICT = {
    # Basic parameters
    'model': 'runs/prune/lamp_speedup1.35/weights/best.pt',  # Pruned model
    'data': 'dataset/data.yaml',
    'imgsz': 640,
    'epochs': 300,
    'batch': 8,
    'workers': 8,
    'device': '6',
    'project': 'runs/distill',
    'name': 'lamp1.35_logical_mlssd_0.0001',

    # Distillation parameters
    'prune_model': True,
    'teacher_weights': 'runs/train/lrs-detr-b/weights/best.pt',
    'teacher_cfg': 'ultralytics/cfg/models/lrs-detr/lrs-detr-b.yaml',
    'kd_loss_type': 'feature',  # Options: 'logical', 'feature', 'all'
    'kd_loss_decay': 'constant',  # Options: 'cosine', 'linear', 'cosine_epoch', 'linear_epoch', 'constant'
    'kd_loss_epoch': 1.0,

    # Logical distillation parameters
    'logical_loss_type': 'mlssd',  # Use MLSSD, option: logical
    'logical_loss_ratio': 0.0001,

    # Feature distillation parameters
    'teacher_kd_layers': '21, 24, 27',
    'student_kd_layers': '21, 24, 27',
    'feature_loss_type': 'cwd',  # Options: mimic, mgd, cwd, chsim, sp
    'feature_loss_ratio': 0.05
}


@pytest.mark.slow
def test_the_seed_readmes_distillation_param_dict_runs_as_it_is(checkpoints, tiny_data, tmp_path, monkeypatch):
    """Only this machine's files and a tiny run replace the seed's values; prune_model and teacher_cfg stay."""
    monkeypatch.chdir(tmp_path)
    here = {"model": str(checkpoints[1]), "teacher_weights": str(checkpoints[0]), "data": str(tiny_data),
            "imgsz": IMGSZ, "epochs": 1, "batch": 4, "workers": 0, "device": "cpu"}
    run = distill({**SEED_DISTILL_PARAM_DICT, **here})
    assert run == tmp_path / "runs" / "distill" / "lamp1.35_logical_mlssd_0.0001"
    header, row = (run / "results.csv").read_text().splitlines()
    assert float(row.split(",")[header.split(",").index("train/kd_loss")]) > 0


def test_mlssd_level_weights_must_fit_the_levels(checkpoints, tiny_data, tmp_path):
    with pytest.raises(DataError, match="mlssd_level_weights has 3 weights; MLSSD distils 4 levels"):
        distill(params(checkpoints, tiny_data, tmp_path, mlssd_level_weights="0.5, 0.5, 1.0"))
    with pytest.raises(DataError, match="mlssd_level_weights 'a, b': expected numbers"):
        distill(params(checkpoints, tiny_data, tmp_path, mlssd_level_weights="a, b"))


def test_distillation_adds_the_batch_size_times_the_kd_loss(checkpoints):
    """The authors' trainer: detection loss + batch size x (ratio-weighted) distillation loss."""
    student, teacher = loaded(checkpoints[1]).float(), loaded(checkpoints[0]).float()
    student.nc = 3
    model = LRSDETRDistillationModel(student, teacher, DistillationSettings(kd_loss_type="logical"), IMGSZ).train()
    batch = {"img": torch.rand(3, 3, IMGSZ, IMGSZ), "cls": torch.tensor([[0.0], [2.0]]),
             "bboxes": torch.tensor([[0.5, 0.5, 0.3, 0.3], [0.4, 0.6, 0.2, 0.2]]), "batch_idx": torch.tensor([0.0, 2.0])}
    torch.manual_seed(0)
    loss, items = model(batch)
    torch.manual_seed(0)
    detection, _ = student.loss(batch)
    assert items["kd_loss"].item() > 0
    assert loss.item() == pytest.approx(detection.item() + items["kd_loss"].item(), rel=1e-5)
    kd_alone = model.kd_loss(*[model._student_feats[3], model._teacher_feats[3]], None, None, 2)[0]
    assert items["kd_loss"].item() == pytest.approx(3 * kd_alone.item(), rel=1e-5)
