"""The picture library the synthetic data are made of: scikit-image's bundled pictures (every user has them),
as float32 RGBA, and the soft elliptical outline that turns a crop into an object-like target.

Used by the synthetic sequences, DLT's natural-image patches and the course's feature-map scenes.
"""
from __future__ import annotations

from functools import lru_cache

import numpy as np


@lru_cache(maxsize=None)
def skimage_picture(name: str) -> np.ndarray:
    """A bundled scikit-image picture (``skimage.data.<name>()``) as read-only float32 RGBA in [0, 1]; grey
    pictures get a neutral tint."""
    import skimage.data

    img = getattr(skimage.data, name)()
    img = np.asarray(img, dtype=np.float32)
    if img.max() > 1.5:
        img /= 255.0
    if img.ndim == 2:
        img = np.stack([img * 0.95, img * 0.97, img], axis=-1)
    if img.shape[2] == 3:
        img = np.concatenate([img, np.ones(img.shape[:2] + (1,), np.float32)], axis=-1)
    img.setflags(write=False)
    return img


def soft_ellipse(h: int, w: int) -> np.ndarray:
    """An h x w alpha mask: 1 inside the inscribed ellipse, falling to 0 over the last twelfth of its radius."""
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    r = np.sqrt(((xx + 0.5 - w / 2) / (w / 2)) ** 2 + ((yy + 0.5 - h / 2) / (h / 2)) ** 2)
    return np.clip((1.0 - r) * 12.0, 0.0, 1.0)


__all__ = ["skimage_picture", "soft_ellipse"]
