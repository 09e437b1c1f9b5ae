"""The base class of the trackers whose candidates come from the particle filter (IVT, the colour particle filter,
DLT and its family): the filter's parameters, its construction, and the diagnostics it records. It extends the
protocol of :mod:`.base`."""
from __future__ import annotations

from ..motion.particle_filter import ParticleFilter
from .base import Tracker


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


__all__ = ["ParticleTrackerBase"]
