"""Accuracy side by side: train every model under one schedule on one dataset, score each with COCO's metrics.

Edit param_dict below, or override it with flags; `python benchmarks/accuracy.py --help` says what it measures and lists
every flag (the same command is `lrsdetr bench accuracy`; the logic is lrsdetr/bench/accuracy.py).
"""

from lrsdetr.bench.accuracy import COMMAND

param_dict = {
    "models": "lrs-detr-b,rtdetr-r18",  # trained once per seed
    "others": "lrs-detr-b-plain",  # trained with the first seed only
    "seeds": "0,1,2",
    "epochs": 20,
    "imgsz": 128,
    "batch": 4,
    "schedule": "auto",  # 'recipe' (the authors'), 'quick' (the quick start's CPU schedule) or 'auto': quick on the synthetic set
    "data": "",  # a data.yaml; empty: the synthetic drone set below, made once under `out`
    "train_images": 128,  # synthetic set: training images
    "val_images": 48,  # synthetic set: validation images
    "synth_size": 128,  # synthetic set: image side in pixels (objects keep their pixel size: most are COCO-small)
    "device": "cpu",  # '0' or '0,1,2,3' (DDP) for GPUs
    "workers": 2,
    "split": "val",  # the split scored ('test' for the paper's VisDrone-DET test-dev numbers)
    "max_dets": 100,  # detections per image scored (COCO 100; VisDrone's protocol 500)
    "threads": 2,  # CPU threads for the latency rounds
    "latency_rounds": 10,
    "curves": True,  # validate after every epoch: learning curves (accuracy_curves.png); the last epoch is scored either way
    "out": "runs/accuracy",
    "quick": False,  # smoke run (QUICK: 16/8 images of 128 px, 1 epoch, lrs-detr-b and rtdetr-r18, seeds 0,1)
}

if __name__ == "__main__":
    raise SystemExit(COMMAND.execute(param_dict, COMMAND.doc))
