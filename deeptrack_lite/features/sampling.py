"""Candidate and training-sample generators around a box, shared by every tracker that samples.

In the spirit of py-MDNet's sample generator: Gaussian, uniform and whole-image samplers in translation
and scale, plus IoU-constrained positives and negatives. All draw from a ``numpy.random.Generator`` so a
seeded tracker is reproducible; all return N x 4 float64 (x, y, w, h) arrays.
"""
from __future__ import annotations

import numpy as np

from ..boxes import as_box, clip_box, iou
from ..errors import BoxError


def _from_centers(cx, cy, w, h):
    return np.stack([cx - w / 2, cy - h / 2, w, h], axis=-1)


def _clip_to_image(boxes, image_size, min_size: float = 4.0):
    """Keep boxes at least ``min_size`` wide and their centers inside the image (w, h)."""
    if image_size is None:
        return boxes
    W, H = image_size
    w = np.clip(boxes[:, 2], min_size, W - 1)
    h = np.clip(boxes[:, 3], min_size, H - 1)
    cx = np.clip(boxes[:, 0] + boxes[:, 2] / 2, w / 2, W - w / 2)
    cy = np.clip(boxes[:, 1] + boxes[:, 3] / 2, h / 2, H - h / 2)
    return _from_centers(cx, cy, w, h)


def gaussian_samples(box, n: int, rng: np.random.Generator, *, trans: float = 0.1, scale: float = 1.05,
                     aspect: float = 1.0, image_size=None) -> np.ndarray:
    """Centers moved by N(0, trans * mean(w, h)) (clipped at 2 sigma), sizes scaled by ``scale ** N(0, 0.5)``
    (and the aspect ratio by ``aspect ** N(0, 0.5)``)."""
    x, y, w, h = as_box(box)
    sd = trans * (w + h) / 2
    d = np.clip(rng.normal(0, 1, (n, 2)), -2, 2) * sd
    s = scale ** np.clip(0.5 * rng.normal(0, 1, n), -1, 1)
    a = aspect ** np.clip(0.5 * rng.normal(0, 1, n), -1, 1)
    ws, hs = w * s * np.sqrt(a), h * s / np.sqrt(a)
    return _clip_to_image(_from_centers(x + w / 2 + d[:, 0], y + h / 2 + d[:, 1], ws, hs), image_size)


def uniform_samples(box, n: int, rng: np.random.Generator, *, trans: float = 1.0, scale: float = 1.2,
                    image_size=None) -> np.ndarray:
    """Centers moved uniformly within ``trans`` box sizes, sizes scaled by ``scale ** U(-1, 1)``."""
    x, y, w, h = as_box(box)
    d = rng.uniform(-1, 1, (n, 2)) * trans * np.array([w, h])
    s = scale ** rng.uniform(-1, 1, n)
    return _clip_to_image(_from_centers(x + w / 2 + d[:, 0], y + h / 2 + d[:, 1], w * s, h * s), image_size)


def whole_image_samples(box, n: int, rng: np.random.Generator, image_size, *, scale: float = 1.5) -> np.ndarray:
    """Boxes anywhere in the image, sizes scaled by ``scale ** U(-1, 1)``: far negatives, re-detection."""
    x, y, w, h = as_box(box)
    W, H = image_size
    s = scale ** rng.uniform(-1, 1, n)
    ws, hs = np.minimum(w * s, W - 1), np.minimum(h * s, H - 1)
    cx = rng.uniform(ws / 2, W - ws / 2)
    cy = rng.uniform(hs / 2, H - hs / 2)
    return _from_centers(cx, cy, ws, hs)


