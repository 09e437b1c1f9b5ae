"""A deep belief network (DBN): a stack of restricted Boltzmann machines, trained greedily, then unrolled.

- :class:`RBM`: visible units ``v``, binary hidden units ``h``, weights ``W`` (hidden x visible), biases
  ``b`` (visible) and ``c`` (hidden). ``p(h_j = 1 | v) = sigmoid(W v + c)_j`` for both kinds below.
  ``visible="bernoulli"``: binary (or probability-valued) visible units, ``p(v_i = 1 | h) = sigmoid(W^T h + b)_i``;
  energy ``E(v, h) = -b.v - c.h - h.W v``.
  ``visible="gaussian"``: real-valued visible units of unit variance (standardised pixels),
  ``v | h ~ N(W^T h + b, 1)``; energy ``E(v, h) = |v - b|^2 / 2 - c.h - h.W v``.
- :func:`cd_step`: one step of contrastive divergence CD-k (Hinton 2002): the positive statistics
  ``<v h^T>`` under the data minus the negative ones after k steps of Gibbs sampling started at the data.
- :class:`DBN`: a Gaussian-Bernoulli RBM on pixels, then Bernoulli-Bernoulli RBMs, each trained on the
  hidden probabilities of the one below (Hinton, Osindero and Teh 2006). :meth:`DBN.unroll` turns it into an
  :class:`~deeptrack_lite.models.sdae.SDAE`-shaped encoder-decoder (encoder layer k = ``sigmoid(W_k h + c_k)``,
  decoder layer k = the RBM's visible mean), so the DBN drops into DLT's tracker as another pretrained
  representation (the ``dbn`` tracker).

Training lives in :mod:`deeptrack_lite.training.dbn`; ``python -m deeptrack_lite pretrain-dbn`` makes the
shipped weights.
"""
from __future__ import annotations

from pathlib import Path

import torch
import torch.nn as nn

from ..fileio import WEIGHTS_DIR
from .sdae import SDAE, layer_sizes
from .weightfile import load_model_file, save_model_file

DEFAULT_DBN = WEIGHTS_DIR / "dbn.pt"
VISIBLE_KINDS = ("gaussian", "bernoulli")


class RBM(nn.Module):
    """A restricted Boltzmann machine with ``n_visible`` visible and ``n_hidden`` binary hidden units."""

    def __init__(self, n_visible: int, n_hidden: int, visible: str = "bernoulli"):
        super().__init__()
        if visible not in VISIBLE_KINDS:
            raise ValueError(f"visible must be one of {VISIBLE_KINDS}, got {visible!r}")
        self.visible = visible
        # trained by contrastive divergence, not by autograd (CD's update is not the gradient of any loss)
        self.W = nn.Parameter(torch.zeros(n_hidden, n_visible), requires_grad=False)
        self.b = nn.Parameter(torch.zeros(n_visible), requires_grad=False)
        self.c = nn.Parameter(torch.zeros(n_hidden), requires_grad=False)

    @property
    def n_visible(self) -> int:
        return self.W.shape[1]

    @property
    def n_hidden(self) -> int:
        return self.W.shape[0]

    def reset(self, generator: torch.Generator | None = None, std: float = 0.01) -> "RBM":
        """Small random weights, zero biases (Hinton's practical guide)."""
        with torch.no_grad():
            self.W.copy_(std * torch.randn(self.W.shape, generator=generator, device=self.W.device))
            self.b.zero_()
            self.c.zero_()
        return self

    def hidden_probability(self, v: torch.Tensor) -> torch.Tensor:
        """p(h = 1 | v), N x n_hidden."""
        return torch.sigmoid(v @ self.W.T + self.c)

    def visible_mean(self, h: torch.Tensor) -> torch.Tensor:
        """E[v | h]: sigmoid(W^T h + b) for Bernoulli units, W^T h + b for Gaussian ones."""
        a = h @ self.W + self.b
        return a if self.visible == "gaussian" else torch.sigmoid(a)

    def sample_hidden(self, v: torch.Tensor, generator=None) -> tuple[torch.Tensor, torch.Tensor]:
        p = self.hidden_probability(v)
        return p, (torch.rand(p.shape, generator=generator, device=p.device) < p).to(p.dtype)

    def sample_visible(self, h: torch.Tensor, generator=None) -> tuple[torch.Tensor, torch.Tensor]:
        mean = self.visible_mean(h)
        if self.visible == "gaussian":
            return mean, mean + torch.randn(mean.shape, generator=generator, device=mean.device)
        return mean, (torch.rand(mean.shape, generator=generator, device=mean.device) < mean).to(mean.dtype)

    def free_energy(self, v: torch.Tensor) -> torch.Tensor:
        """F(v) = -log sum_h exp(-E(v, h)), per row: lower for data the model finds likely."""
        visible_term = 0.5 * ((v - self.b) ** 2).sum(1) if self.visible == "gaussian" else -(v @ self.b)
        return visible_term - nn.functional.softplus(v @ self.W.T + self.c).sum(1)

    def reconstruction_error(self, v: torch.Tensor) -> float:
        """Mean squared error of the mean-field reconstruction E[v | p(h | v)]: the usual (rough) CD monitor."""
        with torch.no_grad():
            return float(((self.visible_mean(self.hidden_probability(v)) - v) ** 2).mean())

    def gibbs(self, v: torch.Tensor, steps: int, generator=None) -> torch.Tensor:
        """``steps`` rounds of block Gibbs sampling v -> h -> v from ``v``; returns the last visible mean."""
        mean = v
        with torch.no_grad():
            for _ in range(steps):
                _, h = self.sample_hidden(v, generator)
                mean, v = self.sample_visible(h, generator)
        return mean


