"""The whole compression chain on the synthetic drone set, side by side, in one command.

`python benchmarks/compression.py --help` says what it measures and lists every flag and its default; the same command is
`lrsdetr bench compression` (its logic and defaults: lrsdetr/bench/compression.py).
"""

from lrsdetr.bench.compression import COMMAND

if __name__ == "__main__":
    raise SystemExit(COMMAND.execute(COMMAND.defaults, COMMAND.doc))
