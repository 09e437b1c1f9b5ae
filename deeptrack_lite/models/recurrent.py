"""A recurrent tracker's network in the spirit of Re3 (Gordon et al. 2018) and RTT: the survey's "other network
models (RNN)" and "the temporal correlation of video" directions.

Every frame, two crops of the same square region (``context`` times the last box, centred on it): one from the
previous frame, one from the current frame. Both go through the frozen ImageNet trunk (EfficientNet-Lite0's
stride-16 maps, a shared trained 1x1 reduction); the two feature maps, flattened side by side, pass a fully
connected layer into an **LSTM cell** whose state carries what the target looked like and how it moved over the
frames so far; a last layer reads the box in the current crop from the LSTM's output, as fractions of the crop
(x0, y0, x1, y1). No online learning: the state is the only thing that changes while tracking.
"""
from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from ..fileio import WEIGHTS_DIR
from .seeded import default_init_
from .weightfile import load_model_file, save_model_file

DEFAULT_RECURRENT = WEIGHTS_DIR / "recurrent.pt"
TRUNK_TAP = "stride16"


def trunk_maps(backbone, crops01: torch.Tensor) -> torch.Tensor:
    """Frozen stride-16 trunk features of N x 3 x S x S crops in [0, 1] (N x 112 x S/16 x S/16)."""
    with torch.no_grad():
        x = backbone.normalize(crops01.to(backbone.device, torch.float32))
        return backbone.net.forward_taps(x, (TRUNK_TAP,))[TRUNK_TAP]


def crop_region(box, context: float) -> np.ndarray:
    """The region (x, y, w, h) a crop covers: ``context`` times the box, same centre."""
    x, y, w, h = [float(v) for v in box]
    return np.array([x + w / 2 - context * w / 2, y + h / 2 - context * h / 2, context * w, context * h])


def box_in_region(box, region) -> np.ndarray:
    """A box (x, y, w, h) as fractions (x0, y0, x1, y1) of a region."""
    x, y, w, h = [float(v) for v in box]
    rx, ry, rw, rh = [float(v) for v in region]
    return np.array([(x - rx) / rw, (y - ry) / rh, (x + w - rx) / rw, (y + h - ry) / rh])


def box_from_region(box01, region) -> np.ndarray:
    """Fractions (x0, y0, x1, y1) of a region -> an image box (x, y, w, h)."""
    x0, y0, x1, y1 = [float(v) for v in box01]
    rx, ry, rw, rh = [float(v) for v in region]
    return np.array([rx + x0 * rw, ry + y0 * rh, (x1 - x0) * rw, (y1 - y0) * rh])


class RecurrentTrackerNet(nn.Module):
    """Trunk maps of the previous and current crops, and the LSTM state -> the box in the current crop."""

    def __init__(self, channels: int = 112, cells: int = 6, reduced: int = 32, hidden: int = 128):
        super().__init__()
        self.reduce = nn.Conv2d(channels, reduced, 1)
        self.fc = nn.Linear(2 * reduced * cells * cells, hidden)
        self.lstm = nn.LSTMCell(hidden, hidden)
        self.head = nn.Linear(hidden, 4)
        self.cells, self.hidden = int(cells), int(hidden)

    def reset_parameters(self, generator: torch.Generator | None = None) -> None:
        """PyTorch's default initialisation drawn from ``generator`` (:func:`~.seeded.reset_parameters` covers the
        convolution and the linear layers; an LSTM cell's weights and biases are uniform in +-1/sqrt(hidden))."""
        for layer in (self.reduce, self.fc, self.head):
            default_init_(layer, generator)
        bound = 1 / math.sqrt(self.hidden)
        with torch.no_grad():
            for weight in self.lstm.parameters():
                nn.init.uniform_(weight, -bound, bound, generator=generator)

    def initial_state(self, n: int = 1, device=None) -> tuple[torch.Tensor, torch.Tensor]:
        z = torch.zeros(n, self.hidden, device=device)
        return z, z.clone()

    def step(self, prev_maps: torch.Tensor, cur_maps: torch.Tensor, state):
        """One time step for a batch: (boxes N x 4 as fractions (x0, y0, x1, y1) of the crop, new state)."""
        a = F.relu(self.reduce(prev_maps)).flatten(1)
        b = F.relu(self.reduce(cur_maps)).flatten(1)
        h, c = self.lstm(F.relu(self.fc(torch.cat([a, b], dim=1))), state)
        return self.head(h), (h, c)

    def unroll(self, prev_maps: torch.Tensor, cur_maps: torch.Tensor, state=None) -> torch.Tensor:
        """T x N x C x H x W maps -> T x N x 4 boxes, the state carried from step to step (zeros at first)."""
        state = state or self.initial_state(prev_maps.shape[1], prev_maps.device)
        out = []
        for t in range(prev_maps.shape[0]):
            box, state = self.step(prev_maps[t], cur_maps[t], state)
            out.append(box)
        return torch.stack(out)

    def config(self) -> dict:
        return {"channels": self.reduce.in_channels, "cells": self.cells, "reduced": self.reduce.out_channels,
                "hidden": self.hidden}


def save_recurrent(net: RecurrentTrackerNet, path, crops: dict, provenance: dict | None = None) -> Path:
    return save_model_file(path, {**net.config(), "crops": crops}, net, provenance)


def load_recurrent(path=None, device="cpu") -> tuple[RecurrentTrackerNet, dict]:
    """(network, crop settings) from a file written by :func:`save_recurrent` (default: the package's own)."""
    net, config = load_model_file(DEFAULT_RECURRENT if path is None else path, "recurrent tracker", "train-recurrent",
                                  lambda c: RecurrentTrackerNet(c["channels"], c["cells"], c["reduced"], c["hidden"]),
                                  device)
    return net, config["crops"]


__all__ = ["DEFAULT_RECURRENT", "RecurrentTrackerNet", "box_from_region", "box_in_region", "crop_region",
           "load_recurrent", "save_recurrent", "trunk_maps"]
