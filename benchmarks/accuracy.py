"""Accuracy side by side: train every model under one schedule on one dataset, score each with COCO's metrics.

`python benchmarks/accuracy.py --help` says what it measures and lists every flag and its default; the same command is
`lrsdetr bench accuracy` (its logic and defaults: lrsdetr/bench/accuracy.py).
"""

from lrsdetr.bench.accuracy import COMMAND

if __name__ == "__main__":
    raise SystemExit(COMMAND.execute(COMMAND.defaults, COMMAND.doc))
