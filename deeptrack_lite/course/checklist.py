"""What the course ships for each of its trackers, and what a new one still lacks, with the command that makes it.

A tracker is the module that registers it plus its row in :mod:`deeptrack_lite.trackers.catalog`; what the course
ships for it comes from commands, never by hand:

- its presence threshold, in ``deeptrack_lite/trackers/presence.json``, when it has a score;
- its shipped benchmark runs, one file per benchmark length (notebooks 01, 06 and 07 read them).

``tests/test_trackers.py`` calls :func:`missing_for` on every tracker of the table, so adding a tracker without
its artifacts fails with the list of commands to run (docs/design.md, "Adding a tracker").
"""
from __future__ import annotations

from functools import lru_cache

from ..trackers import catalog_entry, tracker_class
from ..trackers.presence import calibrated_thresholds
from .benchmark_runs import SHIPPED, benchmark_datasets, load_runs, shipped_path

PRESENCE_COMMAND = "python -m deeptrack_lite calibrate-presence --out deeptrack_lite/trackers/presence.json"
RUNS_COMMAND = "python -m deeptrack_lite.course.benchmark_runs --out deeptrack_lite/course/results"


@lru_cache(maxsize=4)
def _shipped_sequences(folder: str) -> dict:
    """{shipped file name: {tracker label: its sequences}} of the shipped benchmark files found in ``folder``."""
    out = {}
    for bench in benchmark_datasets():
        path = shipped_path(len(bench[0]), folder, bench.name)
        runs = load_runs(path)["runs"] if path.is_file() else {}
        out[path.name] = ({label: set(seqs) for label, seqs in runs.items()}, set(bench.names))
    return out


def missing_for(name: str, folder=SHIPPED) -> list[tuple[str, str]]:
    """What the course lacks for tracker ``name``: ``[(what, the command or edit that makes it)]``, empty when
    nothing is missing. Whether shipped runs are current (made by the code here) is checked apart, by
    :func:`~deeptrack_lite.course.benchmark_runs.check_shipped`."""
    cls = tracker_class(name)
    missing = []
    if catalog_entry(cls.name) is None:
        missing.append((f"{cls.name}: no row in the course's list of trackers",
                        "add TrackerEntry(name, module, family) to CATALOG in deeptrack_lite/trackers/catalog.py"))
    if cls.SCORE and cls.name not in calibrated_thresholds():
        missing.append((f"{cls.name}: no presence threshold in deeptrack_lite/trackers/presence.json", PRESENCE_COMMAND))
    for file_name, (runs, sequences) in _shipped_sequences(str(folder)).items():
        if not sequences <= runs.get(cls.name, set()):
            missing.append((f"{cls.name}: no shipped runs in {file_name}", RUNS_COMMAND))
    return missing


__all__ = ["PRESENCE_COMMAND", "RUNS_COMMAND", "missing_for"]
