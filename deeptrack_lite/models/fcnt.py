"""FCNT's networks (Wang et al., ICCV 2015): feature-map selection, and the GNet / SNet heat-map networks.

- :class:`SelectionNet` is FCNT's selection CNN: dropout, then one linear convolution that regresses the
  target heat map (a Gaussian at the target) from one layer's feature maps.
- :func:`map_significance` scores every feature map by the Taylor expansion of that regression loss,
  first and second order, the change of the loss if the map were switched off:
  ``s_k = sum_{x,y} ( -g(x,y,k) f(x,y,k) + 1/2 h(x,y,k) f(x,y,k)^2 )`` with ``g`` the gradient and ``h``
  the diagonal of the Hessian of the loss with respect to the map ``f``. For the linear selection
  network the Hessian's diagonal is exact and cheap (:func:`conv_hessian_diagonal`).
- :class:`HeatmapNet` is the shape of both GNet (on the selected maps of the high layer: category-level,
  robust to appearance change) and SNet (on the selected maps of the low layer: instance-level, tells the
  target from a look-alike): conv, ReLU, conv to one heat map.
"""
from __future__ import annotations

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from .seeded import Dropout2d, default_init_


def gaussian_heatmap(shape_hw, centers, sigmas, device=None) -> torch.Tensor:
    """N x 1 x H x W Gaussians of peak 1, one per row of ``centers`` (N x 2, x and y in map cells, cell
    centers at integer coordinates) with per-axis standard deviations ``sigmas`` (N x 2, in cells)."""
    centers = torch.as_tensor(centers, dtype=torch.float32, device=device).reshape(-1, 2)
    sigmas = torch.as_tensor(sigmas, dtype=torch.float32, device=device).reshape(-1, 2).clamp_min(0.25)
    H, W = shape_hw
    ys = torch.arange(H, dtype=torch.float32, device=centers.device).view(1, H, 1)
    xs = torch.arange(W, dtype=torch.float32, device=centers.device).view(1, 1, W)
    dx = (xs - centers[:, 0].view(-1, 1, 1)) / sigmas[:, 0].view(-1, 1, 1)
    dy = (ys - centers[:, 1].view(-1, 1, 1)) / sigmas[:, 1].view(-1, 1, 1)
    return torch.exp(-0.5 * (dx ** 2 + dy ** 2)).unsqueeze(1)


