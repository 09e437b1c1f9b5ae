"""deeptrack_lite: the package behind the deep-learning-for-visual-tracking notebooks.

    import deeptrack_lite as dtl
    seq = dtl.data.synthetic_benchmark()["CatLight"]
    run = dtl.trackers.track("kcf", seq)
    dtl.evaluation.success_curve(run.boxes, seq.ground_truth)

Sub-packages load when first used (``dtl.data``, ``dtl.trackers``...), so importing one part, a tracker say,
does not import the others (the trainers, the course code), and ``python -m deeptrack_lite --help`` starts
without torch. The layers, each importing only from the ones before it::

    errors, version, dependencies -> boxes, images, runtime, cpus, fileio, outputs, crops, jobs -> data -> features, viz -> models, motion
    -> online -> training -> trackers -> evaluation -> cli -> course
"""
from __future__ import annotations

import importlib

from .cpus import apply_cpu_budget
from .dependencies import require_opencv
from .version import __version__

require_opencv()  # no cv2 at all: say what to install now, not in a traceback deep inside a tracker
apply_cpu_budget()  # a pod's CPU quota, not the host's cores, sizes torch's and OpenCV's thread pools

_SUBPACKAGES = ("boxes", "course", "cpus", "crops", "data", "dependencies", "errors", "evaluation", "features", "fileio", "images", "jobs", "models", "outputs",
                "motion", "online", "runtime", "trackers", "training", "viz")
_SHORTCUTS = {"exercises": ("course.exercises", None), "device": ("runtime", "device"),
              "fast_mode": ("runtime", "fast_mode"), "seed_everything": ("runtime", "seed_everything")}


def __getattr__(name: str):
    if name in _SUBPACKAGES:
        return importlib.import_module(f".{name}", __name__)
    if name in _SHORTCUTS:
        module, attribute = _SHORTCUTS[name]
        found = importlib.import_module(f".{module}", __name__)
        return found if attribute is None else getattr(found, attribute)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted([*globals(), *_SUBPACKAGES, *_SHORTCUTS])


__all__ = [*_SUBPACKAGES, *_SHORTCUTS, "__version__"]
