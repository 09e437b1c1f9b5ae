"""Motion models: the particle filter and mean shift / CamShift, generic and reusable by several trackers."""
from .particle_filter import ParticleFilter, effective_sample_size, systematic_resample

__all__ = ["ParticleFilter", "effective_sample_size", "systematic_resample"]
