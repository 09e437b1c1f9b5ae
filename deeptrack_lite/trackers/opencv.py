"""OpenCV's classic trackers behind the package's protocol: the baselines every notebook compares with.

They need OpenCV's contrib modules (plain ``opencv-python`` lacks KCF and CSRT): any contrib wheel will do, the
``opencv-contrib-python-headless`` the package's extras install or Colab's ``opencv-contrib-python``
(:mod:`deeptrack_lite.dependencies` says which to install over which). Without them the package still imports,
with a warning, and only creating KCF, CSRT or MOSSE fails. Their parameters are the fields of OpenCV's own
``Tracker*_Params`` objects, passed through by name.
"""
from __future__ import annotations

import cv2
import numpy as np

from ..boxes import clip_box
from ..dependencies import installed_opencv_wheels, opencv_advice
from ..errors import TrackerError
from ..motion.meanshift import window_mean
from .base import Tracker, register_tracker


def _cv_param_names(params_factory) -> list[str]:
    if params_factory is None:
        return []
    return [a for a in dir(params_factory()) if not a.startswith("_") and not callable(getattr(params_factory(), a))]


def _cv_rule(params_factory, name: str) -> str:
    """The rule (:mod:`.parameters`) of an OpenCV parameter, from the type of OpenCV's default: its counts and
    sizes are whole numbers of at least 0; OpenCV checks finer ranges itself when the tracker starts."""
    default = getattr(params_factory(), name)
    if name == "window_function":
        return "None or one of hann, cheb, kaiser"
    if isinstance(default, bool):
        return "None or bool"
    if isinstance(default, int):
        return "None or int >= 0"
    if isinstance(default, float):
        return "None or float"
    return "None or str"


def _find(dotted: str):
    """``cv2.<dotted>``, or None where this OpenCV lacks it (plain wheels lack the contrib trackers)."""
    obj = cv2
    for part in dotted.split("."):
        obj = getattr(obj, part, None)
        if obj is None:
            return None
    return obj


def _pixel_rect(box, image_shape) -> tuple:
    """The part of ``box`` inside the image as OpenCV's integer (x, y, w, h), at least 1 x 1."""
    x, y, w, h = clip_box(box, image_shape)
    return int(round(x)), int(round(y)), max(1, int(round(w))), max(1, int(round(h)))


class OpenCVTracker(Tracker):
    """Adapter: RGB in, BGR to OpenCV; integer boxes clipped to the image; the last box on failure. An
    initial box OpenCV refuses (``cv2.error``) becomes a :class:`TrackerError` that names it."""

    deterministic = True
    SCORE = "OpenCV's own found/lost decision, 1 or 0: OpenCV's Python API exposes no confidence"
    CREATE: str = ""
    PARAMS_CLASS: str | None = None
    FIXED: dict = {}  # parameter values this adapter sets on purpose (documented per tracker)

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        # a cv2 without the contrib modules must still import (the trackers package warns with the fix): only
        # creating one of these trackers fails, in __init__
        factory = _find(cls.PARAMS_CLASS) if cls.PARAMS_CLASS else None
        cls.PARAMS = {name: (cls.FIXED.get(name), f"OpenCV {cls.PARAMS_CLASS}.{name}"
                             + (" (set by this adapter)" if name in cls.FIXED else " (None: OpenCV's default)"),
                             _cv_rule(factory, name))
                      for name in _cv_param_names(factory)}

    def __init__(self, *args, **kwargs):
        self._lookup(self.CREATE)  # without OpenCV's contrib modules, say so (and the fix) before judging parameters
        super().__init__(*args, **kwargs)

    @staticmethod
    def _lookup(dotted: str):
        obj = _find(dotted)
        if obj is None:
            raise TrackerError(f"OpenCV {cv2.__version__} has no {dotted}: "
                               + opencv_advice(installed_opencv_wheels(), cv2_found=True))
        return obj

    def _create(self):
        create = self._lookup(self.CREATE)
        if self.PARAMS_CLASS is None:
            return create()
        params = self._lookup(self.PARAMS_CLASS)()
        for key, value in self.params.items():
            if value is not None:
                setattr(params, key, value)
        return create(params)

    def _init(self, image, box):
        self._cv = self._create()
        rect = _pixel_rect(box, image.shape)
        try:
            self._cv.init(cv2.cvtColor(image, cv2.COLOR_RGB2BGR), rect)
        except cv2.error as exc:
            raise TrackerError(f"{self.name}: OpenCV cannot start on the initial box {np.asarray(box).tolist()} "
                               f"(pixels {rect} of a {image.shape[1]}x{image.shape[0]} frame): "
                               f"{str(exc).strip().splitlines()[-1]}") from None
        self._box = np.asarray(box, dtype=np.float64)

    def _update(self, image):
        try:
            ok, rect = self._cv.update(cv2.cvtColor(image, cv2.COLOR_RGB2BGR))
        except cv2.error as exc:  # e.g. the target left the image: keep the last guess
            ok, rect = False, None
            self.last_info["error"] = str(exc).strip().splitlines()[-1]
        self.last_info["found"] = bool(ok)
        self.last_info["score"] = 1.0 if ok else 0.0
        if ok and rect[2] > 0 and rect[3] > 0:
            self._box = np.asarray(rect, dtype=np.float64)
        return self._box


