"""SO-DLT's structured-output network (Wang et al. 2015), scaled to a laptop: crop in, objectness map out.

- Input: a square search region around the target, resized to ``input_size`` (128) pixels.
- Trunk: the bundled ImageNet EfficientNet-Lite0's first stages, frozen: its stride-8 maps (40 channels) and
  stride-16 maps (112 channels) (:func:`trunk_features`). SO-DLT fine-tunes its whole CNN; here only the
  head learns, off-line and online, so that a 2-core CPU keeps up, and both online networks share one trunk.
- Head (:class:`ObjectnessHead`): 1x1 reductions of both taps, the stride-16 one upsampled, then two 3x3
  convolutions and a 1x1 to one logit per cell, upsampled to a ``map_size`` x ``map_size`` map (32): the
  probability that each pixel of the crop belongs to the object (a *structured* output, not one score).
- Labels: off-line, the synthetic target's visible mask (:meth:`SyntheticSequence.target_mask`); online, the
  box (:func:`box_coverage`: the fraction of each map cell the box covers), as SO-DLT labels its samples.
- Reading a box from a map (:func:`box_from_map`): among boxes of the current aspect ratio at a few sizes and
  every position, the one that maximises ``sum over its pixels of (2 P - 1)``: each pixel inside counts for
  as much as it is more likely object than background, so the box grows over pixels with P > 0.5 and shrinks
  away from those below (the structured output gives position and size at once). The tracker compares P with
  the map's own midpoint instead of 0.5 (``level="adaptive"``): an online map whose object sits at P 0.7
  crosses 0.5 inside the object's edge, and reading it at 0.5 shrank the box frame after frame on real video.
  Measured on the first 300 frames of six of ``../shared/sequences`` (vot15_bag, Crossing, Suv, Car1,
  UAV123_10fps_person11, TinyTLP_Bike; seed 0): at 0.5 the median box was 0.73x the true size on vot15_bag and
  0.48x on person11, mean success AUC 0.597; adaptive: 0.81x and 0.68x, AUC 0.651 (``python -m deeptrack_lite
  benchmark --dataset ../shared/sequences --sequences vot15_bag,Crossing,Suv,Car1,UAV123_10fps_person11,TinyTLP_Bike
  --frames 300 --trackers sodlt,sodlt-half=sodlt:box_level=0.5 --out OUT``). Those are the sequences the rule
  was chosen on; notebook 06's real-video section reports SO-DLT on sequences it was not.

Pretraining lives in :mod:`deeptrack_lite.training.sodlt`; the tracker in :mod:`deeptrack_lite.trackers.sodlt`.
"""
from __future__ import annotations

from pathlib import Path

import torch
import torch.nn as nn
import torch.nn.functional as F

from ..fileio import WEIGHTS_DIR
from .trunk import trunk_features
from .weightfile import load_model_file, save_model_file

DEFAULT_SODLT = WEIGHTS_DIR / "sodlt.pt"


