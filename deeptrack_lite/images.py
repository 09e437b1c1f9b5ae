"""Reading, writing and normalising frames: every frame the package hands out is H x W x 3 uint8 RGB."""
from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from .errors import FrameError, ImageError

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff", ".webp")


def as_rgb_image(image, *, what: str = "image") -> np.ndarray:
    """Normalise an image array to H x W x 3 uint8 RGB.

    Grayscale (H x W or H x W x 1) is replicated to three channels, RGBA drops its alpha channel,
    float images in [0, 1] and 16-bit images are rescaled. Anything else raises :class:`ImageError`.
    """
    if not isinstance(image, np.ndarray):
        try:
            image = np.asarray(image)
        except Exception as exc:  # pragma: no cover - exotic inputs
            raise ImageError(f"{what} is not an image array: {type(image).__name__}") from exc
    if image.ndim == 3 and image.shape[2] == 1:
        image = image[..., 0]
    if image.ndim == 2:
        image = np.repeat(image[..., None], 3, axis=2)
    elif image.ndim == 3 and image.shape[2] == 4:
        image = image[..., :3]
    if image.ndim != 3 or image.shape[2] != 3:
        raise ImageError(f"{what} must be H x W x 3 RGB (or grayscale / RGBA), got shape {image.shape}")
    if image.shape[0] < 1 or image.shape[1] < 1:
        raise ImageError(f"{what} is empty (shape {image.shape})")
    if image.dtype == np.uint8:
        return np.ascontiguousarray(image)
    if image.dtype == np.uint16:
        return (image // 257).astype(np.uint8)
    if image.dtype == np.bool_:
        return image.astype(np.uint8) * 255
    if np.issubdtype(image.dtype, np.floating):
        if not np.all(np.isfinite(image)):
            raise ImageError(f"{what} contains NaN or infinite pixels")
        scale = 255.0 if image.max(initial=0.0) <= 1.0 else 1.0
        return np.clip(image * scale + 0.5, 0, 255).astype(np.uint8)
    if np.issubdtype(image.dtype, np.integer):
        return np.clip(image, 0, 255).astype(np.uint8)
    raise ImageError(f"{what} has unsupported pixel type {image.dtype}")


def imread_rgb(path) -> np.ndarray:
    """Read an image file as H x W x 3 uint8 RGB; :class:`FrameError` names the file if it cannot."""
    path = Path(path)
    if not path.is_file():
        raise FrameError(f"frame file is missing: {path}")
    data = np.fromfile(str(path), dtype=np.uint8)  # works with non-ASCII paths, unlike cv2.imread
    image = cv2.imdecode(data, cv2.IMREAD_UNCHANGED) if data.size else None
    if image is None:
        raise FrameError(f"frame file is unreadable (empty, truncated or not an image): {path}")
    if image.dtype not in (np.uint8, np.uint16, np.float32, np.float64):
        raise FrameError(f"{path}: {image.dtype} pixels (signed or wide integers) have no agreed range; convert the "
                         "frames to 8-bit (or unsigned 16-bit) images")
    if image.ndim == 3 and image.shape[2] in (3, 4):  # OpenCV's BGR(A) -> RGB(A), for any pixel type
        image = image[..., [2, 1, 0, 3][:image.shape[2]]]
    try:
        return as_rgb_image(image, what=str(path))
    except ImageError as exc:
        raise FrameError(str(exc)) from exc


def imwrite_rgb(path, image, *, quality: int = 95) -> None:
    """Write an RGB image; the format follows the file suffix."""
    path = Path(path)
    bgr = cv2.cvtColor(as_rgb_image(image), cv2.COLOR_RGB2BGR)
    params = [cv2.IMWRITE_JPEG_QUALITY, int(quality)] if path.suffix.lower() in (".jpg", ".jpeg") else []
    ok, buf = cv2.imencode(path.suffix or ".png", bgr, params)
    if not ok:
        raise ImageError(f"could not encode an image as {path.suffix}")
    buf.tofile(str(path))
