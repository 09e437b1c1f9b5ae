"""Presence: the survey's "prompt ... if the object is out of view", as part of the tracker protocol.

A tracker with a natural confidence (a correlation peak, a classifier's probability, a reconstruction error,
MDNet's target score) leaves it on every frame as ``last_info["score"]`` (higher: surer that the target is
there; the class attribute ``SCORE`` says what it is), and the base class turns it into a decision,
``last_info["present"] = score >= tracker.presence_threshold``. The box is still returned every frame.

A score's scale differs from tracker to tracker, so each has its own threshold, chosen on data: the one that
maximises the long-term tracking F-score (:mod:`deeptrack_lite.evaluation.longterm`) on the calibration
sequences. ``python -m deeptrack_lite calibrate-presence`` writes them, with its command and settings, to
``presence.json`` beside this module; a tracker missing from the file keeps the class's ``PRESENCE_THRESHOLD``,
and ``create_tracker(name, presence_threshold=t)`` overrides both.
"""
from __future__ import annotations

import json
import math
from functools import lru_cache
from pathlib import Path

from ..errors import DataError
from .parameters import is_number

PRESENCE_FILE = Path(__file__).resolve().parent / "presence.json"


def _threshold_of(name, entry):
    """An entry's threshold: None (every frame present) or a finite number; anything else raises ValueError."""
    if not isinstance(name, str) or not isinstance(entry, dict) or "threshold" not in entry:
        raise ValueError(f"the entry for {name!r} is not an object with a 'threshold'")
    value = entry["threshold"]
    if value is not None and not is_number(value):
        raise ValueError(f"the threshold of {name!r} is {value!r}, not a finite number or null")
    return value


@lru_cache(maxsize=None)
def _read(path: str) -> dict:
    p = Path(path)
    if p.is_dir():
        raise DataError(f"{p} is a folder, not a presence calibration file")
    if not p.exists():
        return {}
    try:
        record = json.loads(p.read_text(encoding="utf-8"))
        if not isinstance(record, dict) or not isinstance(record.get("thresholds"), dict):
            raise ValueError("it holds no 'thresholds' object")
        return {name: _threshold_of(name, entry) for name, entry in record["thresholds"].items()}
    except (OSError, ValueError, UnicodeDecodeError) as exc:
        raise DataError(f"{p}: not a presence calibration file ({exc}); make it again with "
                        "python -m deeptrack_lite calibrate-presence") from None


def calibrated_thresholds(path=PRESENCE_FILE) -> dict:
    """{tracker name: threshold} from a calibration file (empty when there is none). A threshold of None
    stands for minus infinity: the calibration found that calling every frame "present" scores best."""
    return dict(_read(str(path)))


def presence_threshold(name: str, default=None, path=PRESENCE_FILE) -> float | None:
    """The calibrated threshold of tracker ``name``, else ``default``; -inf where the calibration chose "always
    present", None where the tracker has no threshold at all."""
    table = _read(str(path))
    if name in table:
        value = table[name]
        return -math.inf if value is None else float(value)
    return None if default is None else float(default)


def is_present(score, threshold) -> bool:
    """The decision from a score: at or above the threshold (a NaN score is never "present")."""
    score = float(score)
    return bool(score >= threshold) if threshold is not None and not math.isnan(score) else not math.isnan(score)


__all__ = ["PRESENCE_FILE", "calibrated_thresholds", "is_present", "presence_threshold"]
