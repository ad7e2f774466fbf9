"""Track objects across the frames of videos and VisDrone-MOT sequences (whole-frame or sliced detection, then
ByteTrack or BoT-SORT); write VisDrone-MOT result files, drawn videos with IDs and trails, a per-class summary, and
counts across a line.

Edit param_dict below, or override it with flags; `python track.py --help` lists every flag, its default and
examples (the same command is `lrsdetr track` for pip installs).
"""

from lrsdetr.commands import run_root_script

param_dict = {
    "weights": "runs/train/lrs-detr-b/weights/best.pt",
    "source": "dataset/sequences",  # video, folder of frames (a VisDrone-MOT sequence), folder of those, or glob
    "tracker": "bytetrack",  # 'bytetrack' or 'botsort' (Ultralytics' settings), or a tracker YAML of your own
    "imgsz": 640,
    "conf": 0.1,  # detection threshold; low, as Ultralytics' track mode (ByteTrack also uses weak boxes)
    "classes": None,  # model classes to track, e.g. '3,4,5'; None: all
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
    "fps": None,  # frame rate of the drawn videos; None: a video's own, 30 for folders of frames
    "line": None,  # 'x1,y1,x2,y2': count tracks crossing this line, in and out per class
    "save": True,  # drawn videos with IDs and trails
    "trail": 30,  # frames of trail drawn behind each track (0: none)
    "line_width": None,
    "project": "runs/track",
    "name": "exp",
    "exist_ok": False,
    "resume": False,  # continue an interrupted run (same --name): finished sequences are kept
    "trust_checkpoint": False,  # True: load checkpoints from elsewhere unrestricted (their code may run)
}

if __name__ == "__main__":
    raise SystemExit(run_root_script("track", param_dict))
