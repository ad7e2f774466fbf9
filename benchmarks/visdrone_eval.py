"""Time lrsdetr.eval.visdrone.evaluate on a VisDrone-val-sized set: 548 images, ~73 objects and 500 detections each.

Edit param_dict below, or override it with flags; `python benchmarks/visdrone_eval.py --help` says what it measures and lists
every flag (the same command is `lrsdetr bench visdrone-eval`; the logic is lrsdetr/bench/visdrone_eval.py).
"""

from lrsdetr.bench.visdrone_eval import COMMAND

param_dict = {"workdir": "/tmp/visdrone_eval_bench", "images": 548, "objects": 73, "detections": 500}

if __name__ == "__main__":
    raise SystemExit(COMMAND.execute(param_dict, COMMAND.doc))
