"""MDNet's network (Nam and Han, CVPR 2016): shared layers, then one binary branch per training domain.

Shape, as in the paper: convolutional layers see the target warped to 75 x 75 pixels inside a 107 x 107
window (the box plus 16 pixels of context on each side), then two shared fully connected layers fc4 and
fc5 (512 units, ReLU, dropout), then K domain-specific branches fc6^1 ... fc6^K, each a binary
object-vs-background classifier for one training video. A branch outputs one logit: positive means
"the target of my video".

The convolutional layers are the first ``trunk_blocks`` blocks of EfficientNet-Lite0 with its bundled
ImageNet weights (up to the stride-16 stage: 112 maps); the last ``train_blocks`` of them are trained
off-line with fc4-fc5, the ones below stay as ImageNet made them. BatchNorm keeps ImageNet's statistics
(an MDNet batch holds one video only, which would bias them).

**How the 107 x 107 crops are computed.** Running the convolutional layers on 256 separate crops per frame
costs 2.7 s on a 2-core CPU. The layers are the same for every candidate, so :func:`region_features` runs
them once on a region around the target, warped at the crops' scale (target -> 75 pixels), and
:meth:`RegionFeatures.window_features` reads each candidate's 107 x 107 window off that feature map with
RoIAlign into ``roi_size`` x ``roi_size`` cells (RT-MDNet's shortcut, Jung et al. 2018). The
difference from separate crops is what the network sees beyond a window's border (the real image instead
of padding). RoIAlign's bilinear sampling of axis-aligned windows is separable, so it is computed as two
small matrix products per window (rows, then columns), the same numbers as ``grid_sample`` at about a
fifth of its time.
"""
from __future__ import annotations

import copy
import json
import math
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from ..crops import crop_and_resize, image_to_tensor
from ..errors import DataError
from ..features.backbones import efficientnet_lite0
from ..fileio import WEIGHTS_DIR, load_torch_file, write_provenance
from ..runtime import conv_memory_format
from .seeded import Dropout, default_init_

CROP = 107      # MDNet's input size
TARGET = 75     # the box's size inside the crop (16 pixels of context on each side)
CONTEXT = CROP / TARGET


@lru_cache(maxsize=4)
def _weight_file(path: str, mtime: float) -> dict:
    data = load_torch_file(path, "MDNet weights")
    if not isinstance(data, dict):
        raise DataError(f"{path} holds a {type(data).__name__}, not MDNet weights")
    return data


