"""SiamFC (Bertinetto et al., ECCVW 2016): a fully-convolutional Siamese network, trained off-line once, that
finds an exemplar in a search region by cross-correlation: no online learning at all.

- Crops: the exemplar is a square of side ``sqrt((w + p)(h + p))``, ``p = (w + h) / 2`` of context, around the
  target of the first frame, resized to ``exemplar_size``; a search region is the same square scaled by
  ``search_size / exemplar_size`` around the last position.
- Embedding: the bundled ImageNet EfficientNet-Lite0's stride-8 and stride-16 maps (frozen; SiamFC trains
  AlexNet from scratch on ImageNet VID, which a 2-core CPU cannot) and a small trained adjustment
  (:class:`SiamFCNet`: 1x1 reductions, the stride-16 one upsampled, a 3x3 convolution), the same for both
  branches.
- Response: the exemplar's embedding slid over the search region's (:func:`~.correlation.cross_correlation`),
  times a learned gain plus a bias (SiamFC's "adjust" layer): one logit per offset, stride 8 pixels.
- Training (:mod:`deeptrack_lite.training.siamfc`): pairs of frames of one video, logistic loss against a label
  map that is positive within ``radius`` pixels of the target's true position, both classes weighted equally.
"""
from __future__ import annotations

from pathlib import Path

import torch
import torch.nn as nn
import torch.nn.functional as F

from ..fileio import WEIGHTS_DIR
from .correlation import cross_correlation
from .trunk import trunk_features  # the same frozen stride-8 and stride-16 taps as SO-DLT's
from .weightfile import load_model_file, save_model_file

DEFAULT_SIAMFC = WEIGHTS_DIR / "siamfc.pt"
STRIDE = 8  # pixels of a crop per response cell


def exemplar_side(box, context: float = 0.5) -> float:
    """SiamFC's exemplar square side around a (x, y, w, h) box: sqrt((w + p)(h + p)), p = 2 context (w + h) / 2."""
    w, h = max(float(box[2]), 1.0), max(float(box[3]), 1.0)
    p = context * (w + h)
    return float(((w + p) * (h + p)) ** 0.5)


class SiamFCNet(nn.Module):
    """The trained part of the Siamese network: the shared embedding adjustment and the response's gain and bias."""

    def __init__(self, low_channels: int = 40, high_channels: int = 112, width: int = 64):
        super().__init__()
        self.low = nn.Conv2d(low_channels, width // 2, 1)
        self.high = nn.Conv2d(high_channels, width // 2, 1)
        self.mix = nn.Conv2d(width, width, 3, padding=1)
        self.gain = nn.Parameter(torch.tensor(0.01))
        self.bias = nn.Parameter(torch.tensor(0.0))
        self.width = int(width)

    def embed(self, low: torch.Tensor, high: torch.Tensor) -> torch.Tensor:
        """Trunk maps -> the embedding both branches share (N x width x H/8 x W/8)."""
        up = F.interpolate(self.high(high), size=low.shape[-2:], mode="bilinear", align_corners=False)
        return self.mix(F.relu(torch.cat([self.low(low), up], dim=1)))

    def response(self, exemplar: torch.Tensor, search: torch.Tensor) -> torch.Tensor:
        """Response logits (N x R x R) of exemplar embeddings over search embeddings (one exemplar: every search)."""
        return (cross_correlation(exemplar, search) * self.gain + self.bias)[:, 0]

    def forward(self, z_low, z_high, x_low, x_high) -> torch.Tensor:
        return self.response(self.embed(z_low, z_high), self.embed(x_low, x_high))

    def config(self) -> dict:
        return {"low_channels": self.low.in_channels, "high_channels": self.high.in_channels, "width": self.width}


def response_labels(size: int, centers, radius_cells: float) -> torch.Tensor:
    """N x size x size labels: 1 within ``radius_cells`` of each (x, y) centre (in cells), else 0."""
    c = torch.as_tensor(centers, dtype=torch.float32).reshape(-1, 2)
    grid = torch.arange(size, dtype=torch.float32)
    d2 = (grid[None, None, :] - c[:, 0, None, None]) ** 2 + (grid[None, :, None] - c[:, 1, None, None]) ** 2
    return (d2 <= radius_cells ** 2).float()


def balanced_logistic_loss(logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """SiamFC's loss: the logistic loss of every response cell, positives and negatives each weighing half."""
    pos = labels.sum(dim=(-2, -1), keepdim=True).clamp_min(1)
    neg = (1 - labels).sum(dim=(-2, -1), keepdim=True).clamp_min(1)
    weights = labels / (2 * pos) + (1 - labels) / (2 * neg)
    return F.binary_cross_entropy_with_logits(logits, labels, weight=weights, reduction="sum") / len(logits)


def save_siamfc(net: SiamFCNet, path, crops: dict, provenance: dict | None = None) -> Path:
    """Write the trained network with the crop settings it was trained with (``exemplar_size``, ...)."""
    return save_model_file(path, {**net.config(), "crops": crops}, net, provenance)


def load_siamfc(path=None, device="cpu") -> tuple[SiamFCNet, dict]:
    """(network, crop settings) from a file written by :func:`save_siamfc` (default: the package's own)."""
    net, config = load_model_file(DEFAULT_SIAMFC if path is None else path, "SiamFC", "train-siamfc",
                                  lambda c: SiamFCNet(c["low_channels"], c["high_channels"], c["width"]), device)
    return net, config["crops"]


__all__ = ["DEFAULT_SIAMFC", "STRIDE", "SiamFCNet", "balanced_logistic_loss", "exemplar_side", "load_siamfc",
           "response_labels", "save_siamfc", "trunk_features"]
