"""Export a trained LRS-DETR (or any RT-DETR) to ONNX, TensorRT, OpenVINO, CoreML, ... with Ultralytics' exporter.

Examples:
  python export.py --weights runs/train/lrs-detr-b/weights/best.pt
  python export.py --weights runs/train/lrs-detr-b/weights/best.pt --dynamic True --batch 8
  python export.py --weights runs/train/lrs-detr-b/weights/best.pt --format engine --half True --device 0
  python export.py --weights lrs-detr-b.yaml --imgsz 320   # an untrained config works too (file lands in the working folder)
Prints where the file went; for ONNX also one line comparing ONNX Runtime's detections with PyTorch's.
"""

from lrsdetr.data.files import run_script
from lrsdetr.tools.export import main
from lrsdetr.utils.cli import parse_overrides

param_dict = {
    "weights": "runs/train/lrs-detr-b/weights/best.pt",  # a .pt, or a config name (lrs-detr-b.yaml) for random weights
    "format": "onnx",  # onnx, engine (TensorRT, needs a GPU), openvino, coreml, torchscript, ...
    "imgsz": 640,
    "half": False,  # fp16: traced in fp16 on a GPU; on CPU the ONNX graph is converted to fp16 after export
    "dynamic": False,  # dynamic batch, height and width (ONNX, TensorRT with batch as the maximum, OpenVINO)
    "simplify": True,  # onnxslim the ONNX graph (also the graph TensorRT builds from)
    "opset": None,  # ONNX opset; None: the newest the installed torch/onnx pair supports (RT-DETR needs >= 16)
    "batch": 1,
    "device": None,  # None: CPU ('engine' picks GPU 0); '0' for the first GPU
}

if __name__ == "__main__":
    raise SystemExit(run_script(main, parse_overrides(param_dict, __doc__)))
