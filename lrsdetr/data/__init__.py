"""Data toolkit: VisDrone/VOC to YOLO, YOLO to COCO ground truth, splitting, statistics, synthetic scenes.

Entry points: `visdrone.convert_visdrone`, `voc.convert_voc`, `coco.yolo_to_coco` (+ `write_coco_json`),
`split.split_dataset`, `stats.dataset_stats`, `synth.generate_visdrone` and `synth.make_yolo_dataset`;
the scripts in dataset/ and `python -m lrsdetr.data.synth|stats` call them. User errors are `DataError`s
(lrsdetr/utils/errors.py; `files` re-exports it).
"""
