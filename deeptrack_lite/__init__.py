"""deeptrack_lite: the package behind the deep-learning-for-visual-tracking notebooks.

    import deeptrack_lite as dtl
    seq = dtl.data.synthetic_benchmark()["CatLight"]
    run = dtl.trackers.track("kcf", seq)
    dtl.evaluation.success_curve(run.boxes, seq.ground_truth)
"""
__version__ = "0.1.0"

from . import boxes, errors, runtime  # noqa: E402
from . import crops, data, evaluation, exercises, models, trackers, training, viz  # noqa: E402
from .runtime import device, fast_mode, seed_everything  # noqa: E402

__all__ = ["boxes", "crops", "data", "device", "errors", "evaluation", "exercises", "fast_mode", "models", "runtime",
           "seed_everything", "trackers", "training", "viz", "__version__"]
