"""The one dependency pip cannot get right on its own: OpenCV with its contrib modules (KCF, CSRT, MIL, MOSSE).

OpenCV comes as four wheels on PyPI, ``opencv-python``, ``opencv-python-headless``, ``opencv-contrib-python`` and
``opencv-contrib-python-headless``, and all four write the same ``cv2`` folder: whichever was installed last is the
``cv2`` Python imports, and uninstalling any one of them deletes files the others need. Colab ships
``opencv-python`` and ``opencv-contrib-python``, so a package that asked for ``opencv-contrib-python-headless`` would
write a third copy over them. deeptrack_lite therefore names no OpenCV wheel in its required dependencies:

- ``python3 make.py lab`` / ``test`` and Binder install the ``lab`` extra (``opencv-contrib-python-headless``, pinned);
- ``pip install "deeptrack_lite[opencv]"`` adds it anywhere else;
- on Colab the runtime's own ``opencv-contrib-python`` is used as it is.

What is checked, and when: ``import deeptrack_lite`` fails with :class:`MissingDependency`, whose message says
what to install, when there is no ``cv2`` at all (found without importing it, so the command line's ``--help``
stays fast); importing :mod:`deeptrack_lite.trackers` warns (:class:`DependencyWarning`) when the ``cv2`` found
lacks the contrib trackers, and says which wheel to reinstall over which.
"""
from __future__ import annotations

import importlib.util
import sys
import warnings

from .errors import DeepTrackError

OPENCV_WHEELS = ("opencv-python", "opencv-python-headless", "opencv-contrib-python", "opencv-contrib-python-headless")
CONTRIB_WHEELS = ("opencv-contrib-python-headless", "opencv-contrib-python")  # the first is the one we install
CONTRIB_NAMES = ("TrackerKCF_create", "TrackerCSRT_create", "TrackerMIL_create", "legacy")  # what the baselines use
INSTALL = 'pip install opencv-contrib-python-headless  (or: pip install "deeptrack_lite[opencv]")'


class MissingDependency(DeepTrackError, ImportError):
    """A package deeptrack_lite needs is not installed, or not in a usable form; the message says what to run."""


class DependencyWarning(UserWarning):
    """An installed dependency works only in part (an OpenCV without the contrib trackers); the message says the fix."""


def installed_opencv_wheels() -> dict[str, str]:
    """The OpenCV wheels pip has installed in this environment, ``{name: version}`` (empty for a conda/system cv2)."""
    from importlib import metadata  # (only when something is wrong: it costs 30 ms at every start)

    found = {}
    for name in OPENCV_WHEELS:
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            pass
    return found


def has_contrib(cv2) -> bool:
    """Whether the ``cv2`` module given has the contrib trackers the OpenCV baselines create."""
    return all(hasattr(cv2, name) for name in CONTRIB_NAMES)


def opencv_advice(wheels: dict[str, str], *, cv2_found: bool) -> str:
    """What to run, given the OpenCV wheels installed and whether a ``cv2`` was found (its contrib is missing)."""
    if not cv2_found:
        if wheels:  # pip says installed, yet no cv2: one of several copies was uninstalled and took the folder
            name = next((w for w in CONTRIB_WHEELS if w in wheels), CONTRIB_WHEELS[0])
            return (f"deeptrack_lite needs OpenCV (cv2), and none can be imported although pip lists "
                    f"{_listing(wheels)}: these wheels share one cv2 folder and uninstalling one removed it. Run: "
                    f"pip install --force-reinstall --no-deps {name}" + (f"=={wheels[name]}" if name in wheels else ""))
        return f"deeptrack_lite needs OpenCV with its contrib modules (cv2), and none is installed. Run: {INSTALL}"
    contrib = [w for w in CONTRIB_WHEELS if w in wheels]
    if contrib:  # a contrib wheel is there, but a plain one was written over it later
        name = contrib[0]
        return (f"the cv2 found lacks OpenCV's contrib trackers (KCF, CSRT, MIL, MOSSE) although {name} is installed: "
                f"OpenCV's wheels ({_listing(wheels)}) share one cv2 folder and a plain one was installed after it. "
                f"Write the contrib one over it: pip install --force-reinstall --no-deps {name}=={wheels[name]}")
    plain = " ".join(wheels) or "opencv"
    return (f"the cv2 found ({_listing(wheels) or 'not installed by pip'}) lacks OpenCV's contrib trackers (KCF, CSRT, "
            f"MIL, MOSSE) that the baselines use. Replace it: pip uninstall -y {plain}; then {INSTALL}")


def _listing(wheels: dict[str, str]) -> str:
    return ", ".join(f"{name} {version}" for name, version in wheels.items())


def require_opencv() -> None:
    """Raise :class:`MissingDependency`, with the fix, when no ``cv2`` can be found (``cv2`` is not imported)."""
    if importlib.util.find_spec("cv2") is None:
        if importlib.util.find_spec("torch") is None:  # most likely the system's Python, next to a clone
            raise MissingDependency(
                f"this Python ({sys.executable}) has neither OpenCV nor torch: it is not the course's environment. "
                "In a clone, `python3 make.py lab` makes one in .venv: run `.venv/bin/python -m deeptrack_lite ...`, "
                f"or activate it (`source .venv/bin/activate`). Elsewhere: {INSTALL}")
        raise MissingDependency(opencv_advice(installed_opencv_wheels(), cv2_found=False))


def warn_without_contrib() -> str | None:
    """Warn (:class:`DependencyWarning`) when the ``cv2`` imported lacks the contrib trackers; returns the advice."""
    import cv2

    if has_contrib(cv2):
        return None
    advice = opencv_advice(installed_opencv_wheels(), cv2_found=True)
    warnings.warn(advice, DependencyWarning, stacklevel=3)
    return advice


__all__ = ["CONTRIB_WHEELS", "DependencyWarning", "MissingDependency", "OPENCV_WHEELS", "has_contrib",
           "installed_opencv_wheels", "opencv_advice", "require_opencv", "warn_without_contrib"]
