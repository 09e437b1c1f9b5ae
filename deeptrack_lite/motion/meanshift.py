"""Mean shift on kernel-weighted colour histograms (Comaniciu, Ramesh & Meer, 2003) and CamShift-style scale
and orientation adaptation (Bradski, 1998), written out so every iteration can be inspected.

The target model q is the Epanechnikov-weighted colour histogram of the target window. At a candidate
center y, each pixel x_i of the window votes with weight w_i = sqrt(q_u / p_u(y)) for its bin u; with the
Epanechnikov profile the mean-shift step is simply the w-weighted mean of the pixel positions, and it climbs
the Bhattacharyya coefficient rho(y) = sum_u sqrt(p_u(y) q_u).
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..features.handcrafted import bhattacharyya, color_bins, epanechnikov_kernel, kernel_histogram


def _window(image: np.ndarray, cx: float, cy: float, w: float, h: float):
    """Integer pixel window of size ~(w, h) centered at (cx, cy), clipped to the image; returns the
    window's pixels and the coordinates of its pixel centers relative to (cx, cy), in units of half-sizes."""
    H, W = image.shape[:2]
    x0, x1 = int(np.floor(cx - w / 2)), int(np.ceil(cx + w / 2))
    y0, y1 = int(np.floor(cy - h / 2)), int(np.ceil(cy + h / 2))
    x0c, x1c, y0c, y1c = max(x0, 0), min(x1, W), max(y0, 0), min(y1, H)
    if x1c <= x0c or y1c <= y0c:
        return None, None, None
    pixels = image[y0c:y1c, x0c:x1c]
    xs = (np.arange(x0c, x1c) + 0.5 - cx) / (w / 2)
    ys = (np.arange(y0c, y1c) + 0.5 - cy) / (h / 2)
    return pixels, xs, ys


def target_model(image: np.ndarray, box, bins: int = 16) -> np.ndarray:
    """q: the Epanechnikov-weighted colour histogram of the box."""
    x, y, w, h = box
    return candidate_model(image, x + w / 2, y + h / 2, w, h, bins)[0]


def candidate_model(image, cx, cy, w, h, bins):
    """p(y) and, for reuse by the mean-shift step, the window's bins, kernel and coordinates."""
    pixels, xs, ys = _window(image, cx, cy, w, h)
    if pixels is None:
        return np.full(bins ** 3, 1.0 / bins ** 3), None
    b = color_bins(pixels, bins)
    k = np.clip(1.0 - (xs[None, :] ** 2 + ys[:, None] ** 2), 0, None)
    return kernel_histogram(b, k, bins ** 3), (b, k, xs, ys)


@dataclass
class MeanShiftResult:
    box: np.ndarray
    rho: float
    path: list = field(default_factory=list)  # centers visited, for drawing the convergence
    iterations: int = 0
    rhos: list = field(default_factory=list)  # rho at each center of ``path``
    halvings: list = field(default_factory=list)  # per iteration: how many times its step was halved


def mean_shift(image: np.ndarray, box, q: np.ndarray, *, bins: int = 16, max_iter: int = 20, eps: float = 0.5,
               bandwidth: float = 1.0, halve_steps: bool = True, max_halvings: int = 10) -> MeanShiftResult:
    """Move ``box`` (kept at its size) to the local maximum of the Bhattacharyya coefficient with model ``q``.

    The mean-shift step climbs a *linearised* rho (its first-order Taylor expansion around the current
    p(y)), so a step can lower the real rho. With ``halve_steps`` (Comaniciu, Ramesh & Meer, 2003, step 5)
    a step that lowers rho is halved towards the current center until rho no longer drops; after
    ``max_halvings`` halvings that still lower it, the search stops where it is. ``bandwidth`` scales the kernel window relative to the box. Stops when the
    shift is below ``eps`` pixels or after ``max_iter`` iterations.
    """
    x, y, w, h = np.asarray(box, dtype=np.float64)
    cx, cy = x + w / 2, y + h / 2
    kw, kh = w * bandwidth, h * bandwidth
    p, parts = candidate_model(image, cx, cy, kw, kh, bins)
    rho = float(bhattacharyya(p, q))
    path, rhos, halvings = [(cx, cy)], [rho], []
    it = 0
    for it in range(1, max_iter + 1):
        if parts is None:
            break
        b, k, xs, ys = parts
        ratio = np.sqrt(np.divide(q, p, out=np.zeros_like(q), where=p > 0))
        weights = ratio[b] * (k > 0)  # Epanechnikov: g = -k' is constant inside the kernel
        total = weights.sum()
        if total <= 0:
            break
        dx = float((weights * xs[None, :]).sum() / total) * kw / 2
        dy = float((weights * ys[:, None]).sum() / total) * kh / 2
        p_new, parts_new = candidate_model(image, cx + dx, cy + dy, kw, kh, bins)
        rho_new, halved = float(bhattacharyya(p_new, q)), 0
        while halve_steps and rho_new < rho and halved < max_halvings:
            dx, dy, halved = dx / 2, dy / 2, halved + 1
            p_new, parts_new = candidate_model(image, cx + dx, cy + dy, kw, kh, bins)
            rho_new = float(bhattacharyya(p_new, q))
        if halve_steps and rho_new < rho:
            break  # no fraction of the step climbs: the current center is the (pixel-quantised) maximum
        cx, cy, p, parts, rho = cx + dx, cy + dy, p_new, parts_new, rho_new
        path.append((cx, cy)); rhos.append(rho); halvings.append(halved)
        if np.hypot(dx, dy) < eps:
            break
    return MeanShiftResult(np.array([cx - w / 2, cy - h / 2, w, h]), rho, path, it, rhos, halvings)


