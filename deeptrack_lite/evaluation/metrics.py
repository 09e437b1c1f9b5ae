"""OTB one-pass-evaluation metrics, exactly as the OTB toolkit and got10k compute them.

All functions take N x 4 arrays of (x, y, w, h) boxes: predictions and ground truth, frame by frame.
Frames whose ground truth is absent (a NaN row) are left out of every curve. A prediction that is
missing (NaN) counts as a miss: IoU 0 and an infinite center error.
"""
from __future__ import annotations

import numpy as np

from ..boxes import as_boxes, box_center, iou
from ..errors import BoxError, DataError

SUCCESS_THRESHOLDS = np.linspace(0, 1, 21)
PRECISION_THRESHOLDS = np.arange(0, 51, dtype=np.float64)
NORMALIZED_PRECISION_THRESHOLDS = np.linspace(0, 0.5, 51)


def _pair(pred, gt):
    pred, gt = as_boxes(pred, what="predicted boxes"), as_boxes(gt, what="ground-truth boxes")
    if len(pred) != len(gt):
        raise BoxError(f"{len(pred)} predicted boxes for {len(gt)} ground-truth boxes; one per frame is needed")
    valid = np.all(np.isfinite(gt), axis=1)
    return pred[valid], gt[valid]


def center_error(pred, gt) -> np.ndarray:
    """Per-frame Euclidean distance between box centers, centers at ``x + (w - 1) / 2, y + (h - 1) / 2``.

    Frames with absent ground truth are dropped; missing predictions give ``inf``.
    """
    pred, gt = _pair(pred, gt)
    err = np.linalg.norm(box_center(pred) - box_center(gt), axis=1)
    return np.where(np.isfinite(err), err, np.inf)


def overlap(pred, gt) -> np.ndarray:
    """Per-frame IoU (intersection area over union area, areas as plain ``w * h``); absent ground
    truth dropped, missing predictions give 0."""
    pred, gt = _pair(pred, gt)
    ov = iou(pred, gt)
    return np.where(np.isfinite(ov), ov, 0.0)


def success_curve(pred, gt, thresholds=SUCCESS_THRESHOLDS) -> np.ndarray:
    """For each threshold t in ``linspace(0, 1, 21)``, the fraction of frames with IoU **>** t (strictly)."""
    ov = overlap(pred, gt)
    if len(ov) == 0:
        return np.zeros(len(thresholds))
    return (ov[None, :] > np.asarray(thresholds)[:, None]).mean(axis=1)


def precision_curve(pred, gt, thresholds=PRECISION_THRESHOLDS) -> np.ndarray:
    """For each threshold t in 0..50 pixels, the fraction of frames with center error **<=** t."""
    err = center_error(pred, gt)
    if len(err) == 0:
        return np.zeros(len(thresholds))
    return (err[None, :] <= np.asarray(thresholds)[:, None]).mean(axis=1)


def normalized_precision_curve(pred, gt, thresholds=NORMALIZED_PRECISION_THRESHOLDS) -> np.ndarray:
    """TrackingNet's normalized precision: center error measured in units of the ground-truth size
    (dx / w_gt, dy / h_gt), fraction of frames with that error <= t for t in ``linspace(0, 0.5, 51)``."""
    pred, gt = _pair(pred, gt)
    d = (box_center(pred) - box_center(gt)) / gt[:, 2:]
    err = np.linalg.norm(d, axis=1)
    err = np.where(np.isfinite(err), err, np.inf)
    if len(err) == 0:
        return np.zeros(len(thresholds))
    return (err[None, :] <= np.asarray(thresholds)[:, None]).mean(axis=1)


def success_auc(curve) -> float:
    """Area under the success curve as OTB reports it: the mean of its 21 values."""
    return float(np.mean(curve))


def precision_at(curve, pixels: int = 20) -> float:
    """The precision curve's value at ``pixels`` (OTB ranks by 20 px)."""
    return float(np.asarray(curve)[int(pixels)])


def sequence_auc(pred, gt) -> float:
    """One run's success AUC on its sequence: ``success_auc(success_curve(pred, gt))``."""
    return success_auc(success_curve(pred, gt))


def roc_auc(positive_scores, negative_scores) -> float:
    """The area under the ROC curve of a score that should be higher on positives: the probability that a random
    positive scores above a random negative, ties counting half (0.5: no better than chance)."""
    p = np.asarray(positive_scores, dtype=np.float64).reshape(-1, 1)
    n = np.asarray(negative_scores, dtype=np.float64).reshape(1, -1)
    if p.size == 0 or n.size == 0:
        raise DataError("roc_auc needs at least one positive and one negative score")
    return float((p > n).mean() + 0.5 * (p == n).mean())


def summarize(pred, gt) -> dict:
    """Success AUC, precision at 20 px and normalized precision at 0.2 for one sequence."""
    return {
        "success_auc": sequence_auc(pred, gt),
        "precision_20px": precision_at(precision_curve(pred, gt), 20),
        "normalized_precision": float(normalized_precision_curve(pred, gt)[20]),
    }
