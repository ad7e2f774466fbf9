"""LRS-DETR: small-object detection for low-altitude drone images, on top of Ultralytics."""

import os

# Nothing in this toolkit needs the network; keep Ultralytics from trying (fonts, weights, telemetry).
# Set YOLO_OFFLINE=0 to let it go online.
os.environ.setdefault("YOLO_OFFLINE", "1")

__version__ = "0.1.0"
