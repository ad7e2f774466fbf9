"""Pieces the root scripts and benchmarks share: user-input `checks`, weight `formats` (val on exports), INT8
`quantize`, `fps`, `heatmap`, `sliced` (SAHI) inference and pruned `channels`; built on models/, used by engine/."""