class ObjectnessHead(nn.Module):
    """Trunk taps -> N x ``map_size`` x ``map_size`` objectness logits (apply ``sigmoid`` for probabilities)."""

    def __init__(self, low_channels: int = 40, high_channels: int = 112, width: int = 64, map_size: int = 32):
        super().__init__()
        self.map_size = int(map_size)
        self.low = nn.Conv2d(low_channels, width // 2, 1)
        self.high = nn.Conv2d(high_channels, width // 2, 1)
        self.body = nn.Sequential(nn.ReLU(), nn.Conv2d(width, width, 3, padding=1), nn.ReLU(),
                                  nn.Conv2d(width, width, 3, padding=1), nn.ReLU(), nn.Conv2d(width, 1, 1))
        self.width = int(width)

    def forward(self, low: torch.Tensor, high: torch.Tensor) -> torch.Tensor:
        up = F.interpolate(self.high(high), size=low.shape[-2:], mode="bilinear", align_corners=False)
        logits = self.body(torch.cat([self.low(low), up], dim=1))
        return F.interpolate(logits, size=(self.map_size, self.map_size), mode="bilinear", align_corners=False)[:, 0]

    def config(self) -> dict:
        return {"low_channels": self.low.in_channels, "high_channels": self.high.in_channels, "width": self.width,
                "map_size": self.map_size}


def objectness_loss(head: ObjectnessHead, low, high, target: torch.Tensor) -> torch.Tensor:
    """Per-pixel binary cross-entropy between the head's map and a target map in [0, 1] (mean over pixels)."""
    return F.binary_cross_entropy_with_logits(head(low, high), target)


def fit_objectness(head: ObjectnessHead, optimizer, low, high, target, steps: int, batch: int,
                   generator: torch.Generator | None = None) -> list[float]:
    """``steps`` optimizer steps on minibatches of ``batch`` samples drawn (with replacement) from the given
    trunk features and target maps: SO-DLT's online fine-tuning. Returns the loss of every step."""
    losses = []
    head.train()
    for _ in range(int(steps)):
        idx = torch.randint(len(target), (int(batch),), generator=generator, device=target.device)
        loss = objectness_loss(head, low[idx], high[idx], target[idx])
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(float(loss.detach()))
    head.eval()
    return losses


def search_region(box, context: float, scale: float = 1.0) -> torch.Tensor:
    """The square region (x, y, side, side) centred on ``box`` with side ``context * scale * sqrt(w h)``."""
    x, y, w, h = [float(v) for v in box]
    side = context * scale * (max(w, 1.0) * max(h, 1.0)) ** 0.5
    return torch.tensor([x + w / 2 - side / 2, y + h / 2 - side / 2, side, side], dtype=torch.float64)


def to_region(boxes, region) -> torch.Tensor:
    """Image boxes (x, y, w, h) -> (x0, y0, x1, y1) as fractions of the square ``region`` (x, y, s, s)."""
    b = torch.as_tensor(boxes, dtype=torch.float64).reshape(-1, 4)
    r = torch.as_tensor(region, dtype=torch.float64).reshape(-1, 4)
    x0, y0 = (b[:, 0] - r[:, 0]) / r[:, 2], (b[:, 1] - r[:, 1]) / r[:, 3]
    return torch.stack([x0, y0, x0 + b[:, 2] / r[:, 2], y0 + b[:, 3] / r[:, 3]], dim=1)


def box_coverage(box01: torch.Tensor, size: int) -> torch.Tensor:
    """N x size x size: the fraction of every cell of a size x size map over the unit square that the box
    (x0, y0, x1, y1) (fractions) covers. The online label map of a box."""
    b = torch.as_tensor(box01, dtype=torch.float32).reshape(-1, 4)
    edges = torch.arange(size + 1, dtype=torch.float32, device=b.device) / size
    lo, hi = edges[:-1], edges[1:]
    cov_x = (torch.minimum(hi, b[:, 2:3]) - torch.maximum(lo, b[:, 0:1])).clamp_min(0) * size
    cov_y = (torch.minimum(hi, b[:, 3:4]) - torch.maximum(lo, b[:, 1:2])).clamp_min(0) * size
    return cov_y[:, :, None] * cov_x[:, None, :]


def box_from_map(prob: torch.Tensor, size, scale_steps=(1 / 1.05, 1.0, 1.05),
                 level: float | str = 0.5) -> tuple[torch.Tensor, float, float]:
    """SO-DLT's box from an objectness map ``prob`` (S x S, values in [0, 1]).

    ``size``: the previous (width, height) in map cells. Every box of size ``size * f`` (f in ``scale_steps``)
    at every integer position is scored by ``sum over its cells of (P - level)`` (integral image: all boxes in
    one pass): with ``level`` 0.5 that is half the sum of ``2 P - 1``, so the box takes in the cells more likely
    object than background. ``level="adaptive"``: the midway point between this map's own object and background
    levels (the mean P inside and outside the box read at 0.5), for maps whose object is not near 1.
    Returns (box (x, y, w, h) in map cells, its mean ``2 (P - level)``, and the map's confidence: the mean
    probability inside the box read at 0.5, the map's object level)."""
    S = prob.shape[-1]
    gain = F.pad(prob.double().cumsum(0).cumsum(1), (1, 0, 1, 0))  # integral image of P, (S + 1) x (S + 1)
    score, x, y, bw, bh, w, h = _best_window(gain, size, scale_steps, 0.5)
    confidence = score / (bw * bh) + 0.5  # mean P inside the box
    if level == "adaptive":
        outside = (float(gain[-1, -1]) - confidence * bw * bh) / max(S * S - bw * bh, 1)
        level = 0.5 * (confidence + outside) if bw * bh < S * S else 0.5
    if float(level) != 0.5:
        score, x, y, bw, bh, w, h = _best_window(gain, size, scale_steps, float(level))
    # the window has whole-cell sides; report the unrounded size around the window's centre
    box = torch.tensor([x + bw / 2 - w / 2, y + bh / 2 - h / 2, w, h], dtype=torch.float64)
    return box, 2 * score / (bw * bh), confidence


def _best_window(gain, size, scale_steps, level):
    """(sum of P - level, x, y, width, height in whole cells, unrounded width, height) of the best window."""
    S = gain.shape[-1] - 1
    best = None
    for f in scale_steps:
        bw = int(min(max(round(float(size[0]) * f), 1), S))
        bh = int(min(max(round(float(size[1]) * f), 1), S))
        sums = gain[bh:, bw:] - gain[:-bh, bw:] - gain[bh:, :-bw] + gain[:-bh, :-bw] - level * bw * bh
        k = int(torch.argmax(sums))
        y, x = divmod(k, sums.shape[1])
        score = float(sums[y, x])
        if best is None or score > best[0]:
            best = (score, x, y, bw, bh, float(size[0]) * f, float(size[1]) * f)
    return best


def map_iou(prob: torch.Tensor, mask: torch.Tensor, threshold: float = 0.5) -> torch.Tensor:
    """Per-map intersection over union of ``prob > threshold`` and ``mask > 0.5`` (N x S x S each); 1 where
    both are empty."""
    a, b = prob > threshold, mask > 0.5
    inter = (a & b).flatten(1).sum(1).double()
    union = (a | b).flatten(1).sum(1).double()
    return torch.where(union > 0, inter / union.clamp_min(1), torch.ones_like(union))


def save_sodlt(head: ObjectnessHead, path, settings: dict, provenance: dict | None = None) -> Path:
    """The head's weights and the crop settings it was trained with (``context``, ``input_size``)."""
    return save_model_file(path, {**head.config(), **settings}, head, provenance)


def load_sodlt(path=None, device="cpu") -> tuple[ObjectnessHead, dict]:
    """(head, settings) from a file written by :func:`save_sodlt` (the shipped default when None), loaded with
    ``weights_only=True``."""
    head, config = load_model_file(DEFAULT_SODLT if path is None else path, "SO-DLT", "pretrain-sodlt",
                                   lambda c: ObjectnessHead(c["low_channels"], c["high_channels"], c["width"], c["map_size"]),
                                   device)
    return head, {"context": float(config["context"]), "input_size": int(config["input_size"])}


__all__ = ["DEFAULT_SODLT", "ObjectnessHead", "box_coverage", "box_from_map", "fit_objectness", "load_sodlt",
           "map_iou", "objectness_loss", "save_sodlt", "search_region", "to_region", "trunk_features"]