@register_tracker("kcf", "OpenCV KCF (kernelized correlation filter), always taking the response peak")
class KCFTracker(OpenCVTracker):
    """OpenCV's KCF. ``detect_thresh`` is 0 so it always moves to the response peak, as the original
    KCF does (OpenCV's default 0.5 makes it report failure and stand still on weak peaks). So its presence
    score (OpenCV's found/lost) says "lost" only where even the response's peak is negative."""

    CREATE = "TrackerKCF_create"
    PARAMS_CLASS = "TrackerKCF_Params"
    FIXED = {"detect_thresh": 0.0}


@register_tracker("csrt", "OpenCV CSRT (discriminative correlation filter with channel and spatial reliability)")
class CSRTTracker(OpenCVTracker):
    """OpenCV's CSRT (Lukezic et al., CVPR 2017). Needs a box of at least 2 x 2 pixels."""

    min_size = 2.0

    CREATE = "TrackerCSRT_create"
    PARAMS_CLASS = "TrackerCSRT_Params"


@register_tracker("mil", "OpenCV MIL (multiple instance learning, online boosting)")
class MILTracker(OpenCVTracker):
    """OpenCV's MIL (Babenko et al., CVPR 2009). Needs a box of at least 5 x 5 pixels: on smaller ones
    OpenCV's init loops forever (measured with OpenCV 4.13: 4 x 4 and 3 x 5 hang, 5 x 5 starts).

    Not repeatable: MIL draws its random features from a process-wide generator inside OpenCV that
    ``cv2.setRNGSeed`` does not reach, and that carries on from one MIL instance to the next, so two runs on
    the same frames in one process give different boxes and no seed can fix them."""

    deterministic = False
    repeatable = False
    min_size = 5.0

    CREATE = "TrackerMIL_create"
    PARAMS_CLASS = "TrackerMIL_Params"


@register_tracker("mosse", "OpenCV MOSSE (minimum output sum of squared error filter, grey level)")
class MOSSETracker(OpenCVTracker):
    """OpenCV's MOSSE (Bolme et al., CVPR 2010); fixed scale, no parameters. Needs at least 2 x 2 pixels."""

    min_size = 2.0

    CREATE = "legacy.TrackerMOSSE_create"
    PARAMS_CLASS = None


class _OpenCVHueTracker(Tracker):
    """OpenCV's meanShift / CamShift as its tutorial uses them: a hue histogram of the target (pixels of low
    saturation or brightness masked out), back-projected on each frame."""

    deterministic = True
    SCORE = "the mean back-projection (hue histogram, scaled to 0-1) inside the reported box"
    PRESENCE_THRESHOLD = 0.3
    PARAMS = {
        "bins": (16, "hue histogram bins", "int in [2, 180]"),
        "min_saturation": (30, "pixels below this saturation (0-255) are ignored: grey has no reliable hue", "int in [0, 255]"),
        "max_iter": (10, "iterations per frame at most", "int >= 1"),
    }
    CAMSHIFT = False

    def _masked_hsv(self, image):
        hsv = cv2.cvtColor(image, cv2.COLOR_RGB2HSV)
        mask = cv2.inRange(hsv, (0, int(self.params["min_saturation"]), 32), (180, 255, 255))
        return hsv, mask

    def _init(self, image, box):
        hsv, mask = self._masked_hsv(image)
        x, y, w, h = _pixel_rect(box, image.shape)
        hist = cv2.calcHist([hsv[y:y + h, x:x + w]], [0], mask[y:y + h, x:x + w], [self.params["bins"]], [0, 180])
        self._hist = cv2.normalize(hist, None, 0, 255, cv2.NORM_MINMAX)
        self._window = (x, y, w, h)
        self._box = np.asarray(box, dtype=np.float64)

    def _update(self, image):
        hsv, mask = self._masked_hsv(image)
        prob = cv2.calcBackProject([hsv], [0], self._hist, [0, 180], 1)
        prob &= mask
        criteria = (cv2.TERM_CRITERIA_EPS | cv2.TERM_CRITERIA_COUNT, int(self.params["max_iter"]), 1)
        try:
            if self.CAMSHIFT:
                rotated, window = cv2.CamShift(prob, self._window, criteria)
                self.last_info["rotated_box"] = rotated
            else:
                _, window = cv2.meanShift(prob, self._window, criteria)
        except cv2.error as exc:  # an empty window: keep the last guess, and no target colour seen
            self.last_info.update(error=str(exc).strip().splitlines()[-1], score=0.0)
            return self._box
        if window[2] > 0 and window[3] > 0:
            self._window = tuple(int(v) for v in window)
            self._box = np.asarray(window, dtype=np.float64)
        self.last_info["back_projection"] = prob
        self.last_info["score"] = window_mean(prob, self._box) / 255.0
        return self._box


@register_tracker("cv_meanshift", "OpenCV meanShift on a hue back-projection (fixed box size)")
class OpenCVMeanShiftTracker(_OpenCVHueTracker):
    """OpenCV's cv2.meanShift on a hue-histogram back-projection."""


@register_tracker("cv_camshift", "OpenCV CamShift on a hue back-projection (adapts size and orientation)")
class OpenCVCamShiftTracker(_OpenCVHueTracker):
    """OpenCV's cv2.CamShift on a hue-histogram back-projection."""

    CAMSHIFT = True
