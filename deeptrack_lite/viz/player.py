"""A frame player widget: play/pause, a frame slider, boxes drawn, and a caption per frame."""
from __future__ import annotations

from typing import Callable

import cv2
import numpy as np

from .draw import draw_boxes


def _png(image: np.ndarray) -> bytes:
    ok, buf = cv2.imencode(".png", cv2.cvtColor(image, cv2.COLOR_RGB2BGR))
    return buf.tobytes()


def frame_player(sequence, boxes: dict | None = None, *, show_ground_truth: bool = True,
                 caption: Callable[[int], str] | None = None, width: int = 480, interval_ms: int = 100):
    """An ipywidgets player over a sequence.

    ``boxes`` maps labels to N x 4 arrays (one box per frame) drawn beside the ground truth;
    ``caption(i)`` may add a line of text per frame (scores, IoU...). Frames are decoded on demand,
    so even long sequences play without loading them all. Returns the widget (display it, or let the
    notebook show it as the cell's value).
    """
    import ipywidgets as widgets

    n = len(sequence)
    image = widgets.Image(format="png", width=width)
    slider = widgets.IntSlider(value=0, min=0, max=n - 1, description="frame", continuous_update=True,
                               layout=widgets.Layout(width="70%"))
    play = widgets.Play(value=0, min=0, max=n - 1, interval=interval_ms, description="play")
    widgets.jslink((play, "value"), (slider, "value"))
    tags = ", ".join(sorted(sequence.attributes)) or "none"
    info = widgets.HTML()

    def render(i: int) -> None:
        drawn = {"ground truth": sequence.ground_truth[i]} if show_ground_truth else {}
        for label, arr in (boxes or {}).items():
            drawn[label] = np.asarray(arr)[i]
        text = caption(i) if caption else None
        image.value = _png(draw_boxes(sequence.frame(i), drawn, caption=text))
        info.value = f"<b>{sequence.name}</b> &middot; frame {i + 1}/{n} &middot; attributes: {tags}"

    slider.observe(lambda change: render(change["new"]), names="value")
    render(0)
    return widgets.VBox([info, image, widgets.HBox([play, slider])])


def sequence_browser(dataset, *, width: int = 480):
    """Pick a sequence of a dataset from a drop-down and play it (ground truth drawn, tags shown)."""
    import ipywidgets as widgets

    choice = widgets.Dropdown(options=dataset.names, description="sequence")
    holder = widgets.Box()

    def show(change=None):
        holder.children = [frame_player(dataset[choice.value], width=width)]

    choice.observe(show, names="value")
    show()
    return widgets.VBox([choice, holder])
