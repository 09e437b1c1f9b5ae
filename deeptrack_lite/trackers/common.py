"""Base classes the trackers share (the classic ones, DLT and MDNet): candidate-map drawing and the particle
filter's set-up. Library code, like :mod:`.base`; the trackers import them from here."""
from __future__ import annotations

import numpy as np

from ..crops import image_size
from ..features.sampling import translation_grid
from ..motion.particle_filter import ParticleFilter
from .base import Tracker


class ObservationMapMixin:
    """Trackers whose observation model can be drawn as a map: the score of a box of the current size
    centered at every point of a grid around the current box (notebook 01 puts the maps side by side)."""

    MAP_KIND = "score"

    def observation_map(self, image, radius: float = 1.0, step: float = 3.0):
        """(xs, ys, values, kind) for the current box; ``kind`` says what the values are."""
        xs, ys, boxes = translation_grid(self.last_box, image_size(image), radius=radius, step=step)
        values = self._observe(image, boxes)
        return xs, ys, np.asarray(values, dtype=np.float64).reshape(len(ys), len(xs)), self.MAP_KIND


class ParticleTrackerBase(Tracker):
    """Shared set-up of the trackers whose candidates come from the particle filter (IVT, the colour
    particle filter, DLT): the filter's parameters, its construction, and the diagnostics it records."""

    PF_PARAMS = {
        "n_particles": (300, "number of particles", "int >= 1"),
        "translation_noise": (0.1, "std of a particle's step, in box sizes", "float >= 0"),
        "scale_noise": (0.02, "std of a particle's log-scale step", "float >= 0"),
        "velocity": (False, "constant-velocity motion model instead of a random walk", "bool"),
        "resample_threshold": (0.5, "resample when the effective sample size falls below this fraction", "float in [0, 1]"),
    }

    def _make_filter(self, box, estimate: str = "mean"):
        p = self.params
        self.pf = ParticleFilter(p["n_particles"], translation_noise=p["translation_noise"], scale_noise=p["scale_noise"],
                                 velocity=p["velocity"], resample_threshold=p["resample_threshold"], estimate=estimate,
                                 generator=self.new_generator("cpu"))  # the filter's state lives on the CPU
        self.pf.init(box)

    def _record_particles(self):
        self.last_info.update(particles=self.pf.boxes().cpu().numpy(), weights=self.pf.weights.cpu().numpy(),
                              ess=self.pf.history[-1]["ess"], resampled=self.pf.history[-1]["resampled"])


__all__ = ["ObservationMapMixin", "ParticleTrackerBase"]
