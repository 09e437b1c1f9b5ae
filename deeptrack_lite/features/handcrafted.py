"""Hand-crafted appearance features of the classic trackers: kernel-weighted colour histograms (mean shift,
the colour particle filter) and a HOG-like gradient descriptor in torch (the discriminative tracker)."""
from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F


def color_bins(image: np.ndarray, bins: int = 16) -> np.ndarray:
    """Joint RGB bin index of every pixel of uint8 image(s) (... x 3), each channel cut into ``bins``."""
    q = (image.astype(np.int64) * bins) >> 8
    return (q[..., 0] * bins + q[..., 1]) * bins + q[..., 2]


def epanechnikov_kernel(height: int, width: int) -> np.ndarray:
    """Epanechnikov profile k(r) = 1 - r^2 over the ellipse inscribed in a height x width window (0 outside)."""
    ys = (np.arange(height) + 0.5) / height * 2 - 1
    xs = (np.arange(width) + 0.5) / width * 2 - 1
    r2 = ys[:, None] ** 2 + xs[None, :] ** 2
    return np.clip(1.0 - r2, 0.0, None)


def kernel_histogram(bin_index: np.ndarray, weights: np.ndarray, n_bins: int) -> np.ndarray:
    """Histogram of ``bin_index`` weighted by ``weights`` (same shape), normalised to sum 1."""
    hist = np.bincount(bin_index.ravel(), weights=weights.ravel(), minlength=n_bins).astype(np.float64)
    total = hist.sum()
    return hist / total if total > 0 else np.full(n_bins, 1.0 / n_bins)


def color_histograms(patches: np.ndarray, bins: int = 16, kernel: bool = True) -> np.ndarray:
    """Kernel-weighted joint RGB histograms of N uint8 patches (N x h x w x 3) -> N x bins^3, each summing to 1.

    One ``bincount`` for the whole batch (bin indices offset per patch), so it is vectorised over patches.
    """
    n, h, w, _ = patches.shape
    n_bins = bins ** 3
    idx = color_bins(patches, bins).reshape(n, -1) + (np.arange(n) * n_bins)[:, None]
    k = epanechnikov_kernel(h, w).ravel() if kernel else np.ones(h * w)
    hist = np.bincount(idx.ravel(), weights=np.tile(k, n), minlength=n * n_bins).reshape(n, n_bins)
    return hist / np.maximum(hist.sum(axis=1, keepdims=True), 1e-12)


def bhattacharyya(p: np.ndarray, q: np.ndarray) -> np.ndarray:
    """Bhattacharyya coefficient sum_u sqrt(p_u q_u) of histograms (last axis): 1 for identical ones."""
    return np.sum(np.sqrt(np.asarray(p) * np.asarray(q)), axis=-1)


def hog_features(patches: torch.Tensor, cell: int = 4, orientations: int = 9) -> torch.Tensor:
    """A HOG-like descriptor, batched on any device: N x 3 x S x S patches in [0, 1] -> N x D.

    Unsigned gradient orientations in ``orientations`` bins (linear vote between the two nearest bins),
    magnitudes summed over ``cell`` x ``cell`` cells, each cell L2-normalised, clipped at 0.2 and
    normalised again (HOG's L2-Hys, per cell rather than per block).
    """
    grey = patches.mean(dim=1, keepdim=True)
    kx = torch.tensor([[[[-1.0, 0.0, 1.0]]]], device=patches.device)
    gx = F.conv2d(F.pad(grey, (1, 1, 0, 0), mode="replicate"), kx)
    gy = F.conv2d(F.pad(grey, (0, 0, 1, 1), mode="replicate"), kx.transpose(2, 3))
    mag = torch.sqrt(gx ** 2 + gy ** 2)
    angle = torch.remainder(torch.atan2(gy, gx), np.pi) / np.pi * orientations  # in [0, orientations)
    lower = torch.floor(angle)
    frac = angle - lower
    lower = lower.long() % orientations
    upper = (lower + 1) % orientations
    votes = torch.zeros(patches.shape[0], orientations, *patches.shape[2:], device=patches.device)
    votes.scatter_add_(1, lower, mag * (1 - frac))
    votes.scatter_add_(1, upper, mag * frac)
    cells = F.avg_pool2d(votes, cell) * cell * cell
    cells = cells / (cells.norm(dim=1, keepdim=True) + 1e-6)
    cells = cells.clamp(max=0.2)
    cells = cells / (cells.norm(dim=1, keepdim=True) + 1e-6)
    return cells.flatten(1)
