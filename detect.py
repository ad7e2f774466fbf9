"""Detect objects in images, folders and videos; save drawn results, YOLO txt labels and a COCO predictions.json.

Edit param_dict below, or override it with flags; `python detect.py --help` lists every flag, its
default and examples (the same command is `lrsdetr detect` for pip installs).
"""

from lrsdetr.commands import run_root_script

param_dict = {
    "weights": "runs/train/lrs-detr-b/weights/best.pt",
    "source": "dataset/images/test",  # image, video, folder of them, or glob
    "imgsz": 640,
    "conf": 0.25,
    "max_det": 300,
    "device": "",  # '0' or 'cpu'; '' = first GPU, else CPU
    "half": False,  # 16-bit floats: fp16 on CUDA, bf16 on CPU (emulated and slow without bf16 units); False: fp32
    "compile": False,  # True: torch.compile the PyTorch model (the first pass compiles, a minute or more)
    "slice": False,  # sliced inference (SAHI) for large frames
    "slice_size": 640,  # tile side in frame pixels
    "slice_overlap": 0.2,  # share of a tile overlapping its neighbour
    "slice_full_frame": True,  # add one whole-frame pass, for objects larger than a tile
    "slice_merge": "NMS",  # duplicates across tiles: NMS drops the weaker box; GREEDYNMM, NMM merge boxes
    "slice_match": "IOU",  # overlap measure for that: IOU, or IOS (intersection over the smaller box)
    "slice_batch": 4,  # tiles per forward pass (1: one at a time); the same boxes, sooner
    "save": True,  # drawn images / videos
    "save_txt": True,  # labels/<image>.txt: class x y w h (normalised)
    "save_conf": True,  # ... and the score
    "save_json": True,  # predictions.json (COCO results format)
    "save_visdrone": False,  # visdrone_results/<image>.txt: VisDrone challenge format (classes 0..9 -> 1..10, <=500)
    "line_width": None,
    "vid_stride": 1,
    "project": "runs/detect",
    "name": "exp",
    "exist_ok": False,
    "trust_checkpoint": False,  # True: load checkpoints from elsewhere unrestricted (their code may run)
}

if __name__ == "__main__":
    raise SystemExit(run_root_script("detect", param_dict))
