"""Boxes drawn on frames (OpenCV, fast enough for players) and small matplotlib grids."""
from __future__ import annotations

import cv2
import numpy as np

from ..images import as_rgb_image

# Ground truth is always green; trackers take the other colours in order (RGB).
GROUND_TRUTH_COLOR = (40, 220, 40)
PALETTE = [(230, 60, 60), (60, 120, 255), (255, 190, 0), (200, 60, 220), (0, 210, 210), (255, 120, 20),
           (140, 90, 40), (255, 255, 255)]


def color_for(label: str, index: int) -> tuple:
    return GROUND_TRUTH_COLOR if label.lower() in ("ground truth", "gt", "truth") else PALETTE[index % len(PALETTE)]


def box_legend(labels, lw: float = 2.0) -> list:
    """Matplotlib legend handles in the colours :func:`draw_boxes` gives the same labels in the same order, for
    a legend that stays readable when a panel is zoomed or cropped (``fig.legend(handles=box_legend(...))``)."""
    from matplotlib.lines import Line2D

    return [Line2D([], [], lw=lw, color=np.array(color_for(label, i)) / 255, label=label) for i, label in enumerate(labels)]


def draw_boxes(frame, boxes: dict, *, thickness: int = 2, legend: bool = True, caption: str | None = None) -> np.ndarray:
    """A copy of ``frame`` with each ``{label: (x, y, w, h)}`` box drawn (NaN boxes are skipped).

    The label "ground truth" is drawn green; others take :data:`PALETTE` colours in order.
    """
    img = as_rgb_image(frame).copy()
    scale = max(img.shape[0], img.shape[1]) / 480
    t = max(1, int(round(thickness * max(scale, 0.5))))
    font = 0.35 * max(scale, 1.0)
    for i, (label, box) in enumerate(boxes.items()):
        b = np.asarray(box, dtype=np.float64).reshape(-1)
        if b.shape != (4,) or not np.all(np.isfinite(b)):
            continue
        color = color_for(label, i if label.lower() not in ("ground truth", "gt") else 0)
        x, y, w, h = b
        cv2.rectangle(img, (int(round(x)), int(round(y))), (int(round(x + w)), int(round(y + h))), color, t)
    if legend:
        y = int(14 * max(scale, 1.0))
        for i, label in enumerate(boxes):
            color = color_for(label, i)
            cv2.putText(img, label, (5, y), cv2.FONT_HERSHEY_SIMPLEX, font, (0, 0, 0), 3, cv2.LINE_AA)
            cv2.putText(img, label, (5, y), cv2.FONT_HERSHEY_SIMPLEX, font, color, 1, cv2.LINE_AA)
            y += int(14 * max(scale, 1.0))
    if caption:
        h = img.shape[0]
        cv2.putText(img, caption, (5, h - 6), cv2.FONT_HERSHEY_SIMPLEX, font, (0, 0, 0), 3, cv2.LINE_AA)
        cv2.putText(img, caption, (5, h - 6), cv2.FONT_HERSHEY_SIMPLEX, font, (255, 255, 255), 1, cv2.LINE_AA)
    return img


def filter_grid(filters, title: str = "", n: int = 48, columns: int = 12):
    """The ``n`` strongest of K x H x W filters (largest weight norm first) as a grid of images, red positive and
    blue negative, each on its own symmetric scale; returns the figure."""
    import matplotlib.pyplot as plt

    w = filters.detach().cpu().numpy() if hasattr(filters, "detach") else np.asarray(filters)
    order = np.argsort(-np.linalg.norm(w.reshape(len(w), -1), axis=1), kind="stable")[:n]
    rows = max(1, -(-len(order) // columns))
    fig, axes = plt.subplots(rows, columns, figsize=(columns, rows * 1.07 + 0.1), squeeze=False)
    for ax in axes.ravel():
        ax.axis("off")
    for ax, k in zip(axes.ravel(), order):
        lim = float(np.abs(w[k]).max()) or 1.0
        ax.imshow(w[k], cmap="RdBu_r", vmin=-lim, vmax=lim)
    fig.suptitle(title, fontsize=10)
    return fig


def show_frames(sequence, indices=None, *, boxes: dict | None = None, columns: int = 5, width: float = 3.0, title=None):
    """A matplotlib grid of frames with the ground truth and any ``{label: N x 4 boxes}`` drawn."""
    import matplotlib.pyplot as plt

    if indices is None:
        indices = np.linspace(0, len(sequence) - 1, min(columns, len(sequence))).astype(int)
    indices = list(indices)
    rows = int(np.ceil(len(indices) / columns))
    frame0 = sequence.frame(indices[0])
    aspect = frame0.shape[0] / frame0.shape[1]
    fig, axes = plt.subplots(rows, columns, figsize=(width * columns, width * aspect * rows + 0.4), squeeze=False)
    for ax in axes.ravel():
        ax.axis("off")
    for ax, i in zip(axes.ravel(), indices):
        drawn = {"ground truth": sequence.ground_truth[i]}
        for label, arr in (boxes or {}).items():
            drawn[label] = np.asarray(arr)[i]
        ax.imshow(draw_boxes(sequence.frame(i), drawn, legend=(i == indices[0])))
        ax.set_title(f"frame {i}", fontsize=9)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


def attribute_gallery(dataset, *, columns: int = 4, width: float = 3.0):
    """One frame per attribute: for each tag, the middle frame of the first sequence that carries it."""
    import matplotlib.pyplot as plt

    from ..data.sequence import ATTRIBUTES

    table = dataset.attribute_table()
    tags = [t for t in ATTRIBUTES if table[t]]
    rows = int(np.ceil(len(tags) / columns))
    fig, axes = plt.subplots(rows, columns, figsize=(width * columns, width * 0.8 * rows), squeeze=False)
    for ax in axes.ravel():
        ax.axis("off")
    for ax, tag in zip(axes.ravel(), tags):
        seq = dataset[table[tag][0]]
        i = len(seq) // 2
        ax.imshow(draw_boxes(seq.frame(i), {"ground truth": seq.ground_truth[i]}, legend=False))
        ax.set_title(f"{tag}: {ATTRIBUTES[tag].split(' (')[0]}\n{seq.name}, frame {i}", fontsize=9)
    fig.tight_layout()
    return fig
