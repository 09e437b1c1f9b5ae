"""A sequential importance resampling (SIR) particle filter over boxes, vectorised over particles in torch.

State of a particle: center (cx, cy), log-scale and log-aspect relative to the initial box, and optionally a
velocity (vx, vy). One step is: predict (random walk, or constant velocity), weigh by a pluggable observation
likelihood, estimate, and resample (systematic) when the effective sample size falls below a fraction of
the number of particles. Used by the colour particle-filter tracker, IVT and DLT.
"""
from __future__ import annotations

from typing import Callable

import numpy as np
import torch

from ..boxes import as_box
from ..runtime import host_float64

CX, CY, LS, LA, VX, VY = range(6)


def systematic_resample(weights: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
    """Indices drawn by systematic resampling: one uniform offset u ~ U(0, 1/N), then the N points
    u + k/N (k = 0..N-1) are located in the cumulative sum of the weights. Low variance, O(N)."""
    n = weights.shape[0]
    u = torch.rand(1, generator=generator, device=weights.device, dtype=weights.dtype) / n
    points = u + torch.arange(n, device=weights.device, dtype=weights.dtype) / n
    cumulative = torch.cumsum(weights / weights.sum(), dim=0)
    cumulative[-1] = 1.0  # guard against rounding
    return torch.searchsorted(cumulative, points).clamp(max=n - 1)


def effective_sample_size(weights: torch.Tensor) -> float:
    """ESS = 1 / sum(w_i^2) for normalised weights: N when all are equal, 1 when one particle has them all."""
    w = weights / weights.sum()
    return float(1.0 / torch.sum(w * w))


class ParticleFilter:
    """SIR particle filter over (x, y, w, h) boxes.

    Parameters: ``n_particles``; ``translation_noise`` (std of a center step, as a fraction of the box's mean
    side); ``scale_noise`` and ``aspect_noise`` (std of log-scale and log-aspect steps); ``velocity`` (a
    constant-velocity state instead of a random walk) with ``velocity_damping``; ``resample_threshold`` (resample
    when ESS < threshold x N; 1.0 resamples every step, 0 never); ``estimate`` ("mean": weighted mean state,
    "best": the heaviest particle); ``generator`` (a CPU ``torch.Generator``, e.g. a tracker's own) or ``seed``.

    The state lives on the CPU in float64 whatever device the observation model runs on: it is a few hundred
    rows of six numbers, and Apple's MPS has no float64. ``boxes()`` are CPU float64; a likelihood computed
    on another device is brought back (as float64) before it weighs the particles.
    """

    device = torch.device("cpu")

    def __init__(self, n_particles: int = 300, *, translation_noise: float = 0.1, scale_noise: float = 0.02,
                 aspect_noise: float = 0.0, velocity: bool = False, velocity_damping: float = 0.8,
                 resample_threshold: float = 0.5, estimate: str = "mean", seed: int = 0,
                 generator: torch.Generator | None = None):
        if n_particles < 1:
            raise ValueError("n_particles must be positive")
        self.n = int(n_particles)
        self.translation_noise, self.scale_noise, self.aspect_noise = translation_noise, scale_noise, aspect_noise
        self.velocity, self.velocity_damping = velocity, velocity_damping
        self.resample_threshold, self.estimate_mode = resample_threshold, estimate
        if generator is not None and generator.device.type != "cpu":
            raise ValueError("the particle filter's state is on the CPU: give it a CPU generator")
        self.generator = generator if generator is not None else torch.Generator().manual_seed(int(seed))
        self.history: list[dict] = []

    # ------------------------------------------------------------------ state <-> boxes
    def init(self, box) -> None:
        x, y, w, h = as_box(box)
        self.w0, self.h0 = w, h
        state = torch.zeros(self.n, 6, device=self.device, dtype=torch.float64)
        state[:, CX], state[:, CY] = x + w / 2, y + h / 2
        self.particles = state
        self.weights = torch.full((self.n,), 1.0 / self.n, device=self.device, dtype=torch.float64)
        self.history = []

    def boxes(self, particles: torch.Tensor | None = None) -> torch.Tensor:
        """N x 4 (x, y, w, h) boxes of the particles."""
        p = self.particles if particles is None else particles
        w = self.w0 * torch.exp(p[:, LS] + p[:, LA] / 2)
        h = self.h0 * torch.exp(p[:, LS] - p[:, LA] / 2)
        return torch.stack([p[:, CX] - w / 2, p[:, CY] - h / 2, w, h], dim=1)

    # ------------------------------------------------------------------ the SIR steps
    def _noise(self, *shape) -> torch.Tensor:
        return torch.randn(*shape, generator=self.generator, device=self.device, dtype=torch.float64)

    def predict(self) -> None:
        """Move every particle by the motion model: its velocity (if any) plus Gaussian noise."""
        p = self.particles
        size = (self.w0 * torch.exp(p[:, LS]) + self.h0 * torch.exp(p[:, LS])) / 2
        step = self._noise(self.n, 2) * (self.translation_noise * size)[:, None]
        if self.velocity:
            p[:, VX:VY + 1] = self.velocity_damping * p[:, VX:VY + 1] + step
            p[:, CX:CY + 1] += p[:, VX:VY + 1]
        else:
            p[:, CX:CY + 1] += step
        p[:, LS] += self.scale_noise * self._noise(self.n)
        p[:, LA] += self.aspect_noise * self._noise(self.n)

    def weigh(self, likelihood: torch.Tensor | None = None, log_likelihood: torch.Tensor | None = None) -> None:
        """Multiply the weights by the observation likelihood (give it, or its log for numerical safety)."""
        if log_likelihood is None:
            log_likelihood = torch.log(host_float64(likelihood).clamp_min(1e-300))
        logw = torch.log(self.weights) + host_float64(log_likelihood)
        logw = torch.nan_to_num(logw, nan=-torch.inf)
        if torch.isinf(logw).all():  # every particle impossible: keep the prior rather than divide by zero
            logw = torch.zeros_like(logw)
        self.weights = torch.softmax(logw, dim=0)

    def estimate(self) -> np.ndarray:
        """The box of the weighted mean state ("mean") or of the heaviest particle ("best")."""
        if self.estimate_mode == "best":
            state = self.particles[int(torch.argmax(self.weights))][None]
        else:
            state = (self.weights[:, None] * self.particles).sum(dim=0, keepdim=True)
        return self.boxes(state)[0].cpu().numpy()

    def ess(self) -> float:
        return effective_sample_size(self.weights)

    def resample(self, force: bool = False) -> bool:
        """Systematic resampling when ESS < resample_threshold x N (or when forced); returns whether it did."""
        if not force and self.ess() >= self.resample_threshold * self.n:
            return False
        idx = systematic_resample(self.weights, self.generator)
        self.particles = self.particles[idx].clone()
        self.weights = torch.full_like(self.weights, 1.0 / self.n)
        return True

    def step(self, log_likelihood_fn: Callable[[torch.Tensor], torch.Tensor]) -> np.ndarray:
        """predict -> weigh by ``log_likelihood_fn(boxes)`` -> estimate -> resample; returns the estimate.

        ``self.history`` records, per step, the ESS before resampling and whether resampling happened."""
        self.predict()
        self.weigh(log_likelihood=log_likelihood_fn(self.boxes()))
        box = self.estimate()
        ess = self.ess()
        resampled = self.resample()
        self.history.append({"ess": ess, "resampled": resampled})
        return box