class MDNet(nn.Module):
    """Shared conv layers + fc4 + fc5, and ``n_domains`` binary fc6 branches (one logit each).

    ``forward(windows, branch)`` scores N x C x roi x roi window features (see :class:`RegionFeatures`);
    :meth:`head` does the same on flattened features (what the online tracker caches)."""

    def __init__(self, n_domains: int = 1, *, trunk_blocks: int = 11, train_blocks: int = 2, roi_size: int = 5,
                 fc_width: int = 512, dropout: float = 0.5, imagenet_weights=None):
        super().__init__()

        if not 1 <= trunk_blocks <= 16 or not 0 <= train_blocks <= trunk_blocks or roi_size < 1 or n_domains < 1:
            raise DataError(f"MDNet: need 1 <= trunk_blocks <= 16, 0 <= train_blocks <= trunk_blocks, roi_size >= 1 "
                            f"and n_domains >= 1; got {trunk_blocks}, {train_blocks}, {roi_size}, {n_domains}")
        self.settings = {"trunk_blocks": trunk_blocks, "train_blocks": train_blocks, "roi_size": roi_size,
                         "fc_width": fc_width, "dropout": dropout}
        lite = efficientnet_lite0(imagenet_weights)  # ImageNet weights; the file is read once per process
        self.stem = lite.stem_layers()
        self.blocks = nn.ModuleList(lite.blocks[:trunk_blocks])
        self.channels = self.blocks[-1]._bn2.num_features
        self.stride = 2 * math.prod(b._depthwise_conv.stride[0] for b in self.blocks)
        self.roi_size = roi_size
        self.feature_dim = self.channels * roi_size * roi_size
        self.fc4 = nn.Sequential(Dropout(dropout), nn.Linear(self.feature_dim, fc_width), nn.ReLU())
        self.fc5 = nn.Sequential(Dropout(dropout), nn.Linear(fc_width, fc_width), nn.ReLU())
        self.branches = nn.ModuleList(self._new_branch() for _ in range(n_domains))
        self.frozen_blocks = trunk_blocks - train_blocks
        self.stem.requires_grad_(False)
        for block in self.blocks[:self.frozen_blocks]:
            block.requires_grad_(False)
        self.memory_format = torch.contiguous_format  # the conv layers' layout (load_mdnet picks the device's)

    def use_memory_format(self, memory_format: torch.memory_format) -> "MDNet":
        """Store the conv layers' weights in ``memory_format`` and run them on inputs in it."""
        self.memory_format = memory_format
        return self.to(memory_format=memory_format)

    def _new_branch(self, generator: torch.Generator | None = None) -> nn.Module:
        fc6 = nn.Linear(self.fc5[1].out_features, 1).to(self.fc4[1].weight.device)
        if generator is not None:  # the draws the constructor made, from the caller's generator instead
            default_init_(fc6, generator)
        with torch.no_grad():
            nn.init.normal_(fc6.weight, std=0.01, generator=generator)
            nn.init.zeros_(fc6.bias)
        return nn.Sequential(Dropout(self.settings["dropout"]), fc6)

    def reset_branches(self, n: int = 1, generator: torch.Generator | None = None) -> None:
        """Replace the domain branches by ``n`` fresh ones (the online tracker starts a new fc6 per video),
        initialised from ``generator`` (on the network's device; None: torch's global RNG)."""
        self.branches = nn.ModuleList(self._new_branch(generator) for _ in range(n))

    def train(self, mode: bool = True):
        super().train(mode)
        for m in self.modules():  # ImageNet's BatchNorm statistics stay: one-video batches would bias them
            if isinstance(m, nn.BatchNorm2d):
                m.eval()
        return self

    # ------------------------------------------------------------------ the layers
    def conv(self, images01: torch.Tensor) -> torch.Tensor:
        """RGB in [0, 1] (N x 3 x H x W) -> N x C x H/stride x W/stride maps of the shared conv layers."""
        x = self.stem((images01 * 2.0 - 1.0).contiguous(memory_format=self.memory_format))  # Lite0 expects [-1, 1]
        for block in self.blocks:
            x = block(x)
        return x

    def shared(self, features: torch.Tensor) -> torch.Tensor:
        """fc5's output for flattened window features (N x feature_dim)."""
        return self.fc5(self.fc4(features.reshape(len(features), -1)))

    @property
    def head_dropouts(self) -> list:
        """The dropout layers of fc4, fc5 and the branches (what scoring switches off)."""
        return [m for part in (self.fc4, self.fc5, *self.branches) for m in part if isinstance(m, nn.Dropout)]

    def head(self, features: torch.Tensor, branch: int = 0) -> torch.Tensor:
        """fc4 -> fc5 -> fc6 of ``branch``: one logit per row of ``features`` (N x feature_dim)."""
        return self.branches[branch](self.shared(features)).reshape(-1)

    def forward(self, windows: torch.Tensor, branch: int = 0) -> torch.Tensor:
        return self.head(windows.reshape(len(windows), -1), branch)

    # ------------------------------------------------------------------ parameter groups
    def conv_parameters(self) -> list:
        """The trained (not frozen) convolutional parameters."""
        return [p for p in self.blocks.parameters() if p.requires_grad]

    def fc_parameters(self) -> list:
        return list(self.fc4.parameters()) + list(self.fc5.parameters())

    def shared_parameters(self) -> list:
        """Everything every domain trains: the trained conv blocks, fc4 and fc5."""
        return self.conv_parameters() + self.fc_parameters()

    def learned_state(self) -> dict:
        """The weights training changes (trained conv blocks, fc4, fc5, branches): what a weight file holds;
        the frozen layers come from the bundled ImageNet weights."""
        frozen = ("stem.",) + tuple(f"blocks.{i}." for i in range(self.frozen_blocks))
        return {k: v for k, v in self.state_dict().items() if not k.startswith(frozen)}


# ---------------------------------------------------------------------------------------------- region features
def region_pixels(search: float) -> int:
    """Side of the warped region, in pixels, for a region ``search`` target sizes wide (a multiple of 16)."""
    return int(16 * math.ceil(search * TARGET / 16))


def region_box(box, search: float) -> np.ndarray:
    """The region around ``box`` (x, y, w, h) that, warped to ``region_pixels(search)`` pixels, shows the box
    at 75 x 75 pixels, as MDNet's crops do."""
    x, y, w, h = np.asarray(box, dtype=np.float64)
    side = region_pixels(search) / TARGET
    return np.array([x + w / 2 - side * w / 2, y + h / 2 - side * h / 2, side * w, side * h])


