#!/usr/bin/env bash
# From a fresh clone to a trained and evaluated LRS-DETR-B: virtual environment, install, quick start
# (synthetic drone data, training on CPU, validation, COCO metrics; about 10 minutes on 2 CPU cores).
# Flags go to quickstart.py, e.g.: bash setup.sh --data dataset/data.yaml
set -euo pipefail
cd "$(dirname "$0")"
[ -d .venv ] || python3 -m venv .venv
. .venv/bin/activate
python -m pip install -q --upgrade pip
python -m pip install -q -r requirements.txt
python quickstart.py "$@"
