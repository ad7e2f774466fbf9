"""benchmarks/gpu.py's CPU dry run, as gpu.sh runs it before a GPU session: every section it prints runs here, so a
session with a GPU spends its minutes measuring, not debugging."""

from lrsdetr.bench import gpu, latency


def test_the_dry_run_prints_every_section(capsys):
    params = {**gpu.DEFAULTS, "imgsz": 64, "batches": "1,2", "dtypes": "fp32,fp16", "iterations": 1, "warmup": 0, "train_iters": 1,
              "train_batch": 2, "train_imgsz": 64, "compile": False, "sliced": True}
    gpu.main(params)
    out = capsys.readouterr().out
    assert "fp16 inference: CUDA only, skipped on cpu" in out
    for batch in (1, 2):
        section = out.split(f"batch {batch}, 64x64, cpu")[1].splitlines()
        assert section[1].split() == ["model", "fp32"]
        assert [row[:26].strip() for row in section[2:5]] == list(latency.MODELS)
    sliced = out.split("sliced inference on cpu")[1].splitlines()
    assert [row.split("  ")[0] for row in sliced[2:4]] == [latency.OURS, latency.R18]
    assert all(row.count("frames/s") == 2 for row in sliced[2:4])
    assert "training LRS-DETR-B: 1 iterations, batch 2, 64 px, AMP bfloat16, cpu" in out and "0 non-finite losses" in out
