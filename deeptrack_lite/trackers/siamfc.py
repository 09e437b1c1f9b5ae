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


@register_tracker("siamfc", "SiamFC: a Siamese network trained off-line; cross-correlation, scale pyramid, cosine "
                  "window, no online learning")
class SiamFCTracker(Tracker):
    """Fully-convolutional Siamese tracker: the first frame's exemplar, correlated over each new search region."""

    deterministic = True
    SCORE = "the best scale's peak response logit: the learned similarity of exemplar and search, before the window"
    PRESENCE_THRESHOLD = 0.0
    PARAMS = {
        "weights": (None, "SiamFC weight file (None: the package's shipped weights, from train-siamfc)"),
        "scales": ((1 / 1.0375, 1.0, 1.0375), "search region scales, relative to the last size (SiamFC: 1.0375^{-1,0,1})"),
        "scale_penalty": (0.9745, "factor on the peak of any scale but 1 (SiamFC: 0.9745)"),
        "scale_lr": (0.59, "how far the size moves towards the chosen scale (SiamFC: 0.59)"),
        "window_influence": (0.176, "weight of the cosine window in the final map (SiamFC: 0.176; 0: no window)"),
        "upsample": (8, "response upsampling factor, bicubic (SiamFC: 16)"),
    }
    min_size = 4.0

    def _embed(self, image, regions, size: int) -> torch.Tensor:
        with self.timed("features"):
            crops = crop_and_resize(image, regions, size, device=self.device)
            return self.net.embed(*trunk_features(self.trunk, crops))

    def _regions(self, side_scales) -> np.ndarray:
        sides = self.search_side * np.asarray(side_scales, dtype=np.float64)
        return np.stack([self.center[0] - sides / 2, self.center[1] - sides / 2, sides, sides], axis=1)

    def response_maps(self, image) -> torch.Tensor:
        """The raw response logits (one map per scale, R x R cells) of the search regions around the last position."""
        x = self._embed(image_to_tensor(image, self.device), self._regions(self.params["scales"]), self.search_size)
        with self.timed("scoring"):
            return self.net.response(self.exemplar, x)

    def _init(self, image, box):
        p = self.params
        self.trunk = load_backbone("efficientnet_lite0", self.device)
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

    @torch.no_grad()
    def _update(self, image):
        p = self.params
        scales = list(p["scales"])
        raw = self.response_maps(image)
        with self.timed("scoring"):
            U = raw.shape[-1] * int(p["upsample"])
            up = F.interpolate(raw[:, None], size=(U, U), mode="bicubic", align_corners=False)[:, 0]
            penalty = torch.tensor([1.0 if s == 1.0 else p["scale_penalty"] for s in scales], device=up.device)
            best = int(torch.argmax(up.flatten(1).max(dim=1).values * penalty))
            r = up[best] - up[best].min()
            r = r / r.sum().clamp_min(1e-12)
            r = (1 - p["window_influence"]) * r + p["window_influence"] * self.window
            py, px = divmod(int(torch.argmax(r)), U)
        # peak offset from the map's centre -> search crop pixels -> image pixels
        scale = scales[best]
        crop_to_image = self.search_side * scale / self.search_size
        offset = (np.array([px, py]) - (U - 1) / 2) * STRIDE / int(p["upsample"]) * crop_to_image
        W, H = image_size(image)
        self.center = np.clip(self.center + offset, 0, [W, H])
        s = (1 - p["scale_lr"]) + p["scale_lr"] * scale
        lo, hi = np.maximum(self.init_size / 5, 4.0), self.init_size * 5
        s = float(np.clip(s, np.max(lo / self.size), np.min(hi / self.size)))
        self.size, self.search_side = self.size * s, self.search_side * s
        self.last_info.update(score=float(raw[best].max()), scale=scale, response=raw[best].cpu().numpy(),
                              final_map=r.cpu().numpy())
        return np.concatenate([self.center - self.size / 2, self.size])


__all__ = ["SiamFCTracker", "siamfc_net"]
