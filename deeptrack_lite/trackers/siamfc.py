"""SiamFC (Bertinetto et al. 2016): the survey's "end to end" and "real time" directions in one tracker.

Off-line, a Siamese network learns a similarity function on pairs of frames (:mod:`deeptrack_lite.training.siamfc`;
the package ships its weights). Online nothing is learned:

1. First frame: the exemplar crop around the box is embedded once.
2. Every frame: search regions at a few scales (``scales``, the *scale pyramid*) around the last position are
   embedded in one batch and the exemplar's embedding is cross-correlated over each: one response map per scale.
3. Each map is upsampled (``upsample``, bicubic) for sub-pixel precision; scales other than 1 are damped by
   ``scale_penalty``; the best scale's map is normalised and blended with a cosine window (``window_influence``),
   a prior that the target moved little; its peak moves the box, and the size follows the chosen scale at
   ``scale_lr``.
"""
from __future__ import annotations

import copy

import numpy as np
import torch
import torch.nn.functional as F

from ..crops import crop_and_resize, image_size, image_to_tensor
from ..features.backbones import backbone as load_backbone
from ..models.correlation import cosine_window
from ..models.siamfc import STRIDE, exemplar_side, load_siamfc, trunk_features
from .base import Tracker, register_tracker
from .pretrained import pretrained_loader


#: ``siamfc_net(weights=None, device="cpu") -> (network, crop settings)``: the shipped weights, or those of ``weights``.
siamfc_net = pretrained_loader(load_siamfc)

_CHANNELS_LAST: dict = {}


def channels_last_trunk(trunk):
    """A copy of the frozen trunk whose layers use the channels-last memory layout: the same function, computed
    in about 40% less time on a CPU (the shared trunk other trackers use is left as it is)."""
    key = (trunk.name, str(trunk.device))
    if key not in _CHANNELS_LAST:
        fast = copy.copy(trunk)
        fast.net = copy.deepcopy(trunk.net).to(memory_format=torch.channels_last)
        _CHANNELS_LAST[key] = fast
    return _CHANNELS_LAST[key]


@register_tracker("siamfc", "SiamFC: a Siamese network trained off-line; cross-correlation, scale pyramid, cosine "
                  "window, no online learning")
