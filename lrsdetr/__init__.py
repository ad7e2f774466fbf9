"""LRS-DETR: small-object detection for low-altitude drone images, on top of Ultralytics.

    from lrsdetr import RTDETR
    RTDETR("lrs-detr-b.yaml").train(data="dataset/data.yaml", epochs=300)

`import lrsdetr` also makes `from ultralytics import RTDETR` return our class (see `register_with_ultralytics`), and
makes every checkpoint load safely, without running code it holds (lrsdetr/models/checkpoints.py), and RT-DETR
decoders sample faster on the CPU (lrsdetr/nn/deformable_sampling.py).
What else the import changes, and every Ultralytics internal we rely on: lrsdetr/utils/ultralytics_private.py.
The `lrsdetr` console command (`lrsdetr train ...`, `python -m lrsdetr ...`) is lrsdetr/commands.py.
"""

from .utils.ultralytics_private import offline_by_default

# Nothing in this toolkit needs the network; keep Ultralytics from trying (fonts, weights, telemetry).
# Set YOLO_OFFLINE=0 to let it go online. Before anything imports Ultralytics, which reads it once.
offline_by_default()

__version__ = "0.1.0"

from .models import RTDETR, LRSDETRTrainer  # noqa: E402
from .models import checkpoints as _checkpoints  # noqa: E402
from .models.checkpoints import trusted_checkpoints  # noqa: E402
from .nn import deformable_sampling as _deformable_sampling  # noqa: E402
from .nn.detection_model import LRSDETRDetectionModel  # noqa: E402
from .utils import fonts as _fonts  # noqa: E402


def build_model(cfg="lrs-detr-b.yaml", nc=None, verbose=False) -> LRSDETRDetectionModel:
    """The detection model (an nn.Module with Ultralytics' `fuse()` and `info()`) for a config name, path or dict."""
    return LRSDETRDetectionModel(cfg, nc=nc, verbose=verbose)


def register_with_ultralytics() -> None:
    """Make `ultralytics.RTDETR` (and `ultralytics.models.RTDETR`) our subclass.

    The seed's scripts say `from ultralytics import RTDETR`; after `import lrsdetr` they get a class that
    knows our configs and trainer. Our class is a subclass, so stock RT-DETR models behave as before.
    """
    import ultralytics.models

    ultralytics.models.RTDETR = RTDETR


register_with_ultralytics()
_fonts.install()  # offline: Ultralytics' plots use a font on disk instead of downloading Arial
_checkpoints.install()  # checkpoints load with weights_only and our allow-list unless trusted
_deformable_sampling.install()  # decoders sample by one gather on the CPU, equal within fp32 rounding

__all__ = ("RTDETR", "LRSDETRTrainer", "LRSDETRDetectionModel", "build_model", "register_with_ultralytics",
           "trusted_checkpoints", "__version__")
