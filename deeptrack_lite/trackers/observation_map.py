"""The observation map: what a tracker that scores candidate boxes (the classic ones, DLT, MDNet) thinks of every
position around its box, drawn as a map (notebook 01 puts the maps side by side). A mixin, beside the protocol in
:mod:`.base`."""
from __future__ import annotations

import numpy as np

from ..crops import image_size
from ..features.sampling import translation_grid


class ObservationMapMixin:
    """Trackers whose observation model can be drawn as a map: the score of a box of the current size
    centered at every point of a grid around the current box (notebook 01 puts the maps side by side)."""

    MAP_KIND = "score"

    def observation_map(self, image, radius: float = 1.0, step: float = 3.0):
        """(xs, ys, values, kind) for the current box; ``kind`` says what the values are."""
        xs, ys, boxes = translation_grid(self.last_box, image_size(image), radius=radius, step=step)
        values = self._observe(image, boxes)
        return xs, ys, np.asarray(values, dtype=np.float64).reshape(len(ys), len(xs)), self.MAP_KIND


__all__ = ["ObservationMapMixin"]
