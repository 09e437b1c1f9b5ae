"""Random grey patches of natural images: the off-line pretraining data of DLT's autoencoder.

DLT pretrained on the Tiny Images set (millions of 32x32 pictures). Offline we stand in with random
crops of every picture bundled with scikit-image (the synthetic benchmark's targets and backgrounds among
them), taken at random positions and sizes and shrunk to ``size`` x ``size``, so patches range from
whole-object views to fine texture, as tiny images do. Deterministic for a seed.
"""
from __future__ import annotations

import cv2
import numpy as np

from ..errors import DataError
from .pictures import skimage_picture
from .synthetic import BACKGROUNDS, OCCLUDER_SOURCES, TARGETS

PATCH_SOURCES = tuple(sorted({src for src, _, _ in TARGETS.values()} | set(BACKGROUNDS) | set(OCCLUDER_SOURCES)))


def _grey(name: str) -> np.ndarray:
    rgba = skimage_picture(name)
    return (rgba[..., :3] @ np.array([0.299, 0.587, 0.114], np.float32)).astype(np.float32)


def natural_patches(n: int, size: int = 32, *, seed: int = 0, sources=PATCH_SOURCES, min_side: int = 12,
                    max_fraction: float = 0.6, flip: bool = True) -> np.ndarray:
    """``n`` grey patches, N x size x size float32 in [0, 1].

    Each patch: a source image chosen uniformly from ``sources`` (scikit-image picture names), a square
    crop whose side is log-uniform between ``min_side`` px and ``max_fraction`` of the image's shorter
    side, at a uniform position, resized with area averaging, and mirrored half of the time (``flip``).
    """
    if n < 1 or size < 4:
        raise DataError("natural_patches: need n >= 1 and size >= 4")
    import skimage.data

    unknown = [s for s in sources if not hasattr(skimage.data, s)]
    if unknown or not sources:
        raise DataError(f"natural_patches: unknown scikit-image picture(s) {unknown or list(sources)}")
    rng = np.random.default_rng(seed)
    images = [_grey(s) for s in sources]
    which = rng.integers(0, len(images), n)
    u_side, u_x, u_y, u_flip = rng.random(n), rng.random(n), rng.random(n), rng.random(n)
    out = np.empty((n, size, size), np.float32)
    for i in range(n):  # off-line data preparation, once per pretraining run: a loop is fine here
        img = images[which[i]]
        h, w = img.shape
        hi = max(min_side + 1, max_fraction * min(h, w))
        side = int(round(np.exp(np.log(min_side) + u_side[i] * (np.log(hi) - np.log(min_side)))))
        x, y = int(u_x[i] * (w - side)), int(u_y[i] * (h - side))
        crop = img[y:y + side, x:x + side]
        patch = cv2.resize(crop, (size, size), interpolation=cv2.INTER_AREA if side > size else cv2.INTER_LINEAR)
        out[i] = patch[:, ::-1] if flip and u_flip[i] < 0.5 else patch
    return out


def describe_patches(n: int, size: int, seed: int, sources=PATCH_SOURCES) -> str:
    """One line saying exactly which data :func:`natural_patches` drew (for provenance files)."""
    return (f"{n} random {size}x{size} grey patches (seed {seed}) of the scikit-image pictures "
            f"{', '.join(sources)}; square crops, side log-uniform in [12 px, 0.6 x shorter side], area-resized, "
            f"half mirrored")
