"""Trackers behind one protocol (``init(image, box)`` / ``update(image) -> box``), their registry and the
generic tracking loop. Importing this package registers every tracker it ships."""
from .base import (IdentityTracker, Tracker, TrackingRun, available_trackers, create_tracker, describe_trackers,
                   register_tracker, track, tracker_class)
from . import classic, dlt, fcnt, hcf, mdnet, opencv, recurrent, siamfc, sodlt  # noqa: F401  (registers the classic trackers, DLT and DBN, SO-DLT, FCNT, MDNet, SiamFC, the recurrent tracker, HCF and the OpenCV baselines)

from ..dependencies import warn_without_contrib

warn_without_contrib()  # a cv2 without KCF/CSRT (a plain OpenCV wheel written over the contrib one): say which fix

__all__ = ["IdentityTracker", "Tracker", "TrackingRun", "available_trackers", "create_tracker",
           "describe_trackers", "register_tracker", "track", "tracker_class"]
