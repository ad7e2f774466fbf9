"""The logic behind the root scripts, one module each: `train` (train.py), `validate` (val.py), `detect`
(detect.py), `export` (export.py, with its check of an export against the checkpoint), `quickstart`
(quickstart.py); with `ddp` (torchrun launches). Built on models/ and tools/; only compress/ (pruning.py's and
distill.py's flows train through `engine.train`) and commands.py import it.
"""
