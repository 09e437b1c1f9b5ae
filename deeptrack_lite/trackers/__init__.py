"""Trackers behind one protocol (``init(image, box)`` / ``update(image) -> box``), their registry and the
generic tracking loop. Importing this package registers every tracker it ships: the modules that
:mod:`.catalog`, the course's one list of its trackers, names."""
import importlib

from .base import (IdentityTracker, Tracker, TrackingRun, available_trackers, create_tracker, describe_trackers,
                   register_tracker, track, tracker_class)
from .catalog import CATALOG, catalog_entry, catalog_names, tracker_modules

for _module in tracker_modules():
    importlib.import_module(f".{_module}", __name__)  # registers its trackers

from ..dependencies import warn_without_contrib

warn_without_contrib()  # a cv2 without KCF/CSRT (a plain OpenCV wheel written over the contrib one): say which fix

__all__ = ["CATALOG", "IdentityTracker", "Tracker", "TrackingRun", "available_trackers", "catalog_entry",
           "catalog_names", "create_tracker",
           "describe_trackers", "register_tracker", "track", "tracker_class"]
