"""Export a trained LRS-DETR (or any RT-DETR) to ONNX, TensorRT, OpenVINO, CoreML, ... with Ultralytics' exporter.

Edit param_dict below, or override it with flags; `python export.py --help` lists every flag, its
default and examples (the same command is `lrsdetr export` for pip installs).
"""

from lrsdetr.commands import run_root_script

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
    "trust_checkpoint": False,  # True: load checkpoints from elsewhere unrestricted (their code may run)
}

if __name__ == "__main__":
    raise SystemExit(run_root_script("export", param_dict))
