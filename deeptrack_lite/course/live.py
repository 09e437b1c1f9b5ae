"""The notebooks' small live runs: one tracker on a sequence and its score, and a study's settings on a few
sequences. The shipped full-mode studies (:mod:`~deeptrack_lite.course.studies`) are the same settings on every
sequence; these are the versions a lab session can wait for."""
from __future__ import annotations

from typing import NamedTuple

import numpy as np

from ..evaluation.metrics import sequence_auc
from ..trackers import create_tracker, track
from ..trackers.base import Tracker


class ScoredRun(NamedTuple):
    """A tracker after its run, the run (boxes, times, infos) and its success AUC."""

    tracker: Tracker
    run: object
    auc: float


def run_and_score(tracker, sequence, *, device="auto", n_frames: int | None = None, keep_info: bool = False,
                  **params) -> ScoredRun:
    """Run ``tracker`` (a registered name, made with ``device`` and ``params``, or an instance) over ``sequence``
    (its first ``n_frames`` when given) and score it: ``tracker, run, auc = run_and_score("dlt", seq)``."""
    if n_frames is not None:
        sequence = sequence.subsequence(0, n_frames)
    if isinstance(tracker, str):
        tracker = create_tracker(tracker, device=device, **params)
    run = track(tracker, sequence, progress=False, keep_info=keep_info)
    return ScoredRun(tracker, run, sequence_auc(run.boxes, sequence.ground_truth))


def live_study(settings: dict, sequences, *, n_frames: int | None = None, device="auto") -> dict:
    """Every setting of ``settings`` ({label: (tracker name, params)}, e.g. a study's ``trackers()`` with
    :func:`~deeptrack_lite.course.studies.resolve_params` applied) on every sequence: {"aucs": {label: [AUC per
    sequence]}, "fps": {label: frames over the time of init and updates, all sequences together}, "sequences":
    their names, "frames": ``n_frames``}."""
    aucs, fps = {}, {}
    for label, (name, params) in settings.items():
        scored = [run_and_score(name, s, device=device, n_frames=n_frames, **params) for s in sequences]
        aucs[label] = [r.auc for r in scored]
        fps[label] = sum(len(r.run.times) for r in scored) / sum(float(np.sum(r.run.times)) for r in scored)
    return {"aucs": aucs, "fps": fps, "sequences": [s.name for s in sequences], "frames": n_frames}


def live_study_table(result: dict) -> str:
    """:func:`live_study`'s result as a table: AUC per sequence, their mean and FPS, one row per setting."""
    width = max(map(len, result["aucs"])) + 2
    lines = [f"{'setting':<{width}}" + "".join(f"{s:>12}" for s in result["sequences"]) + f"{'mean':>8}{'FPS':>8}"]
    for label, values in result["aucs"].items():
        lines.append(f"{label:<{width}}" + "".join(f"{a:>12.3f}" for a in values)
                     + f"{np.mean(values):>8.3f}{result['fps'][label]:>8.1f}")
    return "\n".join(lines)


__all__ = ["ScoredRun", "live_study", "live_study_table", "run_and_score"]
