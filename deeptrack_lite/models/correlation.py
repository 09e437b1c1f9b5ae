"""Correlation, the operation two of the survey's "next" directions share (notebook 07).

- :func:`cross_correlation`: slide one feature map (an exemplar) over another (a search region) and take the
  dot product at every offset: SiamFC's response map, computed as one grouped convolution for a whole batch.
- :class:`CorrelationFilter`: a multi-channel discriminative correlation filter learned in closed form in the
  Fourier domain (MOSSE / DSST / HCF): for a training patch x with channels x^d and a desired response y (a
  Gaussian peaked at the target), the filter minimising ``|sum_d x^d * h^d - y|^2 + lambda sum_d |h^d|^2``
  (``*``: circular cross-correlation) is, frequency by frequency,
  ``conj(H^d) = Y conj(X^d) / (sum_k X^k conj(X^k) + lambda)`` (Ma et al. 2015, eq. 2, one sample); its response
  to a new patch z is ``F^-1(sum_d Z^d conj(H^d))``. Numerator and denominator are kept apart and each moved
  towards the new frame's with a learning rate, so the filter remembers the past frames with exponential decay.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F


def cross_correlation(exemplar: torch.Tensor, search: torch.Tensor) -> torch.Tensor:
    """Dot products of ``exemplar`` (N x C x h x w) at every offset inside ``search`` (N x C x H x W), each
    exemplar over its own search region: N x 1 x (H - h + 1) x (W - w + 1). One exemplar (1 x C x h x w) is
    slid over every search region of the batch (a scale pyramid)."""
    n, c, H, W = search.shape
    if exemplar.shape[0] == 1 and n > 1:
        return F.conv2d(search, exemplar)
    if exemplar.shape[0] != n or exemplar.shape[1] != c:
        raise ValueError(f"exemplar {tuple(exemplar.shape)} and search {tuple(search.shape)} do not pair up")
    out = F.conv2d(search.reshape(1, n * c, H, W), exemplar, groups=n)
    return out.reshape(n, 1, out.shape[-2], out.shape[-1])


def cosine_window(height: int, width: int, device=None) -> torch.Tensor:
    """The Hann window (outer product of raised cosines), 1 at the centre and near 0 at the border: it damps a
    patch's edges before a Fourier transform and penalises large displacements in a response map."""
    wy = torch.hann_window(height + 2, periodic=False, device=device)[1:-1]
    wx = torch.hann_window(width + 2, periodic=False, device=device)[1:-1]
    return wy[:, None] * wx[None, :]


def gaussian_response(height: int, width: int, sigma: float, device=None) -> torch.Tensor:
    """A Gaussian of std ``sigma`` cells peaked at cell (0, 0), wrapped around the borders (the desired response
    of a correlation filter: its peak sits where the target is, and circular shifts move it)."""
    ys = torch.arange(height, device=device, dtype=torch.float32)
    xs = torch.arange(width, device=device, dtype=torch.float32)
    dy = torch.minimum(ys, height - ys)  # circular distance to 0
    dx = torch.minimum(xs, width - xs)
    return torch.exp(-(dy[:, None] ** 2 + dx[None, :] ** 2) / (2 * sigma ** 2))


class CorrelationFilter:
    """A multi-channel correlation filter on C x H x W feature maps (see the module docstring)."""

    def __init__(self, sigma: float, lam: float = 1e-4):
        self.sigma, self.lam = float(sigma), float(lam)
        self.numerator = None   # C x H x (W // 2 + 1) complex: Y conj(X^d)
        self.denominator = None  # H x (W // 2 + 1) real: sum_k |X^k|^2
        self._label = None
        self.shape = None        # (H, W) of the patches it was learned on

    def _terms(self, x: torch.Tensor):
        if self.shape != tuple(x.shape[-2:]):
            self.shape = tuple(x.shape[-2:])
            self._label = torch.fft.rfft2(gaussian_response(*x.shape[-2:], self.sigma, device=x.device))
        xf = torch.fft.rfft2(x)
        return self._label[None] * torch.conj(xf), (xf.real ** 2 + xf.imag ** 2).sum(dim=0)

    def fit(self, x: torch.Tensor) -> "CorrelationFilter":
        """Learn from one patch's features ``x`` (C x H x W), forgetting everything before."""
        self.numerator, self.denominator = self._terms(x)
        return self

    def update(self, x: torch.Tensor, rate: float) -> None:
        """Move the filter towards the one ``x`` alone would give: numerator and denominator each by ``rate``."""
        if self.numerator is None:
            self.fit(x)
            return
        a, b = self._terms(x)
        self.numerator = (1 - rate) * self.numerator + rate * a
        self.denominator = (1 - rate) * self.denominator + rate * b

    def spatial_filter(self) -> torch.Tensor:
        """The filter itself, C x H x W in cells: ``respond(z)`` is the sum over channels of the circular
        cross-correlation of ``z^d`` with it (cell (0, 0) at the top left, as in the response)."""
        return torch.fft.irfft2(torch.conj(self.numerator) / (self.denominator + self.lam), s=self.shape)

    def respond(self, z: torch.Tensor) -> torch.Tensor:
        """The response map (... x H x W, real) to features ``z`` (... x C x H x W): peaked where the target is,
        cell (0, 0) meaning "where it was in the training patch"."""
        zf = torch.fft.rfft2(z)
        spectrum = (zf * self.numerator).sum(dim=-3) / (self.denominator + self.lam)
        return torch.fft.irfft2(spectrum, s=z.shape[-2:])


__all__ = ["CorrelationFilter", "cosine_window", "cross_correlation", "gaussian_response"]
