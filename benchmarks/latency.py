"""Batch-1 latency of LRS-DETR-B beside Ultralytics' RT-DETR-l and our RT-DETR-R18: PyTorch eager and ONNX Runtime.

`python benchmarks/latency.py --help` says what it measures and lists every flag and its default; the same command is
`lrsdetr bench latency` (its logic and defaults: lrsdetr/bench/latency.py).
"""

from lrsdetr.bench.latency import COMMAND

if __name__ == "__main__":
    raise SystemExit(COMMAND.execute(COMMAND.defaults, COMMAND.doc))