def window_boxes(boxes) -> np.ndarray:
    """The 107 x 107 windows of MDNet's crops: every box enlarged by 107/75 about its centre."""
    b = np.asarray(boxes, dtype=np.float64).reshape(-1, 4)
    w, h = b[:, 2] * CONTEXT, b[:, 3] * CONTEXT
    return np.stack([b[:, 0] + b[:, 2] / 2 - w / 2, b[:, 1] + b[:, 3] / 2 - h / 2, w, h], axis=1)


@dataclass
class RegionFeatures:
    """The shared conv layers' maps of one warped region of a frame, and where that region lies."""

    maps: torch.Tensor      # 1 x C x h x w
    region: np.ndarray      # (x, y, w, h) of the region in image pixels
    pixels: int             # side of the warped region
    roi_size: int

    def window_features(self, boxes, sampling: int = 2, chunk: int = 512) -> torch.Tensor:
        """RoIAlign: the features of every box's 107 x 107 window, N x C x roi x roi, batched.

        Each window is split into roi x roi bins; a bin is the mean of ``sampling`` x ``sampling``
        bilinear samples of the map (zero outside the region). Boxes go ``chunk`` at a time, which bounds
        the sampling grid's memory (4000 first-frame negatives would otherwise take ~0.5 GB at once)."""
        win = np.asarray(window_boxes(boxes), dtype=np.float32)
        return torch.cat([self._roi_align(win[i:i + chunk], sampling) for i in range(0, max(len(win), 1), chunk)])

    def _roi_align(self, win: np.ndarray, sampling: int) -> torch.Tensor:
        dev = self.maps.device
        win = torch.as_tensor(win, device=dev).reshape(-1, 4)
        _, C, H, W = self.maps.shape
        rx, ry, rw, rh = (float(v) for v in self.region)
        # window edges in the map's pixel coordinates (pixel centres at integers, as grid_sample's
        # align_corners=False places them)
        x0, y0 = (win[:, 0] - rx) / rw * W - 0.5, (win[:, 1] - ry) / rh * H - 0.5
        sx, sy = win[:, 2] / rw * W, win[:, 3] / rh * H
        k = self.roi_size * sampling
        t = (torch.arange(k, device=dev, dtype=torch.float32) + 0.5) / k
        rows = _bin_weights(y0[:, None] + sy[:, None] * t, H, self.roi_size, sampling)   # N x roi x H
        cols = _bin_weights(x0[:, None] + sx[:, None] * t, W, self.roi_size, sampling)   # N x roi x W
        n, r = len(win), self.roi_size
        maps = self.maps[0].permute(1, 0, 2).reshape(H, C * W)                           # H x (C W)
        by_rows = (rows.reshape(n * r, H) @ maps).reshape(n, r * C, W)                    # N x (roi C) x W
        out = by_rows @ cols.transpose(1, 2)                                               # N x (roi C) x roi
        return out.reshape(n, r, C, r).permute(0, 2, 1, 3)                                 # N x C x roi x roi


def _bin_weights(coords: torch.Tensor, size: int, bins: int, sampling: int) -> torch.Tensor:
    """Bilinear interpolation along one axis as a matrix: ``coords`` (N x bins*sampling, pixel units, centres
    at integers) -> N x bins x size weights, each bin the mean of its ``sampling`` samples. Samples outside
    the map get no weight from beyond its edge, as grid_sample's zero padding."""
    lo = torch.floor(coords)
    frac = coords - lo
    idx = torch.arange(size, device=coords.device, dtype=coords.dtype)
    weights = (idx == lo[..., None]) * (1 - frac)[..., None] + (idx == lo[..., None] + 1) * frac[..., None]
    return weights.reshape(len(coords), bins, sampling, size).mean(dim=2)


def region_features(net: MDNet, image, box, search: float = 5.0) -> RegionFeatures:
    """Run the shared conv layers once on the region around ``box`` (``search`` target sizes wide, warped so
    the box is 75 x 75 pixels). ``image`` is an H x W x 3 uint8 array or a 1 x 3 x H x W tensor in [0, 1].
    Gradients follow the caller's grad mode (trackers call it under ``torch.no_grad()``)."""
    return batched_region_features(net, [image], [box], search)[0]


def crop_window_features(net: MDNet, image, boxes, batch: int = 16) -> torch.Tensor:
    """MDNet's literal computation, for comparison: every box's 107 x 107 window cropped and resized, run
    through the conv layers on its own, and pooled to roi x roi cells (N x C x roi x roi). About 40 times
    slower than :meth:`RegionFeatures.window_features` for 256 candidates."""
    dev = next(net.parameters()).device
    img = image_to_tensor(image, dev)
    wins = window_boxes(boxes)
    out = []
    with torch.no_grad():
        for i in range(0, len(wins), batch):
            maps = net.conv(crop_and_resize(img, wins[i:i + batch], CROP, device=dev))
            out.append(F.adaptive_avg_pool2d(maps, net.roi_size))
    return torch.cat(out)


