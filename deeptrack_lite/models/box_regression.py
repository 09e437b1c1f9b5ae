"""Bounding-box regression (R-CNN, Girshick et al. 2014), as MDNet uses it: a ridge regression from a box's
conv features to the correction that turns the box into the target's box.

The correction of a box p towards the target g is R-CNN's parameterisation, relative to p's size so that
one linear model serves every scale::

    dx = (gx - px) / pw,  dy = (gy - py) / ph,  dw = log(gw / pw),  dh = log(gh / ph)

with (x, y) the box centres. MDNet fits it once, on the first frame (samples with IoU >= 0.6 around the
given box), and applies it only on frames where the tracker is confident.
"""
from __future__ import annotations

import numpy as np
import torch

from ..errors import DataError
from ..runtime import host_float64


def box_deltas(boxes, targets) -> np.ndarray:
    """R-CNN corrections (dx, dy, dw, dh) from each of ``boxes`` to ``targets`` (N x 4 or one box), xywh."""
    p = np.asarray(boxes, dtype=np.float64).reshape(-1, 4)
    g = np.broadcast_to(np.asarray(targets, dtype=np.float64).reshape(-1, 4), p.shape)
    pc = p[:, :2] + p[:, 2:] / 2
    gc = g[:, :2] + g[:, 2:] / 2
    return np.concatenate([(gc - pc) / p[:, 2:], np.log(g[:, 2:] / p[:, 2:])], axis=1)


def apply_deltas(boxes, deltas) -> np.ndarray:
    """Inverse of :func:`box_deltas`: move and rescale ``boxes`` by ``deltas``."""
    p = np.asarray(boxes, dtype=np.float64).reshape(-1, 4)
    d = np.asarray(deltas, dtype=np.float64).reshape(-1, 4)
    c = p[:, :2] + p[:, 2:] / 2 + d[:, :2] * p[:, 2:]
    wh = p[:, 2:] * np.exp(np.clip(d[:, 2:], -1.0, 1.0))  # a regressor is never trusted with more than e x
    return np.concatenate([c - wh / 2, wh], axis=1)


class RidgeBoxRegressor:
    """Ridge regression (L2 weight ``alpha``, an unpenalised intercept) from features to box corrections.

    ``fit`` solves it in closed form in the dual (``n`` x ``n``, cheap when there are fewer samples than
    feature dimensions, as here: ~1000 samples of a few thousand features). It solves in float64 on the CPU,
    whatever device the features come from (Apple's MPS has no float64)."""

    def __init__(self, alpha: float = 1000.0):
        self.alpha = float(alpha)
        self.weights: torch.Tensor | None = None

    def fit(self, features: torch.Tensor, boxes, target) -> "RidgeBoxRegressor":
        X = host_float64(features).reshape(len(features), -1)
        if len(X) < 2:
            raise DataError("box regression needs at least 2 samples")
        Y = torch.as_tensor(box_deltas(boxes, target), dtype=torch.float64)
        self.x_mean, self.y_mean = X.mean(0), Y.mean(0)
        Xc, Yc = X - self.x_mean, Y - self.y_mean
        gram = Xc @ Xc.T + self.alpha * torch.eye(len(X), dtype=X.dtype, device=X.device)
        self.weights = Xc.T @ torch.linalg.solve(gram, Yc)  # D x 4
        return self

    def predict_deltas(self, features: torch.Tensor) -> np.ndarray:
        if self.weights is None:
            raise DataError("call fit() before predict()")
        X = host_float64(features).reshape(len(features), -1)
        return ((X - self.x_mean) @ self.weights + self.y_mean).numpy()

    def predict(self, features: torch.Tensor, boxes) -> np.ndarray:
        """The corrected boxes (N x 4, xywh)."""
        return apply_deltas(boxes, self.predict_deltas(features))


__all__ = ["RidgeBoxRegressor", "apply_deltas", "box_deltas"]
