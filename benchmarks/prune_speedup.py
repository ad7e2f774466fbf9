"""LRS-DETR-B -> LRS-DETR-T by LAMP pruning at 640 px: the speed-up reached, parameters and GFLOPs of the fused

Edit param_dict below, or override it with flags; `python benchmarks/prune_speedup.py --help` says what it measures and lists
every flag (the same command is `lrsdetr bench prune-speedup`; the logic is lrsdetr/bench/prune_speedup.py).
"""

from lrsdetr.bench.prune_speedup import COMMAND

param_dict = {
    "weights": "",  # a trained LRS-DETR-B checkpoint ('' = seed-0 initialisation, nc=10)
    "speed_up": 1.35,
    "scope": "paper",  # paper (what the authors kept whole) or blocks
}

if __name__ == "__main__":
    raise SystemExit(COMMAND.execute(param_dict, COMMAND.doc))