class SelectionNet(nn.Module):
    """FCNT's selection network: dropout, then a linear ``kernel`` x ``kernel`` convolution to one heat map."""

    def __init__(self, channels: int, kernel: int = 3, dropout: float = 0.3):
        super().__init__()
        self.dropout = Dropout2d(dropout)
        self.conv = nn.Conv2d(channels, 1, kernel, padding=kernel // 2)
        nn.init.normal_(self.conv.weight, std=1e-3)
        nn.init.zeros_(self.conv.bias)

    def reset_parameters(self, generator: torch.Generator | None = None) -> None:
        """The constructor's initialisation again, drawn from ``generator`` (see :mod:`.seeded`)."""
        default_init_(self.conv, generator)
        with torch.no_grad():
            nn.init.normal_(self.conv.weight, std=1e-3, generator=generator)
            nn.init.zeros_(self.conv.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv(self.dropout(x))


class HeatmapNet(nn.Module):
    """GNet / SNet: ``conv(k1, hidden) -> ReLU -> conv(k2, 1)``, a heat map the size of its input maps.

    FCNT used 9x9 and 5x5 kernels on 46 x 46 maps (stride 8 on a 368-pixel region); the tracker's maps are
    28 x 28 (stride 8 on a 224-pixel region), so the defaults shrink the kernels with them."""

    def __init__(self, channels: int, hidden: int = 32, k1: int = 5, k2: int = 3):
        super().__init__()
        self.conv1 = nn.Conv2d(channels, hidden, k1, padding=k1 // 2)
        self.conv2 = nn.Conv2d(hidden, 1, k2, padding=k2 // 2)
        nn.init.normal_(self.conv2.weight, std=1e-3)
        nn.init.zeros_(self.conv2.bias)

    def reset_parameters(self, generator: torch.Generator | None = None) -> None:
        """The constructor's initialisation again, drawn from ``generator`` (see :mod:`.seeded`)."""
        default_init_(self.conv1, generator)
        default_init_(self.conv2, generator)
        with torch.no_grad():
            nn.init.normal_(self.conv2.weight, std=1e-3, generator=generator)
            nn.init.zeros_(self.conv2.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv2(F.relu(self.conv1(x)))


def heatmap_loss(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """FCNT's regression loss: squared error summed over the map, averaged over the batch."""
    return ((pred - target) ** 2).sum() / pred.shape[0]


def fit_heatmap(net: nn.Module, features: torch.Tensor, targets: torch.Tensor, steps: int, *, lr: float = 1e-3,
                weight_decay: float = 5e-4, optimizer: torch.optim.Optimizer | None = None) -> list[float]:
    """``steps`` full-batch Adam steps of :func:`heatmap_loss` (``net(features)`` against ``targets``).

    Pass ``optimizer`` to continue training with the same one (its moments carry over, as in online
    updates). Returns the loss of every step; the network is left in eval mode."""
    opt = optimizer or torch.optim.Adam(net.parameters(), lr=lr, weight_decay=weight_decay)
    net.train()
    losses = []
    for _ in range(int(steps)):
        loss = heatmap_loss(net(features), targets)
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(float(loss.detach()))
    net.eval()
    return losses


def conv_hessian_diagonal(conv: nn.Conv2d, input_shape) -> torch.Tensor:
    """The diagonal of the Hessian of ``sum((conv(f) - m) ** 2)`` with respect to the input ``f``.

    For a linear convolution with one output map, ``d2L / df(c,y,x)^2 = 2 * sum_p w(c, p - (y,x))^2`` over
    the output positions ``p`` that see input pixel (y, x): a transposed convolution of ones with ``w^2``.
    It does not depend on ``f`` or ``m``. Returns C x H x W for inputs of ``input_shape`` (C, H, W)."""
    if conv.out_channels != 1 or conv.groups != 1:
        raise ValueError("conv_hessian_diagonal needs a convolution with one output map and groups=1")
    C, H, W = input_shape
    out = conv(torch.zeros(1, C, H, W, device=conv.weight.device))  # the output size, padding included
    # output_padding restores the input rows and columns a strided convolution never reached past
    full = [(n - 1) * s - 2 * p + d * (k - 1) + 1 for n, s, p, d, k in
            zip(out.shape[-2:], conv.stride, conv.padding, conv.dilation, conv.kernel_size)]
    h = F.conv_transpose2d(torch.ones_like(out), conv.weight.detach() ** 2, stride=conv.stride, padding=conv.padding,
                           output_padding=(H - full[0], W - full[1]), dilation=conv.dilation)
    return 2.0 * h[0]


def map_significance(net: SelectionNet, features: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """FCNT's significance of every feature map (C values): the second-order Taylor estimate of how much
    the regression loss would change if that map were set to zero, summed over positions (and over the
    batch of training regions). Large = the map matters for localising this target; near zero = noise.

    Uses the summed squared error over the batch (not its mean), with dropout off."""
    net.eval()
    f = features.detach().clone().requires_grad_(True)
    loss = ((net(f) - targets) ** 2).sum()
    (g,) = torch.autograd.grad(loss, f)
    h = conv_hessian_diagonal(net.conv, f.shape[1:]).unsqueeze(0)
    f = f.detach()
    return (-g * f + 0.5 * h * f ** 2).sum(dim=(0, 2, 3))


def box_mass(heatmap: torch.Tensor, center, size, factors, upsample: int = 4) -> np.ndarray:
    """The positive heat inside boxes centred on ``center`` of sizes ``size * f`` for every ``f`` in ``factors``
    (``center`` and ``size`` in cells of the G x G ``heatmap``, cell centres at integers), summed on the map
    upsampled ``upsample`` times (bilinear), so that a box edge moves in quarter cells: FCNT's candidate
    confidence, the heat a candidate box holds, before it is weighed against the box's area."""
    G = heatmap.shape[-1]
    fine = F.interpolate(heatmap.reshape(1, 1, G, G).float(), scale_factor=upsample, mode="bilinear",
                         align_corners=False)[0, 0].clamp_min(0).double()
    n = fine.shape[-1]
    integral = F.pad(fine.cumsum(0).cumsum(1), (1, 0, 1, 0))
    out = []
    for f in factors:
        # box edges in fine-cell units (fine cell i covers [i, i + 1); a coarse cell centre c sits at (c + 0.5) * up)
        x0, x1, y0, y1 = [int(round(min(max(v * upsample, 0), n))) for v in (
            center[0] + 0.5 - size[0] * f / 2, center[0] + 0.5 + size[0] * f / 2,
            center[1] + 0.5 - size[1] * f / 2, center[1] + 0.5 + size[1] * f / 2)]
        out.append(float(integral[y1, x1] - integral[y0, x1] - integral[y1, x0] + integral[y0, x0]) / upsample ** 2)
    return np.array(out)


def mass_exponent(heatmap: torch.Tensor, center, size, step: float = 1.1, bounds=(0.05, 0.95)) -> float:
    """The exponent ``e`` that makes ``box_mass / area ** e`` peak at the box of ``size`` on this heat map:
    the slope of log mass against log area there. FCNT ranks its candidates by ``mass / area ** 0.3`` (its
    confidence, the mean heat inside, times ``area ** 0.7``); the tracker calibrates ``e`` on the first frame,
    where the size is known, instead of taking the paper's constant, since the heat maps' spread depends on
    the backbone's grid. Clipped to ``bounds``."""
    small, large = box_mass(heatmap, center, size, (1 / step, step))
    if small <= 0 or large <= 0:
        return float(bounds[1])
    return float(np.clip(np.log(large / small) / (4 * np.log(step)), *bounds))


def select_maps(significance: torch.Tensor, k: int | None) -> torch.Tensor:
    """Indices of the ``k`` most significant maps, most significant first (all of them, ranked, when
    ``k`` is None or not smaller than their number)."""
    order = torch.argsort(significance, descending=True)
    return order if k is None or k >= len(order) else order[:k]


__all__ = ["HeatmapNet", "SelectionNet", "box_mass", "conv_hessian_diagonal", "fit_heatmap", "gaussian_heatmap", "heatmap_loss",
           "map_significance", "mass_exponent", "select_maps"]
