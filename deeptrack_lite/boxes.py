"""Bounding boxes. The interchange format everywhere is ``xywh``: (x, y, width, height), with (x, y) the
top-left corner in the pixel coordinates of the annotation files, treated as 0-based.

All functions accept a single box of shape (4,) or a stack of shape (N, 4) and broadcast.
"""
from __future__ import annotations

import numpy as np

from .errors import BoxError


def as_box(box, *, what: str = "box") -> np.ndarray:
    """Validate one (x, y, w, h) box and return it as a float64 array of shape (4,).

    Raises :class:`BoxError` for a wrong shape, a NaN or infinite value, or a width or height <= 0.
    """
    try:
        arr = np.asarray(box, dtype=np.float64).reshape(-1)
    except (TypeError, ValueError) as exc:
        raise BoxError(f"{what} must be four numbers (x, y, w, h), got {box!r}") from exc
    if arr.shape != (4,):
        raise BoxError(f"{what} must be four numbers (x, y, w, h), got {arr.size} values: {box!r}")
    if not np.all(np.isfinite(arr)):
        raise BoxError(f"{what} has a NaN or infinite value: {arr.tolist()}")
    if arr[2] <= 0 or arr[3] <= 0:
        raise BoxError(f"{what} has zero or negative size (w={arr[2]:g}, h={arr[3]:g}); width and height must be > 0")
    return arr


def as_boxes(boxes, *, what: str = "boxes") -> np.ndarray:
    """Return ``boxes`` as a float64 array of shape (N, 4) (NaN allowed: it marks 'no box')."""
    arr = np.asarray(boxes, dtype=np.float64)
    if arr.ndim == 1 and arr.size == 4:
        arr = arr[None]
    if arr.ndim != 2 or arr.shape[1] != 4:
        raise BoxError(f"{what} must have shape (N, 4) in (x, y, w, h) format, got shape {arr.shape}")
    return arr


def xywh_to_xyxy(boxes) -> np.ndarray:
    """(x, y, w, h) -> (x1, y1, x2, y2) with x2 = x + w (continuous coordinates)."""
    b = np.asarray(boxes, dtype=np.float64)
    return np.concatenate([b[..., :2], b[..., :2] + b[..., 2:]], axis=-1)


def xyxy_to_xywh(boxes) -> np.ndarray:
    """(x1, y1, x2, y2) -> (x, y, w, h)."""
    b = np.asarray(boxes, dtype=np.float64)
    return np.concatenate([b[..., :2], b[..., 2:] - b[..., :2]], axis=-1)


def box_center(boxes) -> np.ndarray:
    """Centers as OTB computes them: ``(x + (w - 1) / 2, y + (h - 1) / 2)``."""
    b = np.asarray(boxes, dtype=np.float64)
    return b[..., :2] + (b[..., 2:] - 1.0) / 2.0


def box_area(boxes) -> np.ndarray:
    """Plain ``w * h`` (no +1), as OTB's success measure uses."""
    b = np.asarray(boxes, dtype=np.float64)
    return b[..., 2] * b[..., 3]


def iou(boxes_a, boxes_b) -> np.ndarray:
    """Intersection over union of (x, y, w, h) boxes, elementwise with broadcasting.

    Intersection and areas use continuous extents (``x2 = x + w``, area ``w * h``), as got10k's
    ``rect_iou``. Boxes that do not overlap, or with zero area, give 0. The result is clipped to [0, 1] as
    got10k clips it: ``(x + w) - x`` can exceed ``w`` by a rounding error, and an IoU of 1 + 1e-14 for two
    identical boxes would count in the success curve's last bin (IoU > 1), which no overlap can reach.
    """
    a = xywh_to_xyxy(boxes_a)
    b = xywh_to_xyxy(boxes_b)
    iw = np.clip(np.minimum(a[..., 2], b[..., 2]) - np.maximum(a[..., 0], b[..., 0]), 0, None)
    ih = np.clip(np.minimum(a[..., 3], b[..., 3]) - np.maximum(a[..., 1], b[..., 1]), 0, None)
    inter = iw * ih
    union = box_area(boxes_a) + box_area(boxes_b) - inter
    with np.errstate(invalid="ignore", divide="ignore"):
        out = np.where(union > 0, inter / np.where(union > 0, union, 1.0), 0.0)
    return np.clip(out, 0.0, 1.0)


def polygon_to_box(polygon) -> np.ndarray:
    """Axis-aligned bounding rectangle of polygons (x1, y1, x2, y2, ..., xk, yk) -> (x, y, w, h).

    This is the VOT toolkit's conversion of a rotated region to a rectangle (min/max of the corners).
    """
    p = np.asarray(polygon, dtype=np.float64)
    xs, ys = p[..., 0::2], p[..., 1::2]
    x1, y1 = xs.min(axis=-1), ys.min(axis=-1)
    return np.stack([x1, y1, xs.max(axis=-1) - x1, ys.max(axis=-1) - y1], axis=-1)


def clip_box(box, image_shape) -> np.ndarray:
    """The part of a box inside an image of shape (H, W, ...); zero size if they do not overlap."""
    height, width = image_shape[:2]
    x1, y1, x2, y2 = np.moveaxis(xywh_to_xyxy(box), -1, 0)
    x1, x2 = np.clip(x1, 0, width), np.clip(x2, 0, width)
    y1, y2 = np.clip(y1, 0, height), np.clip(y2, 0, height)
    return np.stack([x1, y1, x2 - x1, y2 - y1], axis=-1)


def check_box_in_image(box, image_shape, *, what: str = "box") -> np.ndarray:
    """Validate a box and that at least part of it lies inside the image; return it as (4,) float64."""
    arr = as_box(box, what=what)
    inside = clip_box(arr, image_shape)
    if inside[2] <= 0 or inside[3] <= 0:
        h, w = image_shape[:2]
        raise BoxError(f"{what} {arr.tolist()} lies entirely outside the {w}x{h} image")
    return arr