def batched_region_features(net: MDNet, images, boxes, search: float = 5.0) -> list[RegionFeatures]:
    """:func:`region_features` for several frames with one batched pass through the conv layers (training)."""
    dev = next(net.parameters()).device
    regions = [region_box(b, search) for b in boxes]
    pixels = region_pixels(search)
    crops = torch.cat([crop_and_resize(img, r[None], pixels, device=dev) for img, r in zip(images, regions)])
    maps = net.conv(crops)
    return [RegionFeatures(maps[i:i + 1], r, pixels, net.roi_size) for i, r in enumerate(regions)]


# ---------------------------------------------------------------------------------------------- weight files
def default_mdnet_weights() -> Path:
    """Path of the MDNet weights shipped with the package (trained by ``python -m deeptrack_lite train-mdnet``)."""
    return WEIGHTS_DIR / "mdnet.pt"


def _weights_path(path) -> Path:
    return Path(str(path if path is not None else default_mdnet_weights()))


def save_mdnet(net: MDNet, path, provenance: dict, *, half: bool = True) -> None:
    """Write the learned weights (float16 when ``half``: half the size, differences far below the training
    noise), the settings and the provenance (also written beside it as ``.json``)."""
    from ..fileio import atomic_torch_save

    state = {k: (v.half() if half and v.is_floating_point() else v).cpu() for k, v in net.learned_state().items()}
    atomic_torch_save({"settings": json.dumps(net.settings), "n_domains": len(net.branches), "state": state,
                       "provenance": json.dumps(provenance)}, path)
    write_provenance(path, provenance)


def load_mdnet(path=None, device="cpu", n_domains: int | None = None) -> MDNet:
    """An :class:`MDNet` with the learned weights of ``path`` (default: the shipped file) on ``device``, its
    conv layers in the device's faster memory layout. ``n_domains`` replaces the stored branches by that many
    fresh ones (online tracking uses 1). Every call returns a new network (a copy of one built once per file,
    so a tracker's init does not pay for building it again)."""
    path = _weights_path(path)
    try:
        mtime = path.stat().st_mtime
    except FileNotFoundError:
        raise DataError(f"no MDNet weights at {path}; train some with `python -m deeptrack_lite train-mdnet`") from None
    net = copy.deepcopy(_built_mdnet(str(path), mtime))
    if n_domains is not None:
        net.reset_branches(n_domains)
    return net.to(device).use_memory_format(conv_memory_format(device)).eval()


@lru_cache(maxsize=2)
def _built_mdnet(path: str, mtime: float) -> MDNet:
    path = Path(path)
    try:
        data = _weight_file(str(path), mtime)
        settings = json.loads(data["settings"])
        net = MDNet(int(data["n_domains"]), **settings)
        missing, unexpected = net.load_state_dict({k: v.float() if v.is_floating_point() else v
                                                   for k, v in data["state"].items()}, strict=False)
    except FileNotFoundError:
        raise DataError(f"no MDNet weights at {path}; train some with `python -m deeptrack_lite train-mdnet`") from None
    except DataError:
        raise
    except Exception as exc:  # a damaged or foreign file
        raise DataError(f"cannot load MDNet weights from {path}: {(str(exc).strip().splitlines() or [''])[0][:300]}") from None
    learned = set(net.learned_state())
    if unexpected or learned & set(missing):
        raise DataError(f"{path} does not hold MDNet weights of these settings (missing {sorted(learned & set(missing))[:3]}, "
                        f"unexpected {unexpected[:3]})")
    return net.eval()


def mdnet_provenance(path=None) -> dict:
    """The provenance stored with a weight file: command, seed, data, final figures."""
    path = _weights_path(path)
    try:
        return json.loads(_weight_file(str(path), path.stat().st_mtime)["provenance"])
    except Exception as exc:
        raise DataError(f"cannot read the provenance of {path}: {exc.__class__.__name__}") from None


__all__ = ["CONTEXT", "CROP", "MDNet", "RegionFeatures", "TARGET", "batched_region_features", "crop_window_features",
           "default_mdnet_weights",
           "load_mdnet", "mdnet_provenance", "region_box", "region_features", "region_pixels", "save_mdnet",
           "window_boxes"]
