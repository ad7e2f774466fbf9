"""Accuracy and CPU latency of one checkpoint in every format it exports to: docs/export.md's table of accuracy after export.

`python benchmarks/formats.py --help` says what it measures and lists every flag and its default; the same command is
`lrsdetr bench formats` (its logic and defaults: lrsdetr/bench/formats.py).
"""

from lrsdetr.bench.formats import COMMAND

if __name__ == "__main__":
    raise SystemExit(COMMAND.execute(COMMAND.defaults, COMMAND.doc))
