"""Long-term measures: does the tracker know when the target is gone? Tracking precision, recall and F-score.

Defined by Lukezic et al. 2018 ("Now you see me: evaluating performance in long-term visual tracking") and
used by VOT-LT and LaSOT's long-term reports; by default every number equals vot-toolkit 0.9.0's
(``vot/analysis/longterm.py``: ``determine_thresholds``, ``compute_tpr_curves``, ``PrecisionRecall``;
``tests/test_vot_reference.py`` calls the toolkit itself). A tracker reports, on every frame, a box and a
confidence that the target is there. For a confidence threshold tau, the frames it calls "present" are those
with confidence >= tau, and with the overlap O_t of its box with the ground truth (0 where the target is
absent):

- tracking precision Pr(tau) = mean of O_t over the frames called present (1 when none is);
- tracking recall Re(tau) = sum of O_t over the frames called present / the number of frames where the target
  is visible;
- F(tau) = 2 Pr Re / (Pr + Re); over a dataset Pr and Re are first averaged over sequences, and the
  **F-score** is the largest F over the thresholds (taken where it is reached: the tracker's best threshold).

A tracker that always says "present" has Re = its mean overlap on visible frames and pays in Pr on every frame
the target is absent; one that says "absent" whenever unsure keeps Pr high and loses Re.

The package's trackers leave their confidence in ``last_info["score"]`` and results folders keep it per frame
(``scores/<sequence>_score.txt``). A tracker with no score at all (``identity``) is scored as one that says
"present" on every frame. Which frames and which overlap (:func:`presence_frames`):

- ``definition="vot-lt"`` (default), the toolkit's: every frame, frame 0 too, as the initialisation it is (an
  empty region: overlap 0, and it counts as a visible frame; its score is NaN, so it is never called present);
  overlaps bounded and rasterised in whole pixels inside the image (:func:`~deeptrack_lite.evaluation.vot.region_overlap`);
- ``definition="lukezic"``: the paper's plain continuous IoU of the boxes, on frames 1..N-1 (frame 0 is the given
  box, not a decision). It differs most where the target is partly outside the image.
:func:`calibrate_presence` chooses each tracker's threshold on calibration sequences (``calibrate-presence``);
:func:`presence_at` measures a fixed threshold on other ones.
"""
from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..boxes import iou
from ..errors import DataError, TrackerError


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
        """The best point; its threshold is None where calling every frame present scored best (JSON has no -inf)."""
        b = self.best
        return {"f_score": self.f_score, "precision": float(self.precision[b]), "recall": float(self.recall[b]),
                "threshold": None if self.best_threshold == -math.inf else self.best_threshold}


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


def presence_at(sequences, threshold) -> dict:
    """Tracking precision, recall and F of a fixed ``threshold`` (None or -inf: every frame called present),
    averaged over sequences as :func:`long_term_scores` averages them."""
    tau = -math.inf if threshold is None else float(threshold)
    curves = [tracking_precision_recall(o, s, v, [tau]) for o, s, v in sequences]
    pr = float(np.mean([c[0][0] for c in curves]))
    re = float(np.mean([c[1][0] for c in curves]))
    return {"precision": pr, "recall": re, "f_score": 2 * pr * re / (pr + re) if pr + re > 0 else 0.0,
            "threshold": None if tau == -math.inf else tau}


DEFINITIONS = ("vot-lt", "lukezic")


