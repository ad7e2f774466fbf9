"""Which layers lose accuracy in bf16: a trained checkpoint scored with one layer at a time in bf16.

`python benchmarks/bf16_scan.py --help` says what it measures and lists every flag and its default; the same command is
`lrsdetr bench bf16` (its logic and defaults: lrsdetr/bench/bf16_scan.py).
"""

from lrsdetr.bench.bf16_scan import COMMAND

if __name__ == "__main__":
    raise SystemExit(COMMAND.execute(COMMAND.defaults, COMMAND.doc))
