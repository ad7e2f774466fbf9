"""Score a trained checkpoint on a split of a dataset and save COCO-format predictions (predictions.json).

Edit param_dict below, or override it with flags; `python val.py --help` lists every flag, its
default and examples (the same command is `lrsdetr val` for pip installs).
"""

from lrsdetr.commands import run_root_script

param_dict = {
    "weights": "runs/train/lrs-detr-b/weights/best.pt",
    "data": "dataset/data.yaml",
    "split": "test",  # train, val or test, as named in data.yaml
    "imgsz": 640,
    "batch": 8,
    "conf": 0.001,  # keep low-score boxes: AP integrates over all of them
    "max_det": 300,  # RT-DETR's 300 queries
    "device": "",
    "half": False,  # 16-bit floats: fp16 on CUDA, bf16 on CPU (emulated and slow without bf16 units); False: fp32
    "compile": False,  # True: torch.compile the PyTorch model (the first pass compiles, a minute or more)
    "save_json": True,  # predictions.json, COCO format, for get_COCO_metrics.py
    "save_visdrone": False,  # also write visdrone_results/<image>.txt (challenge format); always on VisDrone data
    "visdrone_anno": None,  # the split's original VisDrone annotations; None: made from the YOLO labels
    "plots": True,
    "project": "runs/val",
    "name": "exp",
    "exist_ok": False,
    "trust_checkpoint": False,  # True: load checkpoints from elsewhere unrestricted (their code may run)
}

if __name__ == "__main__":
    raise SystemExit(run_root_script("val", param_dict))
