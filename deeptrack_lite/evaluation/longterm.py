"""Long-term measures: does the tracker know when the target is gone? Tracking precision, recall and F-score.

Defined by Lukezic et al. 2018 ("Now you see me: evaluating performance in long-term visual tracking") and
used by VOT-LT and LaSOT's long-term reports; the functions follow the VOT toolkit (``vot/analysis/longterm.py``:
``determine_thresholds``, ``compute_tpr_curves``, the F-score analysis). A tracker reports, on every frame, a box
and a confidence that the target is there. For a confidence threshold tau, the frames it calls "present" are
those with confidence >= tau, and with the overlap O_t of its box with the ground truth (0 where the target is
absent):

- tracking precision Pr(tau) = mean of O_t over the frames called present (1 when none is);
- tracking recall Re(tau) = sum of O_t over the frames called present / the number of frames where the target
  is visible;
- F(tau) = 2 Pr Re / (Pr + Re); over a dataset Pr and Re are first averaged over sequences, and the
  **F-score** is the largest F over the thresholds (taken where it is reached: the tracker's best threshold).

A tracker that always says "present" has Re = its mean overlap on visible frames and pays in Pr on every frame
the target is absent; one that says "absent" whenever unsure keeps Pr high and loses Re.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np


def presence_thresholds(scores, resolution: int = 100) -> np.ndarray:
    """The thresholds the toolkit evaluates at: the scores sorted high to low, ``resolution - 2`` of them at
    equal steps (all of them when there are fewer), with +inf first and -inf last."""
    scores = sorted((float(s) for s in np.ravel(scores) if not math.isnan(float(s))), reverse=True)
    if len(scores) > resolution - 2:
        delta = math.floor(len(scores) / (resolution - 2))
        idxs = np.round(np.linspace(delta, len(scores) - delta, num=resolution - 2)).astype(int)
        scores = [scores[i] for i in idxs]
    return np.array([math.inf, *scores, -math.inf])


def tracking_precision_recall(overlaps, scores, visible, thresholds) -> tuple[np.ndarray, np.ndarray]:
    """Pr(tau) and Re(tau) of one sequence at each threshold (module docstring); ``overlaps`` must be 0 where the
    target is absent and ``visible`` says where it is present."""
    overlaps = np.asarray(overlaps, dtype=np.float64)
    scores = np.asarray(scores, dtype=np.float64)
    n_visible = max(int(np.sum(visible)), 1)
    precision, recall = np.zeros(len(thresholds)), np.zeros(len(thresholds))
    for i, tau in enumerate(thresholds):
        called = scores >= tau
        if not called.any():
            precision[i], recall[i] = 1.0, 0.0
        else:
            precision[i] = overlaps[called].mean()
            recall[i] = overlaps[called].sum() / n_visible
    return precision, recall


@dataclass
class LongTermScore:
    thresholds: np.ndarray
    precision: np.ndarray   # averaged over sequences, per threshold
    recall: np.ndarray
    f_measure: np.ndarray

    @property
    def best(self) -> int:
        return int(np.argmax(self.f_measure))

    @property
    def f_score(self) -> float:
        return float(self.f_measure[self.best])

    @property
    def best_threshold(self) -> float:
        return float(self.thresholds[self.best])

    def to_dict(self) -> dict:
        b = self.best
        return {"f_score": self.f_score, "precision": float(self.precision[b]), "recall": float(self.recall[b]),
                "threshold": self.best_threshold}


def long_term_scores(sequences, resolution: int = 100) -> LongTermScore:
    """``sequences``: (overlaps, scores, visible) per sequence, one value per frame. The thresholds come from all
    the scores together; precision and recall are averaged over sequences before F is taken."""
    sequences = list(sequences)
    thresholds = presence_thresholds(np.concatenate([np.ravel(s) for _, s, _ in sequences]), resolution)
    curves = [tracking_precision_recall(o, s, v, thresholds) for o, s, v in sequences]
    pr = np.mean([c[0] for c in curves], axis=0)
    re = np.mean([c[1] for c in curves], axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        f = np.where(pr + re > 0, 2 * pr * re / (pr + re), 0.0)
    return LongTermScore(thresholds, pr, re, f)


__all__ = ["LongTermScore", "long_term_scores", "presence_thresholds", "tracking_precision_recall"]