def bhattacharyya_surface(image: np.ndarray, box, q: np.ndarray, *, bins: int = 16, radius: float = 1.0, step: int = 2):
    """rho on a grid of centers around the box (+-radius box sizes): the landscape mean shift climbs.
    Returns (xs, ys, rho[len(ys), len(xs)])."""
    x, y, w, h = np.asarray(box, dtype=np.float64)
    cx, cy = x + w / 2, y + h / 2
    xs = np.arange(cx - radius * w, cx + radius * w + 1e-9, step)
    ys = np.arange(cy - radius * h, cy + radius * h + 1e-9, step)
    rho = np.array([[bhattacharyya(candidate_model(image, u, v, w, h, bins)[0], q) for u in xs] for v in ys])
    return xs, ys, rho


def back_projection(image: np.ndarray, q: np.ndarray, background: np.ndarray, bins: int = 16) -> np.ndarray:
    """Per-pixel probability of being target: the ratio histogram q_u / background_u, scaled to max 1."""
    ratio = np.divide(q, background, out=np.zeros_like(q), where=background > 0)
    ratio /= max(ratio.max(), 1e-12)
    return ratio[color_bins(image, bins)]


def window_mean(prob: np.ndarray, box) -> float:
    """The mean of a probability image over the part of ``box`` inside it (0 when none is): how much target
    colour the box holds, the back-projection trackers' confidence that the target is there."""
    H, W = prob.shape[:2]
    x, y, w, h = np.asarray(box, dtype=np.float64)
    x0, x1 = int(np.clip(np.floor(x), 0, W)), int(np.clip(np.ceil(x + w), 0, W))
    y0, y1 = int(np.clip(np.floor(y), 0, H)), int(np.clip(np.ceil(y + h), 0, H))
    return float(prob[y0:y1, x0:x1].mean()) if x1 > x0 and y1 > y0 else 0.0


def camshift_step(prob: np.ndarray, box, *, max_iter: int = 10, eps: float = 0.5, min_size: float = 4.0):
    """CamShift on a probability image: mean shift of the window to the probability mass, then the size
    and orientation from the moments of the probability inside it.

    Returns (axis-aligned box, rotated box ((cx, cy), (width, height), angle in degrees), mass).
    """
    H, W = prob.shape
    x, y, w, h = np.asarray(box, dtype=np.float64)
    cx, cy = x + w / 2, y + h / 2
    for _ in range(max_iter):  # mean shift with a flat kernel on the probability image
        x0, x1 = int(max(cx - w / 2, 0)), int(min(cx + w / 2, W))
        y0, y1 = int(max(cy - h / 2, 0)), int(min(cy + h / 2, H))
        win = prob[y0:y1, x0:x1]
        m00 = win.sum()
        if m00 <= 1e-9:
            return np.array([x, y, w, h]), ((cx, cy), (w, h), 0.0), 0.0
        gy, gx = np.mgrid[y0:y1, x0:x1] + 0.5
        ncx, ncy = (win * gx).sum() / m00, (win * gy).sum() / m00
        shift = np.hypot(ncx - cx, ncy - cy)
        cx, cy = ncx, ncy
        if shift < eps:
            break
    # second moments in a window grown by 20% so the size can grow too
    gw, gh = w * 1.2, h * 1.2
    x0, x1 = int(max(cx - gw / 2, 0)), int(min(cx + gw / 2, W))
    y0, y1 = int(max(cy - gh / 2, 0)), int(min(cy + gh / 2, H))
    win = prob[y0:y1, x0:x1]
    m00 = win.sum()
    gy, gx = np.mgrid[y0:y1, x0:x1] + 0.5
    mu20 = (win * (gx - cx) ** 2).sum() / m00
    mu02 = (win * (gy - cy) ** 2).sum() / m00
    mu11 = (win * (gx - cx) * (gy - cy)).sum() / m00
    theta = 0.5 * np.arctan2(2 * mu11, mu20 - mu02)
    common = np.sqrt(max(((mu20 - mu02) / 2) ** 2 + mu11 ** 2, 0.0))
    lam1, lam2 = (mu20 + mu02) / 2 + common, max((mu20 + mu02) / 2 - common, 0.0)
    # a uniform ellipse of semi-axis a has variance a^2/4 along it: the full axis is 4 sigma
    major, minor = max(4 * np.sqrt(lam1), min_size), max(4 * np.sqrt(lam2), min_size)
    c, s = abs(np.cos(theta)), abs(np.sin(theta))
    bw = major * c + minor * s
    bh = major * s + minor * c
    return np.array([cx - bw / 2, cy - bh / 2, bw, bh]), ((cx, cy), (major, minor), float(np.degrees(theta))), float(m00)
