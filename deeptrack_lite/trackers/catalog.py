"""The course's list of its trackers, in one table: for each, the module that registers it and its family (the
notebooks that build it). ``trackers/__init__`` imports the modules named here, the speed-accuracy map draws the
families, and the tests walk the table to check that every tracker has what the course ships for it
(:func:`deeptrack_lite.course.checklist.missing_for`). Adding a tracker is its module, with
``@register_tracker``, plus one row here; then the commands the checklist names (docs/design.md).

This module is read by no tracker, so editing the table leaves every tracker's code fingerprint as it was.
"""
from __future__ import annotations

from dataclasses import dataclass

#: family -> the notebooks that build its trackers, in the order the course meets them
FAMILIES = {
    "classic, built here (01-02)": "01, 02",
    "classic, OpenCV": "00, 01, 06",
    "deep, the survey's (03-05)": "03, 04, 05",
    "where the field went next (07)": "07",
}


@dataclass(frozen=True)
class TrackerEntry:
    name: str      # the registered name
    module: str    # the module of deeptrack_lite.trackers that registers it
    family: str    # a key of FAMILIES


def _family(family: str, module: str, *names: str) -> list[TrackerEntry]:
    return [TrackerEntry(n, module, family) for n in names]


_BUILT, _OPENCV = "classic, built here (01-02)", "classic, OpenCV"
_SURVEY, _NEXT = "deep, the survey's (03-05)", "where the field went next (07)"

CATALOG: tuple[TrackerEntry, ...] = (
    *_family(_BUILT, "base", "identity"),
    *_family(_BUILT, "classic", "template", "ivt", "discriminative", "particle_filter", "meanshift", "camshift"),
    *_family(_OPENCV, "opencv", "kcf", "csrt", "mil", "mosse", "cv_meanshift", "cv_camshift"),
    *_family(_SURVEY, "dlt", "dlt", "dbn"),
    *_family(_SURVEY, "sodlt", "sodlt"),
    *_family(_SURVEY, "fcnt", "fcnt"),
    *_family(_SURVEY, "mdnet", "mdnet"),
    *_family(_NEXT, "siamfc", "siamfc"),
    *_family(_NEXT, "recurrent", "recurrent"),
    *_family(_NEXT, "hcf", "hcf"),
)
_BY_NAME = {e.name: e for e in CATALOG}


def catalog_entry(name: str) -> TrackerEntry | None:
    """The table's row of a tracker (None for one registered elsewhere, by a user or a test)."""
    return _BY_NAME.get(str(name).strip().lower())


def catalog_names(family: str | None = None) -> list[str]:
    """The course's trackers (of one family), in the table's order."""
    return [e.name for e in CATALOG if family is None or e.family == family]


def tracker_modules() -> list[str]:
    """The modules to import so that every tracker of the table is registered."""
    return sorted({e.module for e in CATALOG})


__all__ = ["CATALOG", "FAMILIES", "TrackerEntry", "catalog_entry", "catalog_names", "tracker_modules"]