def cd_gradients(rbm: RBM, v0: torch.Tensor, k: int = 1, generator=None) -> dict:
    """The CD-k estimate of the log-likelihood gradient for a batch ``v0`` (an ascent direction).

    Positive phase: ``h0 ~ p(h | v0)``; negative phase: k Gibbs steps from ``h0``, the visible side taken as
    its mean (a common noise-reducing choice). Statistics use hidden *probabilities*, as Hinton's guide
    recommends: ``dW = (p(h|v0)^T v0 - p(h|vk)^T vk) / N``, ``db = mean(v0 - vk)``, ``dc = mean(p(h|v0) - p(h|vk))``.
    """
    with torch.no_grad():
        ph0, h = rbm.sample_hidden(v0, generator)
        for step in range(k):
            vk = rbm.visible_mean(h)
            phk = rbm.hidden_probability(vk)
            if step < k - 1:
                h = (torch.rand(phk.shape, generator=generator, device=phk.device) < phk).to(phk.dtype)
        n = v0.shape[0]
        return {"W": (ph0.T @ v0 - phk.T @ vk) / n, "b": (v0 - vk).mean(0), "c": (ph0 - phk).mean(0)}


def cd_step(rbm: RBM, v0: torch.Tensor, lr: float = 0.01, k: int = 1, momentum: float = 0.0,
            weight_decay: float = 0.0, velocity: dict | None = None, generator=None) -> dict:
    """One CD-k update of ``rbm`` on the batch ``v0``: ``theta += velocity``, where
    ``velocity = momentum * velocity + lr * (CD-k gradient - weight_decay * W)`` (decay on the weights only).
    Returns the velocity (pass it back in for momentum)."""
    grads = cd_gradients(rbm, v0, k, generator)
    velocity = velocity if velocity is not None else {name: torch.zeros_like(g) for name, g in grads.items()}
    with torch.no_grad():
        for name, g in grads.items():
            param = getattr(rbm, name)
            if name == "W" and weight_decay:
                g = g - weight_decay * param
            velocity[name].mul_(momentum).add_(g, alpha=lr)
            param.add_(velocity[name])
    return velocity


class DBN(nn.Module):
    """A stack of RBMs with layer sizes ``(input, hidden_1, ..., hidden_L)``: Gaussian visible units at the
    bottom (standardised ``patch`` x ``patch`` grey pixels), Bernoulli ones above."""

    def __init__(self, sizes=(1024, 512, 256, 128), patch: int = 32):
        super().__init__()
        self.sizes, self.patch = sizes, patch = layer_sizes(sizes, patch), patch
        self.rbms = nn.ModuleList(RBM(a, b, "gaussian" if k == 0 else "bernoulli")
                                  for k, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])))

    @property
    def depth(self) -> int:
        return len(self.rbms)

    def up(self, v: torch.Tensor, depth: int | None = None) -> torch.Tensor:
        """Hidden probabilities after ``depth`` layers (all by default): the data each next RBM trains on."""
        with torch.no_grad():
            for rbm in self.rbms[:self.depth if depth is None else depth]:
                v = rbm.hidden_probability(v)
        return v

    def down(self, h: torch.Tensor, depth: int | None = None) -> torch.Tensor:
        """Visible means from layer ``depth`` back to pixels."""
        with torch.no_grad():
            for rbm in reversed(self.rbms[:self.depth if depth is None else depth]):
                h = rbm.visible_mean(h)
        return h

    def sample(self, n: int, gibbs_steps: int = 200, generator=None) -> torch.Tensor:
        """``n`` pixel-space samples from the model: Gibbs sampling in the top RBM (from random binary units),
        then one deterministic pass down through the lower layers (the DBN's generative path)."""
        top = self.rbms[-1]
        dev = top.W.device
        v = (torch.rand(n, top.n_visible, generator=generator, device=dev) < 0.5).float()
        if top.visible == "gaussian":
            v = torch.randn(n, top.n_visible, generator=generator, device=dev)
        top_visible = top.gibbs(v, gibbs_steps, generator)
        return self.down(top_visible, self.depth - 1)

    def unroll(self) -> SDAE:
        """The DBN as an encoder-decoder of the SDAE's shape (weights copied): encoder k = ``sigmoid(W_k x + c_k)``
        (the hidden probability), decoder k = ``W_k^T h + b_k`` (sigmoid above the pixel layer), as Hinton and
        Salakhutdinov (2006) unroll a DBN into an autoencoder."""
        sdae = SDAE(self.sizes, self.patch)
        with torch.no_grad():
            for rbm, enc, dec in zip(self.rbms, sdae.encoders, sdae.decoders):
                enc.weight.copy_(rbm.W)
                enc.bias.copy_(rbm.c)
                dec.weight.copy_(rbm.W.T)
                dec.bias.copy_(rbm.b)
        return sdae.to(self.rbms[0].W.device)

    def config(self) -> dict:
        return {"sizes": list(self.sizes), "patch": self.patch}


def save_dbn(model: DBN, path, provenance: dict | None = None) -> Path:
    """Weights as a plain dict of tensors (loadable with ``weights_only=True``), provenance as JSON beside them."""
    return save_model_file(path, model.config(), model, provenance)


def load_dbn(path=None, device="cpu") -> DBN:
    """The DBN saved at ``path`` (the shipped default when None), with ``weights_only=True`` on ``device``."""
    return load_model_file(DEFAULT_DBN if path is None else path, "DBN", "pretrain-dbn",
                           lambda c: DBN(c["sizes"], c["patch"]), device)[0]


__all__ = ["DBN", "DEFAULT_DBN", "RBM", "cd_gradients", "cd_step", "load_dbn", "save_dbn"]