def samples_in_iou_range(sampler, box, n: int, iou_range, *, max_rounds: int = 20, **kwargs) -> np.ndarray:
    """Draw from ``sampler(box, m, **kwargs)`` until ``n`` samples have IoU with ``box`` inside ``iou_range``
    (inclusive bounds). Raises :class:`BoxError` if the sampler cannot produce them (e.g. a range no
    sample of this spread reaches)."""
    lo, hi = iou_range
    kept = np.zeros((0, 4))
    batch = max(2 * n, 64)
    for _ in range(max_rounds):
        cand = sampler(box, batch, **kwargs)
        ov = iou(cand, box)
        kept = np.vstack([kept, cand[(ov >= lo) & (ov <= hi)]])
        if len(kept) >= n:
            return kept[:n]
        batch = min(2 * batch, max(4096, 4 * n))  # grow, but bounded: an impossible range must fail fast
    raise BoxError(f"could only draw {len(kept)} of {n} samples with IoU in [{lo}, {hi}]; widen the sampler or the range")


def positive_samples(box, n: int, rng, image_size, *, iou_range=(0.7, 1.0), scale: float = 1.3) -> np.ndarray:
    """Boxes that count as the target: Gaussian shifts of 0.1 box sizes and rescalings around ``box``, IoU in
    ``iou_range`` (MDNet's positives: IoU >= 0.7)."""
    return samples_in_iou_range(gaussian_samples, box, n, iou_range, rng=rng, trans=0.1, scale=scale,
                                image_size=image_size)


def negative_samples(box, n: int, rng, image_size, *, iou_range=(0.0, 0.5), trans: float = 1.5,
                     scale: float = 1.6) -> np.ndarray:
    """Boxes that count as background: uniform within ``trans`` box sizes of ``box``, IoU in ``iou_range``
    (MDNet's negatives: IoU <= 0.5 for training, <= 0.3 for online updates)."""
    return samples_in_iou_range(uniform_samples, box, n, iou_range, rng=rng, trans=trans, scale=scale,
                                image_size=image_size)


def positive_and_negative_samples(box, rng, image_size, *, n_pos: int = 50, n_neg: int = 200,
                                  pos_iou=(0.7, 1.0), neg_iou=(0.0, 0.3)) -> tuple[np.ndarray, np.ndarray]:
    """Training samples for an object/background classifier: positives close to ``box`` and negatives
    around it (half from a ring around the target, half from anywhere in the image)."""
    pos = samples_in_iou_range(gaussian_samples, box, n_pos, pos_iou, rng=rng, trans=0.1, scale=1.1, image_size=image_size)
    near = samples_in_iou_range(uniform_samples, box, n_neg - n_neg // 2, neg_iou, rng=rng, trans=1.5, scale=1.3,
                                image_size=image_size)
    far = samples_in_iou_range(whole_image_samples, box, n_neg // 2, neg_iou, rng=rng, image_size=image_size)
    return pos, np.vstack([near, far])


def visible_training_samples(box, rng, image_size, **kwargs):
    """:func:`positive_and_negative_samples` around the part of ``box`` inside the image, or None when that
    part is too small to sample from (the samplers keep boxes inside the image, so a box mostly outside it
    has no positives). For trackers: a None means "learn nothing from this frame"."""
    W, H = image_size
    visible = clip_box(as_box(box), (H, W))
    if visible[2] < 4 or visible[3] < 4:
        return None
    try:
        return positive_and_negative_samples(visible, rng, image_size, **kwargs)
    except BoxError:
        return None


def translation_grid(box, image_size, *, radius: float = 1.0, step: float = 4.0):
    """Boxes of the same size as ``box`` on a grid of centers within ``radius`` box sizes: for drawing
    observation maps. Returns (xs, ys, boxes) with boxes of shape (len(ys) * len(xs), 4), row-major."""
    x, y, w, h = as_box(box)
    cx, cy = x + w / 2, y + h / 2
    W, H = image_size
    xs = np.arange(max(cx - radius * w, 0), min(cx + radius * w, W) + 1e-9, step)
    ys = np.arange(max(cy - radius * h, 0), min(cy + radius * h, H) + 1e-9, step)
    gx, gy = np.meshgrid(xs, ys)
    boxes = _from_centers(gx.ravel(), gy.ravel(), np.full(gx.size, w), np.full(gx.size, h))
    return xs, ys, boxes
