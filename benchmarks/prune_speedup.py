"""LRS-DETR-B -> LRS-DETR-T by LAMP pruning at 640 px: the speed-up reached, and the speed-up that gives the paper's T.

`python benchmarks/prune_speedup.py --help` says what it measures and lists every flag and its default; the same command is
`lrsdetr bench prune-speedup` (its logic and defaults: lrsdetr/bench/prune_speedup.py).
"""

from lrsdetr.bench.prune_speedup import COMMAND

if __name__ == "__main__":
    raise SystemExit(COMMAND.execute(COMMAND.defaults, COMMAND.doc))
