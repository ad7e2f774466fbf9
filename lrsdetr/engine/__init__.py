"""The logic behind the root scripts, one module each: `train` (train.py), `validate` (val.py), `detect`
(detect.py), `quickstart` (quickstart.py); with the authors' training `recipe`, user-input `checks`, `ddp`
(torchrun launches), offline label `fonts` and run `outputs` listing.
"""
