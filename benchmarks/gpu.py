"""GPU figures in one short run: inference latency and FPS by dtype and batch, and AMP training steps.

`python benchmarks/gpu.py --help` says what it measures and lists every flag and its default; the same command is
`lrsdetr bench gpu` (its logic and defaults: lrsdetr/bench/gpu.py).
"""

from lrsdetr.bench.gpu import COMMAND

if __name__ == "__main__":
    raise SystemExit(COMMAND.execute(COMMAND.defaults, COMMAND.doc))
