"""The notebooks' results cache: tracking runs kept between sessions, so that a notebook reopened, or a later
notebook that runs the same trackers, does not wait for them again.

It is per user, under the data folder (:func:`deeptrack_lite.data.default_data_dir`: ``$DEEPTRACK_DATA``, the
clone's ``data/``, else ``~/.cache/deeptrack_lite``), one folder per benchmark and length, never the system's
shared temporary folder. What makes a stored run usable is :func:`~deeptrack_lite.evaluation.run_ope`'s own check:
the same tracker, parameters, seed, frames, package version and tracker code; a run that differs in any of them is
computed again. So each notebook fills what it needs itself, and running the notebooks in another order only
changes how long they take.
"""
from __future__ import annotations

import shutil
from pathlib import Path

from ..data import default_data_dir

FOLDER = "results-cache"


def results_cache(name: str = "") -> Path:
    """The cache folder for one benchmark, e.g. ``results_cache("synthetic-150f")`` (the root when no name)."""
    root = default_data_dir() / FOLDER
    return root / name if name else root


def clear_results_cache() -> None:
    """Delete every cached run (the notebook timer does this to time a first session)."""
    shutil.rmtree(results_cache(), ignore_errors=True)


__all__ = ["clear_results_cache", "results_cache"]
