"""DLT's stacked denoising autoencoder (SDAE): 32x32 grey patches, a stack of shrinking sigmoid layers.

- Input: a grey patch, standardised per patch (zero mean, unit variance), so brightness and contrast
  changes of the target do not move the code (:func:`standardize_patches`).
- Encoder layer k: ``h_k = sigmoid(W_k h_{k-1} + b_k)``; decoder layer k maps ``h_k`` back to ``h_{k-1}``
  (linear for the pixel layer, sigmoid above it, matching what each reconstructs).
- Denoising: the input of the layer being trained is corrupted (:func:`corrupt`: masking noise sets a
  random fraction of values to 0, the patch mean after standardising; Gaussian noise adds N(0, sigma^2)),
  and the layer must reconstruct the clean values.
- Sparsity: a KL penalty pulls each hidden unit's mean activation towards a small target rho
  (:func:`kl_sparsity`), as in DLT.

Training lives in :mod:`deeptrack_lite.training.sdae`; the shipped default weights come from
``python -m deeptrack_lite pretrain-sdae`` and load with :func:`load_sdae`.
"""
from __future__ import annotations

import json
from pathlib import Path

import torch
import torch.nn as nn
import torch.nn.functional as F

from ..fileio import WEIGHTS_DIR
from .weightfile import load_model_file, save_model_file

DEFAULT_SDAE = WEIGHTS_DIR / "sdae.pt"


def standardize_patches(x: torch.Tensor, eps: float = 0.05) -> torch.Tensor:
    """N x ... patches -> N x D, each row with zero mean and unit variance (``eps`` keeps flat patches
    from blowing up noise)."""
    x = x.reshape(x.shape[0], -1).float()
    x = x - x.mean(dim=1, keepdim=True)
    return x / (x.std(dim=1, keepdim=True) + eps)


def corrupt(x: torch.Tensor, kind: str = "masking", level: float = 0.3,
            generator: torch.Generator | None = None) -> torch.Tensor:
    """The denoising autoencoder's corruption of its input.

    ``"masking"``: each value is set to 0 with probability ``level``; ``"gaussian"``: N(0, level^2) is
    added; ``"none"`` (or level 0): unchanged. Returns a new tensor; ``x`` is not modified."""
    if kind == "none" or level <= 0:
        return x.clone()
    if kind == "masking":
        keep = torch.rand(x.shape, generator=generator, device=x.device) >= level
        return x * keep
    if kind == "gaussian":
        return x + level * torch.randn(x.shape, generator=generator, device=x.device)
    raise ValueError(f"unknown noise kind {kind!r}; use 'masking', 'gaussian' or 'none'")


def kl_sparsity(h: torch.Tensor, target: float = 0.05) -> torch.Tensor:
    """Mean over hidden units of KL(rho || rho_hat_j), rho_hat_j = unit j's mean activation over the batch:
    the sparse-autoencoder penalty (zero when every unit is active a fraction ``target`` of the time)."""
    rho_hat = h.mean(dim=0).clamp(1e-6, 1 - 1e-6)
    rho = torch.as_tensor(target, dtype=h.dtype, device=h.device)
    return (rho * torch.log(rho / rho_hat) + (1 - rho) * torch.log((1 - rho) / (1 - rho_hat))).mean()


def layer_sizes(sizes, patch: int) -> tuple:
    """``sizes`` as a tuple of ints, checked: the input first (``patch * patch`` pixels), then at least one layer."""
    sizes = tuple(int(s) for s in sizes)
    if len(sizes) < 2 or sizes[0] != patch * patch:
        raise ValueError(f"sizes must start with patch*patch = {patch * patch} and have at least one hidden layer")
    return sizes


class SDAE(nn.Module):
    """Stacked denoising autoencoder with sizes ``(input, hidden_1, ..., hidden_L)``, e.g. (1024, 512, 256, 128)."""

    def __init__(self, sizes=(1024, 512, 256, 128), patch: int = 32):
        super().__init__()
        self.sizes, self.patch = layer_sizes(sizes, patch), patch
        self.encoders = nn.ModuleList(nn.Linear(a, b) for a, b in zip(sizes[:-1], sizes[1:]))
        self.decoders = nn.ModuleList(nn.Linear(b, a) for a, b in zip(sizes[:-1], sizes[1:]))

    @property
    def depth(self) -> int:
        return len(self.encoders)

    @property
    def code_size(self) -> int:
        return self.sizes[-1]

    def encode_layer(self, k: int, h: torch.Tensor) -> torch.Tensor:
        return torch.sigmoid(self.encoders[k](h))

    def decode_layer(self, k: int, h: torch.Tensor) -> torch.Tensor:
        out = self.decoders[k](h)
        return out if k == 0 else torch.sigmoid(out)  # pixels are standardised (any sign); codes are in (0, 1)

    def encode(self, x: torch.Tensor, depth: int | None = None, return_all: bool = False):
        """Standardised patches N x D -> the code after ``depth`` layers (all by default)."""
        hs = []
        h = x
        for k in range(self.depth if depth is None else depth):
            h = self.encode_layer(k, h)
            hs.append(h)
        return (h, hs) if return_all else h

    def decode(self, h: torch.Tensor, depth: int | None = None) -> torch.Tensor:
        """A code from layer ``depth`` (the top by default) back to pixels."""
        for k in reversed(range(self.depth if depth is None else depth)):
            h = self.decode_layer(k, h)
        return h

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Reconstruction of (standardised) patches through the whole stack."""
        return self.decode(self.encode(x))

    def config(self) -> dict:
        return {"sizes": list(self.sizes), "patch": self.patch}


class SDAEClassifier(nn.Module):
    """DLT's online network: the SDAE's encoder layers + one sigmoid classification unit.

    ``forward`` returns the logit (apply ``torch.sigmoid`` for the confidence); the encoder layers are the
    SDAE's own modules, so fine-tuning them changes this network only when it was given a copy."""

    def __init__(self, sdae: SDAE):
        super().__init__()
        self.patch = sdae.patch
        self.encoder = sdae.encoders
        self.classifier = nn.Linear(sdae.code_size, 1)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        for layer in self.encoder:
            x = torch.sigmoid(layer(x))
        return x

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.features(x)).squeeze(1)


def save_sdae(model: SDAE, path, provenance: dict | None = None) -> Path:
    """Write the weights (a plain dict of tensors, loadable with ``weights_only=True``) and, when given,
    the provenance as JSON beside them (same name, ``.json``)."""
    return save_model_file(path, model.config(), model, provenance)


def load_sdae(path=None, device="cpu") -> SDAE:
    """The SDAE saved at ``path`` (the package's shipped default when None), on ``device``.

    Uses ``torch.load(map_location=device, weights_only=True)``: no code is executed from the file."""
    return load_model_file(DEFAULT_SDAE if path is None else path, "SDAE", "pretrain-sdae",
                           lambda c: SDAE(c["sizes"], c["patch"]), device)[0]


def sdae_provenance(path=None) -> dict:
    """The provenance record beside a weight file (command, seed, data, final losses), or {}."""
    path = Path(path) if path is not None else DEFAULT_SDAE
    meta = path.with_suffix(".json")
    return json.loads(meta.read_text()) if meta.is_file() else {}


def reconstruction_error(model: SDAE, x: torch.Tensor) -> torch.Tensor:
    """Per-patch mean squared error of the full-stack reconstruction of standardised patches ``x``."""
    with torch.no_grad():
        return F.mse_loss(model(x), x, reduction="none").mean(dim=1)
