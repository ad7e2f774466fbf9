"""Time lrsdetr.eval.visdrone.evaluate on a VisDrone-val-sized set: 548 images, ~73 objects and 500 detections each.

`python benchmarks/visdrone_eval.py --help` says what it measures and lists every flag and its default; the same command is
`lrsdetr bench visdrone-eval` (its logic and defaults: lrsdetr/bench/visdrone_eval.py).
"""

from lrsdetr.bench.visdrone_eval import COMMAND

if __name__ == "__main__":
    raise SystemExit(COMMAND.execute(COMMAND.defaults, COMMAND.doc))