def presence_frames(boxes, scores, ground_truth, frame_size=None, *, definition: str = "vot-lt"
                    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(overlaps, scores, visible) of one run: the overlap with the ground truth (0 where the target is absent, a
    NaN row), the tracker's scores (all 1 when it has none: it never says "absent"), and where the target is in
    view. ``definition`` (module docstring): ``"vot-lt"``, every frame, the toolkit's overlap inside the image of
    ``frame_size`` (width, height), frame 0 the initialisation; ``"lukezic"``, frames 1..N-1 and the plain IoU."""
    gt = np.asarray(ground_truth, dtype=np.float64)
    boxes = np.asarray(boxes, dtype=np.float64)
    if boxes.shape != gt.shape:
        raise DataError(f"{len(boxes)} boxes for {len(gt)} ground-truth frames")
    scores = np.ones(len(gt)) if scores is None else np.asarray(scores, dtype=np.float64)
    if len(scores) != len(gt):
        raise DataError(f"{len(scores)} scores for {len(gt)} frames")
    visible = np.all(np.isfinite(gt), axis=1)
    if definition == "lukezic":
        overlaps = np.zeros(len(gt))
        if visible.any():
            ov = iou(np.nan_to_num(boxes[visible]), gt[visible])
            overlaps[visible] = np.where(np.isfinite(ov), ov, 0.0)
        return overlaps[1:], scores[1:], visible[1:]
    if definition != "vot-lt":
        raise DataError(f"the long-term definition is one of {', '.join(DEFINITIONS)}; got {definition!r}")
    if frame_size is None:
        raise DataError("the VOT-LT overlaps are bounded by the image: give the frame size (width, height)")
    from .vot import region_overlap

    regions = [None, *boxes[1:]]  # frame 0 is the initialisation, an empty region in the toolkit's trajectory
    overlaps = np.array([region_overlap(r, t if v else None, frame_size) for r, t, v in zip(regions, gt, visible)])
    return overlaps, scores, visible


@dataclass
class PresenceReport:
    """The long-term measures of trackers' stored runs (:func:`evaluate_presence`): per tracker, the best F-score
    over all thresholds (``best``) and the measures at its own threshold (``calibrated``: the calibrated one, or
    None, every frame present, for a label that is not a registered tracker)."""

    best: dict          # {label: LongTermScore}
    calibrated: dict    # {label: {"threshold", "precision", "recall", "f_score"}}

    def __getitem__(self, label: str) -> LongTermScore:
        return self.best[label]

    def __iter__(self):
        return iter(self.best)

    def __len__(self) -> int:
        return len(self.best)

    def table(self) -> str:
        rows = sorted(self.calibrated.items(), key=lambda kv: -kv[1]["f_score"])
        lines = ["presence (long-term measures, frames 1..N-1): tracking precision, recall and F-score at each "
                 "tracker's calibrated threshold, and the best F over all thresholds",
                 f"{'tracker':16s} {'threshold':>10s} {'Pr':>6s} {'Re':>6s} {'F':>6s} {'best F':>7s}"]
        for label, c in rows:
            tau = "always" if c["threshold"] is None else f"{c['threshold']:.4g}"
            lines.append(f"{label:16s} {tau:>10s} {c['precision']:6.3f} {c['recall']:6.3f} {c['f_score']:6.3f} "
                         f"{self.best[label].f_score:7.3f}")
        return "\n".join(lines)

    def to_dict(self) -> dict:
        return {label: {"best": self.best[label].to_dict(), "calibrated": self.calibrated[label]} for label in self.best}


def evaluate_presence(results_dir, dataset, trackers=None, *, definition: str = "vot-lt") -> PresenceReport:
    """The long-term measures of the runs stored in a results folder (:func:`~deeptrack_lite.evaluation.run_ope`'s
    layout, scores included) on ``dataset``'s sequences; ``trackers`` defaults to every tracker folder. Each
    tracker is measured at its calibrated threshold and at its best one (:class:`PresenceReport`)."""
    from ..trackers import tracker_class
    from .results import tracker_folders

    best, calibrated = {}, {}
    for label in tracker_folders(results_dir) if trackers is None else trackers:
        try:
            threshold = tracker_class(label).default_presence_threshold()
        except TrackerError:  # a label of another toolkit or a variant: only its best threshold
            threshold = None
        sequences = presence_sequences(results_dir, dataset, label, definition=definition)
        best[label] = long_term_scores(sequences)
        calibrated[label] = presence_at(sequences, threshold)
    return PresenceReport(best, calibrated)


def presence_sequences(results_dir, dataset, tracker, *, definition: str = "vot-lt") -> list:
    """The (overlaps, scores, visible) triples of one tracker's stored runs (:func:`presence_frames`), for
    :func:`long_term_scores` and :func:`presence_at`."""
    from .results import read_result, run_dir

    runs = [read_result(run_dir(results_dir, tracker), seq) for seq in dataset]
    return [presence_frames(r["boxes"], r["scores"], seq.ground_truth, seq.frame_size, definition=definition)
            for r, seq in zip(runs, dataset)]


def calibrate_presence(trackers, dataset, work_dir, *, device="auto", progress: bool = True) -> dict:
    """Choose each tracker's presence threshold: run it (resumable, in ``work_dir``) on ``dataset``, whose
    sequences must have absent frames, and take the threshold of its best long-term F-score. Returns
    ``{tracker: {"threshold", "f_score", "precision", "recall"}}``; a threshold of None means "every frame
    present" scored best (or the tracker has no score)."""
    from ..trackers import tracker_class
    from .ope import run_ope
    from .specs import tracker_specs

    if not any(np.isnan(np.asarray(seq.ground_truth, dtype=np.float64)).any() for seq in dataset):
        raise DataError(f"{dataset.name}: no sequence has an absent frame, so presence cannot be calibrated on it")
    specs = tracker_specs(trackers)
    run_ope(specs, dataset, work_dir, device=device, progress=progress).require_complete("presence calibration")
    table = {}
    for spec in specs:
        if not tracker_class(spec.name).SCORE:
            continue
        table[spec.label] = long_term_scores(presence_sequences(work_dir, dataset, spec.label)).to_dict()
    return table


def write_presence_calibration(path, table: dict, provenance: dict) -> Path:
    """Write :func:`calibrate_presence`'s table with how it was made (``provenance``: command, settings, machine)."""
    from ..fileio import atomic_write_text

    def number(v):  # JSON has no infinity: +inf ("no frame present") is written as the largest float
        return None if v is None else 1.7e308 if v == math.inf else float(f"{v:.6g}")

    clean = {name: {k: number(v) for k, v in entry.items()} for name, entry in table.items()}
    record = {"definition": "threshold of the best long-term tracking F-score (deeptrack_lite.evaluation.longterm, "
                            "VOT-LT's definition); present when last_info['score'] >= threshold; null: every frame "
                            "present",
              "thresholds": clean, "provenance": provenance}
    path = Path(path)
    atomic_write_text(path, json.dumps(record, indent=1) + "\n")
    return path


__all__ = ["DEFINITIONS", "LongTermScore", "PresenceReport", "calibrate_presence", "evaluate_presence", "long_term_scores", "presence_at",
           "presence_frames", "presence_sequences", "presence_thresholds", "tracking_precision_recall",
           "write_presence_calibration"]
