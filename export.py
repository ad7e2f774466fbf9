"""Export a trained LRS-DETR (or any RT-DETR) to ONNX, TensorRT, OpenVINO, CoreML, ... with Ultralytics' exporter.

Examples:
  python export.py --weights runs/train/lrs-detr-b/weights/best.pt
  python export.py --weights runs/train/lrs-detr-b/weights/best.pt --dynamic True --batch 8
  python export.py --weights runs/train/lrs-detr-b/weights/best.pt --format engine --half True --device 0
  python export.py --weights lrs-detr-b.yaml --imgsz 320   # an untrained config works too (file lands in the working folder)
  python export.py --weights runs/train/lrs-detr-b/weights/best.pt --check_map True --data dataset/data.yaml
  python export.py --weights runs/train/lrs-detr-b/weights/best.pt --int8 True --data dataset/data.yaml --format openvino
Prints where the file went; for ONNX also one line comparing ONNX Runtime's detections with PyTorch's. With
--check_map True it scores the export and the checkpoint on the val split of --data (val.py's validation and
COCO summary) and warns when the export's AP50 is more than --map_tolerance below the checkpoint's.
"""

from lrsdetr.data.files import run_script
from lrsdetr.tools.export import main
from lrsdetr.utils.cli import parse_overrides

param_dict = {
    "weights": "runs/train/lrs-detr-b/weights/best.pt",  # a .pt, or a config name (lrs-detr-b.yaml) for random weights
    "format": "onnx",  # onnx, engine (TensorRT, needs a GPU), openvino, coreml, torchscript, ...
    "imgsz": 640,
    "half": False,  # fp16: traced in fp16 on a GPU; on CPU the ONNX graph is converted to fp16 after export
    "int8": False,  # int8, calibrated on --data's val images: onnx (ONNX Runtime static quantization), openvino (NNCF), engine
    "keep_float": "decoder,dft,attention",  # ONNX int8: parts kept in fp32 (any of decoder, dft, attention; '' = none)
    "dynamic": False,  # dynamic batch, height and width (ONNX, TensorRT with batch as the maximum, OpenVINO)
    "simplify": True,  # onnxslim the ONNX graph (also the graph TensorRT builds from)
    "opset": None,  # ONNX opset; None: the newest the installed torch/onnx pair supports (RT-DETR needs >= 16)
    "batch": 1,
    "device": None,  # None: CPU ('engine' picks GPU 0); '0' for the first GPU
    "data": "",  # a data.yaml: its val split calibrates --int8 and scores the model for --check_map
    "check_map": False,  # after exporting, COCO AP/AP50/APs of the export beside the checkpoint's (CPU)
    "map_tolerance": 0.01,  # AP50 the export may lose against the checkpoint before a warning (0.01 = 1 point)
}

if __name__ == "__main__":
    raise SystemExit(run_script(main, parse_overrides(param_dict, __doc__)))
