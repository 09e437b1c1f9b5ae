"""How well does a representation separate two kinds of samples? The measurements behind notebook 05's
"what the shared layers learned".

- :func:`pca_2d` projects features to their two principal directions, for a scatter plot;
- :func:`knn_balanced_accuracy` asks whether each sample's nearest neighbours share its label
  (leave-one-out k nearest neighbours), scored by the balanced accuracy: the mean of the per-class recalls,
  so chance is 0.5 whatever the class ratio. Unlike a nearest-centroid rule it does not assume that each
  class is one blob: positives surrounded by a ring of near misses are separable, and it says so;
- :func:`linear_balanced_accuracy` asks the stricter question a linear classifier on top (MDNet's fc6) asks:
  can one straight cut separate them? Fisher's discriminant direction, then the best cut along it, scored by
  balanced accuracy. A ring around a blob is separable by neighbours but not by a line: the best cut keeps
  the blob and one side of the ring, about 0.75.

And for notebook 03, :func:`neighbour_correlation`: how smooth a network's learned first-layer filters are.
"""
from __future__ import annotations

import numpy as np

from ..errors import DeepTrackError


def _as_numpy(x) -> np.ndarray:
    if hasattr(x, "detach"):
        x = x.detach().cpu().double().numpy()
    return np.asarray(x, dtype=np.float64)


def pca_2d(features) -> np.ndarray:
    """N x 2: the centred features projected on their first two principal directions."""
    x = _as_numpy(features)
    x = x.reshape(len(x), -1) - x.reshape(len(x), -1).mean(axis=0)
    _, _, vt = np.linalg.svd(x, full_matrices=False)
    return x @ vt[:2].T


def knn_balanced_accuracy(features, labels, k: int = 5) -> float:
    """Leave-one-out k-nearest-neighbour classification (Euclidean distance, majority vote; a tied vote counts
    as wrong), scored by balanced accuracy: the mean recall over the classes, whose chance level is 0.5 for
    two classes whatever their sizes."""
    x = _as_numpy(features)
    x = x.reshape(len(x), -1)
    y = np.asarray(labels)
    classes = np.unique(y)
    if len(x) != len(y) or len(classes) < 2 or not 1 <= k < len(x):
        raise DeepTrackError(f"knn_balanced_accuracy needs N features, N labels of at least two classes and "
                             f"1 <= k < N; got {len(x)} features, {len(y)} labels, classes {classes.tolist()}, k={k}")
    sq = (x ** 2).sum(axis=1)
    d = sq[:, None] + sq[None, :] - 2 * x @ x.T
    np.fill_diagonal(d, np.inf)  # leave one out: a sample is not its own neighbour
    neighbours = np.argpartition(d, k - 1, axis=1)[:, :k]
    votes = np.stack([(y[neighbours] == c).sum(axis=1) for c in classes], axis=1)
    top = votes.max(axis=1, keepdims=True)
    predicted_unique = (votes == top).sum(axis=1) == 1
    predicted = classes[np.argmax(votes, axis=1)]
    correct = predicted_unique & (predicted == y)
    return float(np.mean([correct[y == c].mean() for c in classes]))


def linear_balanced_accuracy(features, labels, ridge: float = 1e-3) -> float:
    """Balanced accuracy of the best linear cut between two classes: project on Fisher's discriminant
    direction ``(S + ridge * tr(S)/d * I)^-1 (mu_1 - mu_0)`` (S the pooled within-class covariance) and take
    the threshold with the highest balanced accuracy. Fitted and scored on the same samples, so use it on
    low-dimensional views (a 2-D projection), where a line cannot overfit."""
    x = _as_numpy(features)
    x = x.reshape(len(x), -1)
    y = np.asarray(labels)
    classes = np.unique(y)
    if len(x) != len(y) or len(classes) != 2:
        raise DeepTrackError(f"linear_balanced_accuracy needs N features and N labels of two classes; got "
                             f"{len(x)} features, {len(y)} labels, classes {classes.tolist()}")
    a, b = x[y == classes[1]], x[y == classes[0]]
    s = np.cov(a, rowvar=False) * (len(a) - 1) + np.cov(b, rowvar=False) * (len(b) - 1)
    s = np.atleast_2d(s) / (len(x) - 2)
    s += ridge * np.trace(s) / len(s) * np.eye(len(s))
    w = np.linalg.solve(s, a.mean(axis=0) - b.mean(axis=0))
    z = x @ w
    positive = y == classes[1]
    order = np.argsort(z)
    zs, ps = z[order], positive[order]
    # cut after position i: everything above is called positive
    tp = ps[::-1].cumsum()[::-1]  # positives at or above each position
    tn = np.r_[0, (~ps).cumsum()[:-1]]  # negatives below each position
    balanced = (tp / positive.sum() + tn / (~positive).sum()) / 2
    return float(balanced.max())


def neighbour_correlation(filters) -> float:
    """How smooth learned filters are: the mean, over filters (K x H x W), of the correlation between each filter
    and itself shifted one pixel to the right. Near 0 for random weights; high for the smooth, edge- and
    blob-like filters that pretraining on images gives (notebook 03's SDAE)."""
    w = _as_numpy(filters)
    if w.ndim != 3 or w.shape[2] < 2:
        raise DeepTrackError(f"neighbour_correlation needs K x H x W filters with W >= 2, got shape {w.shape}")
    a = w[:, :, :-1].reshape(len(w), -1)
    b = w[:, :, 1:].reshape(len(w), -1)
    a, b = a - a.mean(axis=1, keepdims=True), b - b.mean(axis=1, keepdims=True)
    return float(((a * b).sum(axis=1) / (np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1))).mean())


__all__ = ["knn_balanced_accuracy", "linear_balanced_accuracy", "neighbour_correlation", "pca_2d"]
