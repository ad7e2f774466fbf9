"""VisDrone-MOT's own protocol, as the official toolkit computes it (Task 4B: CLEAR-MOT and identity measures;
Task 4A: trajectory AP), with HOTA, DetA and AssA beside it (trackeval).

Edit param_dict below, or override it with flags; `python get_VisDrone_MOT_metrics.py --help` lists every flag, its
default and examples (the same command is `lrsdetr mot-metrics` for pip installs).
"""

from lrsdetr.commands import run_root_script

param_dict = {
    "data": None,  # a VisDrone-MOT folder with sequences/ and annotations/
    "anno_dir": None,  # annotations, <sequence>.txt (default: --data's annotations/)
    "seq_dir": None,  # sequences, one folder of numbered frames each (default: --data's sequences/)
    "res_dir": None,  # tracking results, <sequence>.txt: frame,id,x,y,w,h,score,class,-1,-1 (track.py's <run>/mot)
}

if __name__ == "__main__":
    raise SystemExit(run_root_script("mot-metrics", param_dict))
