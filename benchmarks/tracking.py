"""Tracking side by side on drone video: detectors x trackers x whole-frame / sliced, scored by VisDrone-MOT's protocol.

`python benchmarks/tracking.py --help` says what it measures and lists every flag and its default; the same command is
`lrsdetr bench tracking` (its logic and defaults: lrsdetr/bench/tracking.py).
"""

from lrsdetr.bench.tracking import COMMAND

if __name__ == "__main__":
    raise SystemExit(COMMAND.execute(COMMAND.defaults, COMMAND.doc))