class SiamFCTracker(Tracker):
    """Fully-convolutional Siamese tracker: the first frame's exemplar, correlated over each new search region."""

    deterministic = True
    SCORE = "the best scale's peak response logit: the learned similarity of exemplar and search, before the window"
    PRESENCE_THRESHOLD = 0.0
    PARAMS = {
        "weights": (None, "SiamFC weight file (None: the package's shipped weights, from train-siamfc)", "None or path"),
        "scales": ((1 / 1.0375, 1.0, 1.0375), "search region scales, relative to the last size (SiamFC: 1.0375^{-1,0,1})", "tuple of float > 0"),
        "scale_penalty": (0.9745, "factor on the peak of any scale but 1 (SiamFC: 0.9745)", "float in (0, 1]"),
        "scale_lr": (0.59, "how far the size moves towards the chosen scale (SiamFC: 0.59)", "float in [0, 1]"),
        "window_influence": (0.176, "weight of the cosine window in the final map (SiamFC: 0.176; 0: no window)", "float in [0, 1]"),
        "upsample": (8, "response upsampling factor, bicubic (SiamFC: 16)", "int >= 1"),
    }
    min_size = 4.0
    # SiamFC's own scale settings. A margin in logits instead (the scale must beat the current one by 2) scored
    # better on synthetic scenarios but lost the target's size on real video (../shared/sequences): kept as published.

    def _embed(self, image, regions, size: int) -> torch.Tensor:
        with self.timed("features"):
            crops = crop_and_resize(image, regions, size, device=self.device).contiguous(memory_format=torch.channels_last)
            return self.net.embed(*trunk_features(self.trunk, crops))

    def search_regions(self) -> np.ndarray:
        """The square search regions (x, y, side, side) of the next frame: one per scale, around the last position."""
        sides = self.search_side * np.asarray(self.params["scales"], dtype=np.float64)
        return np.stack([self.center[0] - sides / 2, self.center[1] - sides / 2, sides, sides], axis=1)

    def response_maps(self, image, regions=None) -> torch.Tensor:
        """The raw response logits (one map per region, R x R cells) of the search regions (default:
        :meth:`search_regions`)."""
        regions = self.search_regions() if regions is None else regions
        x = self._embed(image_to_tensor(image, self.device), regions, self.search_size)
        with self.timed("scoring"):
            return self.net.response(self.exemplar, x)

    def _init(self, image, box):
        p = self.params
        self.trunk = channels_last_trunk(load_backbone("efficientnet_lite0", self.device))
        self.net, crops = siamfc_net(p["weights"], self.device)
        self.context = crops["context"]
        self.search_size = int(crops["search_size"])
        x, y, w, h = [float(v) for v in box]
        self.center, self.size = np.array([x + w / 2, y + h / 2]), np.array([w, h])
        self.init_size = self.size.copy()
        z_side = exemplar_side(box, self.context)
        self.search_side = z_side * crops["search_size"] / crops["exemplar_size"]
        region = np.array([[self.center[0] - z_side / 2, self.center[1] - z_side / 2, z_side, z_side]])
        with torch.no_grad():
            self.exemplar = self._embed(image_to_tensor(image, self.device), region, int(crops["exemplar_size"]))
        # the trunk pads "same": a crop of S pixels gives ceil(S / 8) cells, the correlation R = difference + 1
        cells = lambda side: -(-int(side) // STRIDE)  # noqa: E731
        U = (cells(self.search_size) - cells(crops["exemplar_size"]) + 1) * int(p["upsample"])
        window = cosine_window(U, U, device=self.device)
        self.window = window / window.sum()

    def map_to_image(self, cell_xy, region) -> np.ndarray:
        """An (x, y) cell of an upsampled response map of the search ``region`` -> image pixels (the map's centre
        is the region's centre; a cell is ``STRIDE / upsample`` crop pixels)."""
        U = self.window.shape[-1]
        side = float(region[2])
        centre = np.asarray(region[:2], dtype=np.float64) + side / 2
        return centre + (np.asarray(cell_xy, dtype=np.float64) - (U - 1) / 2) * STRIDE / int(self.params["upsample"]) \
            * side / self.search_size

    def image_to_map(self, point_xy, region) -> np.ndarray:
        """Image pixels -> the (x, y) cell of an upsampled response map of ``region`` (:meth:`map_to_image` undone)."""
        U = self.window.shape[-1]
        side = float(region[2])
        centre = np.asarray(region[:2], dtype=np.float64) + side / 2
        return (np.asarray(point_xy, dtype=np.float64) - centre) * self.search_size / side \
            * int(self.params["upsample"]) / STRIDE + (U - 1) / 2

    def locate(self, raw: torch.Tensor, window_influence: float | None = None) -> dict:
        """From the raw response maps (one per scale, as :meth:`response_maps` gives them) to the decision:
        each map upsampled, the peaks of scales other than 1 damped by ``scale_penalty``, the best scale's map
        normalised and blended with the cosine window
        (``window_influence``: the tracker's own when None). Returns ``best`` (the scale's
        index), ``upsampled`` (scales x U x U), ``final`` (U x U) and ``peak`` ((x, y) cell of ``final``)."""
        p = self.params
        w = p["window_influence"] if window_influence is None else float(window_influence)
        U = raw.shape[-1] * int(p["upsample"])
        up = F.interpolate(raw[:, None], size=(U, U), mode="bicubic", align_corners=False)[:, 0]
        penalty = torch.tensor([1.0 if s == 1.0 else p["scale_penalty"] for s in p["scales"]], device=up.device)
        best = int(torch.argmax(up.flatten(1).max(dim=1).values * penalty))
        r = up[best] - up[best].min()
        r = r / r.sum().clamp_min(1e-12)
        r = (1 - w) * r + w * self.window
        py, px = divmod(int(torch.argmax(r)), U)
        return {"best": best, "upsampled": up, "final": r, "peak": (px, py)}

    @torch.no_grad()
    def _update(self, image):
        p = self.params
        scales = list(p["scales"])
        regions = self.search_regions()
        raw = self.response_maps(image, regions)
        with self.timed("scoring"):
            found = self.locate(raw)
        best = found["best"]
        scale = scales[best]
        W, H = image_size(image)
        self.center = np.clip(self.map_to_image(found["peak"], regions[best]), 0, [W, H])
        s = (1 - p["scale_lr"]) + p["scale_lr"] * scale
        lo, hi = np.maximum(self.init_size / 5, 4.0), self.init_size * 5
        s = float(np.clip(s, np.max(lo / self.size), np.min(hi / self.size)))
        self.size, self.search_side = self.size * s, self.search_side * s
        # raw maps are a few cells wide: keep them all, so a notebook can redo the decision with other settings
        self.last_info.update(score=float(raw[best].max()), scale=scale, responses=raw.cpu().numpy(), regions=regions,
                              response=raw[best].cpu().numpy(), final_map=found["final"].cpu().numpy())
        return np.concatenate([self.center - self.size / 2, self.size])


__all__ = ["SiamFCTracker", "channels_last_trunk", "siamfc_net"]
