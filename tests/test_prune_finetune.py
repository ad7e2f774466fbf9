"""pruning.py end to end on tiny data (prune, fine-tune one epoch), and the pruned model through Ultralytics:
reload in a fresh process, validation, rectangular prediction, ONNX export, resume, a DDP worker, sparse learning."""

import subprocess
import sys
from pathlib import Path

import pytest
import torch
from script_runs import one_line_error, run_main
from test_prune import IMGSZ, run_ddp_worker, small_model, write_small_checkpoints

from lrsdetr import RTDETR
from lrsdetr.cfg import CFG_DIR
from lrsdetr.compress.finetune import prune_and_finetune, sl_hyp_file, sparse_learning
from lrsdetr.compress.prune import PruneSettings, prune
from lrsdetr.compress.prune_twins import Twin
from lrsdetr.models import LRSDETRTrainer
from lrsdetr.nn.detection_model import is_pruned
from lrsdetr.utils.errors import DataError

REPO = Path(__file__).resolve().parents[1]
TRAIN = {"imgsz": IMGSZ, "epochs": 1, "batch": 4, "workers": 0, "device": "cpu", "plots": False, "exist_ok": True}


def parameters(model: torch.nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


@pytest.fixture(scope="module")
def checkpoints(tiny_data, tmp_path_factory):
    return write_small_checkpoints(tmp_path_factory.mktemp("checkpoints"), tiny_data)


@pytest.fixture(scope="module")
def pruning_run(checkpoints, tiny_data, tmp_path_factory):
    """python pruning.py on the small model: l1 to a 1.3x speed-up, one fine-tuning epoch."""
    workdir = tmp_path_factory.mktemp("prune")
    flags = {"model": checkpoints[0], "data": tiny_data, "imgsz": IMGSZ, "epochs": 1, "batch": 4, "workers": 0,
             "device": "cpu", "project": "runs/prune", "name": "l1", "prune_method": "l1", "speed_up": 1.3, "scope": "blocks",
             "iterative_steps": 10, "warmup_iters": 2}  # a relative project lands where the script runs
    command = [sys.executable, str(REPO / "pruning.py"), *(f"--{k}={v}" for k, v in flags.items())]
    result = subprocess.run(command, cwd=workdir, capture_output=True, text=True, timeout=600)
    project = workdir / "runs" / "prune"
    assert result.returncode == 0, result.stderr[-3000:]
    return project, result.stdout


@pytest.mark.slow
def test_pruning_script_prunes_then_fine_tunes(pruning_run, checkpoints):
    project, stdout = pruning_run
    assert "l1 (blocks scope): speed-up 1.3" in stdout
    pruned = torch.load(project / "l1-pruning" / "pruned.pt", weights_only=False)["model"]
    best = torch.load(project / "l1" / "weights" / "best.pt", weights_only=False)["model"]
    assert is_pruned(best) and parameters(best) == parameters(pruned) < parameters(small_model())
    assert (project / "l1" / "results.csv").read_text().count("\n") == 2  # header and one epoch


@pytest.mark.slow
def test_fine_tuned_model_reloads_validates_predicts_and_exports_in_a_fresh_process(pruning_run, tiny_data):
    best = pruning_run[0] / "l1" / "weights" / "best.pt"
    image = next((tiny_data.parent / "images" / "val").glob("*.jpg"))
    code = (
        "import sys, numpy, onnxruntime\n"
        "from lrsdetr import RTDETR\n"
        "from lrsdetr.compress.prune import is_pruned\n"
        "model = RTDETR(sys.argv[1])\n"
        "assert is_pruned(model.model)\n"
        f"metrics = model.val(data=sys.argv[2], imgsz={IMGSZ}, batch=4, workers=0, device='cpu', plots=False)\n"
        f"boxes = model.predict(sys.argv[3], imgsz=({IMGSZ}, {IMGSZ + 32}), conf=0.0, verbose=False)[0].boxes\n"
        f"onnx = model.export(format='onnx', imgsz={IMGSZ})\n"
        "session = onnxruntime.InferenceSession(onnx)\n"
        f"out = session.run(None, {{session.get_inputs()[0].name: numpy.zeros((1, 3, {IMGSZ}, {IMGSZ}), numpy.float32)}})[0]\n"
        "print('MAP', metrics.box.map50, 'BOXES', len(boxes), 'ONNX', out.shape)\n"
    )
    result = subprocess.run([sys.executable, "-c", code, str(best), str(tiny_data), str(image)],
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "BOXES" in result.stdout and "ONNX (1, 50, 6)" in result.stdout


@pytest.mark.parametrize("flags, message", [
    (["--speed_up", "0.5"], "speed_up must be a finite number above 1, got 0.5"),
    (["--speed_up", "1"], "speed_up must be a finite number above 1, got 1"),
    (["--speed_up", "nan"], "speed_up must be a finite number above 1, got nan"),
    (["--prune_method", "lamb"], "unknown prune_method 'lamb'; valid: random, l1, lamp"),
    (["--scope", "all"], "unknown pruning scope 'all'; valid: paper, blocks"),
    (["--iterative_steps", "0"], "iterative_steps must be a whole number of at least 1, got 0"),
])
def test_pruning_script_refuses_a_bad_setting_in_one_line_before_any_work(flags, message, checkpoints, tiny_data, tmp_path,
                                                                           capsys, monkeypatch):
    """A real model and data, so that only the setting is wrong; nothing is loaded, pruned or written."""
    monkeypatch.chdir(tmp_path)
    status, err = run_main(capsys, monkeypatch, "pruning.py", "--model", checkpoints[0], "--data", tiny_data, "--imgsz",
                           IMGSZ, "--device", "cpu", *flags)
    assert one_line_error(status, err, message).startswith(f"error: {message}")
    assert not any(tmp_path.iterdir())


class Interrupt(Exception):
    pass


def interrupt_after_first_save(trainer):
    raise Interrupt


@pytest.mark.slow
def test_interrupted_fine_tuning_resumes_the_pruned_model(checkpoints, tiny_data, tmp_path):
    model = RTDETR(str(checkpoints[1]))
    model.add_callback("on_model_save", interrupt_after_first_save)
    with pytest.raises(Interrupt):
        model.train(data=str(tiny_data), **{**TRAIN, "epochs": 2}, project=str(tmp_path), name="run")
    last = tmp_path / "run" / "weights" / "last.pt"
    RTDETR(str(last)).train(resume=True)  # Ultralytics reloads through setup_model -> get_model(cfg=yaml, weights)
    resumed = torch.load(last, weights_only=False)
    assert resumed["epoch"] == -1 and "epoch,time" in (tmp_path / "run" / "results.csv").read_text()
    assert is_pruned(resumed["model"]) and parameters(resumed["model"]) == parameters(torch.load(checkpoints[1], weights_only=False)["model"])


@pytest.mark.slow
def test_ddp_worker_trains_the_pruned_model_from_its_checkpoint(checkpoints, tiny_data, tmp_path):
    """The worker loads the checkpoint itself (setup_model -> get_model) and must keep it pruned."""
    run_ddp_worker(LRSDETRTrainer(overrides={"model": str(checkpoints[1]), "data": str(tiny_data), **TRAIN,
                                             "project": str(tmp_path), "name": "ddp"}))
    best = torch.load(tmp_path / "ddp" / "weights" / "best.pt", weights_only=False)["model"]
    assert is_pruned(best) and parameters(best) == parameters(torch.load(checkpoints[1], weights_only=False)["model"])


def test_a_pruned_model_for_other_classes_is_refused(checkpoints, tiny_data, tmp_path):
    other = prune(small_model(nc=5), PruneSettings("l1", speed_up=1.1, imgsz=IMGSZ, iterative_steps=10, scope="blocks"))
    trainer = LRSDETRTrainer(overrides={"model": str(checkpoints[1]), "data": str(tiny_data), **TRAIN, "project": str(tmp_path)})
    with pytest.raises(ValueError, match="detects 5 classes but .* has 3"):
        trainer.get_model(cfg=other.yaml, weights=other)


@pytest.mark.slow
def test_sparse_learning_trains_in_the_pruning_view_and_gives_back_a_plain_model(checkpoints, tiny_data, tmp_path):
    model = torch.load(checkpoints[0], weights_only=False)["model"].float()
    args = {"model": str(checkpoints[0]), "data": str(tiny_data), **TRAIN, "project": str(tmp_path), "name": "sl", "amp": False}
    sparse = sparse_learning(model, PruneSettings("growing_reg", reg=1e-3, scope="blocks"), args)
    assert not any(isinstance(m, Twin) for m in sparse.modules())
    assert sparse.state_dict().keys() == model.state_dict().keys()
    pruned = prune(sparse, PruneSettings("growing_reg", speed_up=1.2, imgsz=IMGSZ, iterative_steps=10, scope="blocks"))
    assert parameters(pruned) < parameters(model)


# The seed README's pruning param_dict, copied as it is
SEED_PRUNING_PARAM_DICT = {
    # Basic parameters
    'model': 'runs/train/lrs-detr-b/weights/best.pt',
    'data': './dataset/data.yaml',
    'imgsz': 640,
    'epochs': 300,
    'batch': 8,
    'workers': 8,
    'cache': False,
    'device': '1',
    'project': 'runs/prune',
    'name': 'lamp_speedup1.35',

    # Pruning parameters
    'prune_method': 'lamp',  # Options: 'random', 'l1', 'lamp', 'slim', 'group_slim', 'group_norm', 'group_sl', 'growing_reg', 'group_hessian', 'group_taylor'
    'global_pruning': True,  # Whether to use global pruning
    'speed_up': 1.35,  # Pruning speedup ratio (pre-pruning FLOPs / post-pruning FLOPs)
    'reg': 0.0005,  # Regularization coefficient
    'sl_epochs': 500,  # Sparse learning iterations
    'sl_hyp': 'ultralytics/cfg/hyp.scratch.sl.yaml',  # Sparse learning hyperparameters
    'iterative_steps': 50  # Iterative pruning steps
}


@pytest.mark.slow
def test_the_seed_readmes_pruning_param_dict_runs_as_it_is(checkpoints, tiny_data, tmp_path, monkeypatch):
    """Only this machine's files and a tiny run replace the seed's values; every key stays."""
    monkeypatch.chdir(tmp_path)
    here = {"model": str(checkpoints[0]), "data": str(tiny_data), "imgsz": IMGSZ, "epochs": 1, "batch": 4,
            "workers": 0, "device": "cpu"}
    run = prune_and_finetune({**SEED_PRUNING_PARAM_DICT, **here})
    assert run == tmp_path / "runs" / "prune" / "lamp_speedup1.35"
    best = torch.load(run / "weights" / "best.pt", weights_only=False)["model"]
    record = best.yaml["pruned"]
    assert record["method"] == "lamp" and record["scope"] == "paper" and record["achieved_speed_up"] >= 1.35


def test_the_seeds_sl_hyp_path_is_the_packaged_file(tmp_path):
    assert sl_hyp_file("ultralytics/cfg/hyp.scratch.sl.yaml") == CFG_DIR / "hyp.scratch.sl.yaml"
    own = tmp_path / "hyp.yaml"
    own.write_text("lr0: 0.01\n")
    assert sl_hyp_file(str(own)) == own
    with pytest.raises(DataError, match="sl_hyp nope/hyp.yaml: no such file"):
        sl_hyp_file("nope/hyp.yaml")
