"""FCNT (Wang, Ouyang, Wang and Lu, ICCV 2015): fully convolutional network tracking on ImageNet features.

1. First frame: a region of interest (ROI) around the target goes through the frozen backbone; two layers
   (``low`` and ``high``: conv4_3 and conv5_3 on VGG16, strides 8 and 16; the stride-8 and stride-16 stages
   on EfficientNet-Lite0, the same strides) are brought to one grid, the low layer's. Per layer, a selection
   network regresses a Gaussian heat map at the target; the Taylor-expansion significance of every map
   (:func:`~deeptrack_lite.models.fcnt.map_significance`) keeps the top ``select_low`` / ``select_high``.
2. GNet (on the selected high maps) and SNet (on the selected low maps) learn the same heat map.
3. Every frame: one ROI around the last position, GNet's and SNet's heat maps. GNet locates the target
   unless a *distractor* shows: when the share of GNet's heat-map energy outside the target region exceeds
   ``distractor_threshold``, SNet's heat map decides. The deciding map's peak is the new position. With
   ``scale_step`` above 1 the size is read from the same map as FCNT ranks its candidate boxes: the heat a box
   of each candidate size holds against its area (:func:`~deeptrack_lite.models.fcnt.box_mass`; the area's
   exponent is calibrated on the first frame, :func:`~deeptrack_lite.models.fcnt.mass_exponent`), on frames
   the map is sure of (see the note on size below).
4. SNet is fine-tuned online (every ``update_interval`` frames and when a distractor is detected) on the
   first frame and recent confident frames; GNet is never updated, so it cannot drift.

Two departures from the paper, both measured on six real sequences (vot15_bag, Crossing, Suv, Car1,
UAV123 person11, TinyTLP Bike; first 300 frames each, one run each, 2-core CPU, 2 threads), none of which is
used to report the tracker:

- **The layers.** The default taps are Lite0's stride-8 and stride-16 stages, FCNT's strides. Lite0's own "low"
  and "high" (stride 16 and 32, which notebook 04's analysis uses) give a 14 x 14 heat map in which the target
  spans about five cells. Mean success AUC 0.443 on stride 16/32, 0.566 on stride 8/16, 0.551 on stride 8/32
  (each keeping the first size).
- **The size.** FCNT ranks its particles by the heat they hold against their area. Read that way from these
  heat maps (``scale_step=1.05``, ``scale_penalty=0.99``), the box grew where the target kept its size and did
  not follow Car1's shrinking car: mean AUC 0.544. The previous readout, the highest peak over three ROI sizes
  on stride 16/32, shrank every box: 0.392. So by default the box keeps the first frame's size
  (``scale_step=1``); ``scale_step=1.05`` turns the readout on.
"""
from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

from ..crops import crop_and_resize, image_to_tensor
from ..errors import DataError, TrackerError
from ..features.backbones import Backbone, Tap, backbone as load_backbone
from ..models.fcnt import (HeatmapNet, SelectionNet, box_mass, fit_heatmap, gaussian_heatmap, map_significance,
                           mass_exponent, select_maps)
from ..models.seeded import seeded
from .base import Tracker, register_tracker


#: FCNT's layers per backbone: conv4_3 and conv5_3 of VGG16 (strides 8 and 16), and the stages of
#: EfficientNet-Lite0 with the same strides. A stride-16 low layer (a 14 x 14 heat map for a 224-pixel ROI) puts
#: the target in about five cells, and positions read from it were worse on six real sequences (module docstring).
FCNT_TAPS = {"efficientnet_lite0": ("stride8", "stride16"), "vgg16": ("conv4_3", "conv5_3")}


def with_taps(net: Backbone, low: str, high: str) -> Backbone:
    """The same frozen network with other layers as its ``low`` and ``high`` taps (names from the network's
    ``TAPS``: ``stride8``, ``stride16``, ``stride32`` on EfficientNet-Lite0; ``conv4_3``, ``conv5_3`` on VGG16)."""
    known = type(net.net).TAPS
    unknown = [t for t in (low, high) if t not in known]
    if unknown:
        raise DataError(f"{net.name} has no layer {unknown[0]!r}; choose from {', '.join(known)}")
    return Backbone(net.name, net.net, {k: Tap(t, known[t][1], known[t][2]) for k, t in (("low", low), ("high", high))},
                    net.device)


def distractor_score(heatmap: torch.Tensor, peak_xy, target_wh) -> float:
    """Share of a heat map's positive energy that lies outside the target-sized region around its peak
    (0: all of it on the target; near 1: the map fires mostly elsewhere, on a distractor or the background).
    ``heatmap`` is H x W; ``peak_xy`` and ``target_wh`` are in its cells."""
    H, W = heatmap.shape[-2:]
    pos = heatmap.clamp_min(0)
    total = float(pos.sum())
    if total <= 0:
        return 1.0
    ys = torch.arange(H, device=heatmap.device).view(H, 1).float()
    xs = torch.arange(W, device=heatmap.device).view(1, W).float()
    inside = ((xs - peak_xy[0]).abs() <= target_wh[0] / 2) & ((ys - peak_xy[1]).abs() <= target_wh[1] / 2)
    return float(pos[~inside].sum()) / total


@register_tracker("fcnt", "FCNT: selected ImageNet feature maps, GNet (high layer) + SNet (low layer) heat maps, "
                  "SNet decides when a distractor shows")
class FCNTTracker(Tracker):
    """FCNT on a frozen ImageNet backbone: feature-map selection by Taylor significance, a category-level
    GNet and an instance-level SNet predicting heat maps over a region around the last position, the switch
    to SNet when GNet's map shows a distractor, SNet updated online and GNet kept fixed."""

    SCORE = "the peak of the deciding heat map (GNet's, or SNet's when a distractor shows)"
    PRESENCE_THRESHOLD = 0.35  # collect_above: the peak above which a frame is trusted as a training sample
    PARAMS = {
        "backbone": ("efficientnet_lite0", "feature extractor: efficientnet_lite0 (bundled) or vgg16 (download)", "one of efficientnet_lite0, vgg16"),
        "backbone_weights": (None, "state-dict file for the backbone (None: its default)", "None or path"),
        "taps": (None, "the backbone's (low, high) layers, e.g. ('stride16', 'stride32') (None: the layers of "
                       "strides 8 and 16, FCNT's conv4_3 and conv5_3)", "None or tuple of 2 str"),
        "roi_scale": (3.0, "side of the square region of interest, in target sizes (sqrt(w * h))", "float > 1"),
        "roi_size": (224, "the region is resized to roi_size x roi_size pixels for the backbone", "int >= 32"),
        "sigma": (0.2, "std of the target's Gaussian heat map, as a fraction of its width and height", "float > 0"),
        "select_low": (32, "maps kept from the low layer for SNet (None: all)", "None or int >= 1"),
        "select_high": (96, "maps kept from the high layer for GNet (None: all)", "None or int >= 1"),
        "init_regions": (8, "training regions on the first frame: the centred one plus shifted ones", "int >= 1"),
        "select_steps": (100, "training steps of each selection network", "int >= 0"),
        "select_lr": (1e-4, "Adam learning rate of the selection networks", "float > 0"),
        "init_steps": (120, "training steps of GNet and SNet on the first frame", "int >= 0"),
        "lr": (3e-4, "Adam learning rate of GNet and SNet (a few times larger diverges on the 320 high maps)", "float > 0"),
        "scale_step": (1.0, "relative size of the candidate boxes read from the heat map, e.g. 1.05 (1: keep the "
                            "first frame's size, the default: see the module's note on size)", "float >= 1"),
        "scale_sigma": (0.05, "the first frame's Gaussians are lowered by exp(-log(scale error)^2 / 2 sigma^2)", "float > 0"),
        "scale_penalty": (0.97, "factor on the rank of a candidate size other than the current one", "float in (0, 1]"),
        "scale_lr": (0.15, "how far the size moves towards the best candidate each frame", "float in [0, 1]"),
        "distractor_threshold": (0.35, "GNet's energy share outside the target region above which SNet decides", "float"),
        "collect_above": (0.35, "keep a frame's SNet training sample, and read the size, only when the heat map's "
                                "peak exceeds this", "float"),
        "memory": (6, "recent frames whose samples SNet's update uses (the first frame's are always kept)", "int >= 0"),
        "update_interval": (10, "fine-tune SNet every this many frames (0: only when a distractor shows)", "int >= 0"),
        "update_steps": (8, "SNet fine-tuning steps per update", "int >= 0"),
    }

    # ------------------------------------------------------------------ geometry and features
    def roi_side(self, size) -> float:
        """Side (pixels) of the square ROI for a target of ``size`` (w, h), before the scale search."""
        w, h = size
        return max(self.params["roi_scale"] * float(np.sqrt(w * h)), 1.2 * max(w, h))

    def grid(self) -> int:
        """Cells per side of the heat maps (the low tap's resolution on the ROI)."""
        return self.params["roi_size"] // self.backbone.stride("low")

    def box_in_cells(self, box, center, side) -> np.ndarray:
        """An image box (x, y, w, h) in the heat-map grid of the ROI of ``side`` pixels around ``center``, in
        cell units with cell centres at integers (as ``imshow`` draws a G x G map), for overlays."""
        x, y, w, h = np.asarray(box, dtype=np.float64)
        cell = side / self.grid()
        return np.array([(x - (center[0] - side / 2)) / cell - 0.5, (y - (center[1] - side / 2)) / cell - 0.5,
                         w / cell, h / cell])

    def roi_features(self, image, centers, sides) -> dict:
        """{"low", "high"}: N x C x G x G feature maps of the square ROIs (``centers`` N x 2, ``sides`` N);
        the high tap is resized to the low tap's grid, as FCNT resizes conv5_3 to conv4_3; both are
        divided by their first-frame RMS so that one learning rate suits every backbone."""
        centers = np.asarray(centers, dtype=np.float64).reshape(-1, 2)
        sides = np.asarray(sides, dtype=np.float64).reshape(-1)
        boxes = np.column_stack([centers - sides[:, None] / 2, sides, sides])
        with self.timed("features"):
            crops = crop_and_resize(image, boxes, self.params["roi_size"], device=self.device)
            maps = self.backbone.features(crops)
            g = self.grid()
            maps["high"] = F.interpolate(maps["high"], size=(g, g), mode="bilinear", align_corners=False)
        if self.scale_of is None:  # the first call, on the first frame: calibrate
            self.scale_of = {k: float(v.pow(2).mean().sqrt().clamp_min(1e-6)) for k, v in maps.items()}
        return {k: v / self.scale_of[k] for k, v in maps.items()}

    def to_cells(self, xy, center, side) -> np.ndarray:
        """Image coordinates -> heat-map cell coordinates of the ROI (``center``, ``side``)."""
        cell = side / self.grid()
        return (np.asarray(xy, dtype=np.float64) - (np.asarray(center) - side / 2)) / cell - 0.5

    def to_image(self, cells, center, side) -> np.ndarray:
        """Heat-map cell coordinates of the ROI (``center``, ``side``) -> image coordinates."""
        cell = side / self.grid()
        return (np.asarray(cells, dtype=np.float64) + 0.5) * cell + (np.asarray(center) - side / 2)

    def target_maps(self, target_centers, target_size, roi_centers, sides) -> torch.Tensor:
        """The Gaussian heat maps FCNT regresses: one per ROI, at the target's position in it."""
        cells = np.stack([self.to_cells(t, c, s) for t, c, s in zip(target_centers, roi_centers, sides)])
        sig = np.stack([self.params["sigma"] * np.asarray(target_size) / (s / self.grid()) for s in sides])
        return gaussian_heatmap((self.grid(), self.grid()), cells, sig, device=self.device)

    # ------------------------------------------------------------------ the heat maps
    @torch.no_grad()
    def heatmaps(self, image, center, size, scales=(1.0,)) -> dict:
        """GNet's and SNet's heat maps (S x G x G each) over ROIs around ``center`` for a target of ``size``,
        one per relative scale, with the ROIs' sides."""
        side = self.roi_side(size)
        sides = np.array([side * s for s in scales])
        feats = self.roi_features(image, np.repeat(np.asarray(center, float)[None], len(scales), 0), sides)
        with self.timed("scoring"):
            return {"gnet": self.gnet(feats["high"][:, self.sel_high])[:, 0],
                    "snet": self.snet(feats["low"][:, self.sel_low])[:, 0],
                    "low": feats["low"][:, self.sel_low], "sides": sides}

    @staticmethod
    def peak(heatmap: torch.Tensor, upsample: int = 4) -> tuple[np.ndarray, float]:
        """Sub-cell peak of a G x G heat map (bilinear upsampling by ``upsample``): (x, y) in cells, value."""
        G = heatmap.shape[-1]
        fine = F.interpolate(heatmap.reshape(1, 1, G, G), scale_factor=upsample, mode="bilinear", align_corners=False)[0, 0]
        i = int(torch.argmax(fine))
        fy, fx = divmod(i, fine.shape[-1])
        return np.array([(fx + 0.5) / upsample - 0.5, (fy + 0.5) / upsample - 0.5]), float(fine.view(-1)[i])

    # ------------------------------------------------------------------ first frame
    def _init(self, image, box):
        p = self.params
        net = load_backbone(p["backbone"], self.device, p["backbone_weights"])
        self.backbone = with_taps(net, *(p["taps"] or FCNT_TAPS.get(net.name, (net.tap("low").name, net.tap("high").name))))
        rng = self.rng  # the first frame's random regions
        init = self.new_generator()  # the networks' initial weights and the selection networks' dropout
        if self.grid() < 4:
            raise TrackerError(f"fcnt: roi_size {p['roi_size']} gives a heat map under 4 x 4 cells")
        self.scale_of = None  # a new target: new first-frame feature scales
        image = image_to_tensor(image, self.device)
        self.center = box[:2] + box[2:] / 2
        self.size = box[2:].astype(np.float64)
        self.init_size = self.size.copy()
        side = self.roi_side(self.size)
        # The centred ROI plus shifted ones, so that one frame teaches more than one position.
        n = max(int(p["init_regions"]), 1)
        shifts = np.vstack([[0.0, 0.0], rng.uniform(-0.25, 0.25, (n - 1, 2)) * side])
        # Shifted and rescaled regions. A rescaled region's Gaussian is lower, by how far its scale is off, so
        # that the networks learn to peak highest at the right size: the cue the scale search reads (a network
        # taught a full peak at every size prefers the smaller region, where the target fills more cells).
        log_s = np.concatenate([[0.0], rng.uniform(-1, 1, n - 1) * np.log(1.12)])
        sides = side * np.exp(log_s)
        amplitude = np.exp(-0.5 * (log_s / p["scale_sigma"]) ** 2)
        roi_centers = self.center + shifts
        feats = self.roi_features(image, roi_centers, sides)
        targets = self.target_maps([self.center] * n, self.size, roi_centers, sides)
        targets = targets * torch.as_tensor(amplitude, dtype=torch.float32, device=self.device).view(-1, 1, 1, 1)

        with self.timed("training", absorb=True):
            self._select_maps(feats, targets, init)
            self.gnet = seeded(HeatmapNet(len(self.sel_high)).to(self.device), init)
            self.snet = seeded(HeatmapNet(len(self.sel_low)).to(self.device), init)
            self.init_loss = {
                "gnet": fit_heatmap(self.gnet, feats["high"][:, self.sel_high], targets, p["init_steps"], lr=p["lr"])[-1],
                "snet": fit_heatmap(self.snet, feats["low"][:, self.sel_low], targets, p["init_steps"], lr=p["lr"])[-1]}
        self.mass_exponent = self._mass_exponents(image)
        # torch's loop Adam and the backbone's default memory layout, not the faster fused kernel and channels-last
        # MDNet uses: FCNT's boxes move with rounding, and on six real sequences (one run) the faster pair gave a
        # success AUC of 0.322 against 0.380. At 11 FPS on 2 cores it needs neither.
        self.snet_opt = torch.optim.Adam(self.snet.parameters(), lr=p["lr"], weight_decay=5e-4)
        self.first_sample = (feats["low"][:, self.sel_low], targets)
        self.recent: list = []
        self.updates: list[int] = []     # frames (1 = the first update() call) where SNet was fine-tuned
        self.distractors: list[int] = []  # frames where SNet decided
        self._frame = 0

    def _select_maps(self, feats, targets, generator) -> None:
        """Feature-map selection: per layer, a selection network fitted to the target heat map, the Taylor
        significance of each map, the top ``select_low`` / ``select_high`` kept."""
        p = self.params
        self.significance, selected, self.selection_weight = {}, {}, {}
        for layer, k in (("low", p["select_low"]), ("high", p["select_high"])):
            sel_net = seeded(SelectionNet(feats[layer].shape[1]).to(self.device), generator)
            fit_heatmap(sel_net, feats[layer], targets, p["select_steps"], lr=p["select_lr"])
            self.significance[layer] = map_significance(sel_net, feats[layer], targets)
            # each map's summed kernel weight: negative for a map the network subtracts (bright off the target)
            self.selection_weight[layer] = sel_net.conv.weight.detach()[0].sum(dim=(1, 2))
            selected[layer] = select_maps(self.significance[layer], k)
        self.sel_low, self.sel_high = selected["low"], selected["high"]

    def scales(self) -> tuple:
        step = float(self.params["scale_step"])
        return (1.0 / step, 1.0, step) if step > 1 else (1.0,)

    @torch.no_grad()
    def _mass_exponents(self, image) -> dict:
        """Per network, :func:`~deeptrack_lite.models.fcnt.mass_exponent` on the first frame's centred ROI,
        where the box is the given one: {"gnet": e, "snet": e}."""
        maps = self.heatmaps(image, self.center, self.size)
        cells = self.to_cells(self.center, self.center, maps["sides"][0])
        return {net: mass_exponent(maps[net][0], cells, self.size / (maps["sides"][0] / self.grid()))
                for net in ("gnet", "snet")}

    # ------------------------------------------------------------------ every frame
    def _update(self, image):
        p = self.params
        self._frame += 1
        image = image_to_tensor(image, self.device)
        maps = self.heatmaps(image, self.center, self.size)
        side = maps["sides"][0]
        size_cells = self.size / (side / self.grid())  # the target's size in cells of the ROI

        with self.timed("scoring"):
            # Distractor detection on GNet's map
            g_peak, _ = self.peak(maps["gnet"][0])
            score = distractor_score(maps["gnet"][0], g_peak, size_cells)
            use = "snet" if score > p["distractor_threshold"] else "gnet"
            cells, confidence = self.peak(maps[use][0])
            # The size, as FCNT ranks its candidate boxes: the heat each holds against its area, sizes other than
            # the current one damped by the penalty; a frame the map is unsure of keeps the size, as FCNT keeps
            # the last scale below its update threshold
            scales = self.scales()
            mass = box_mass(maps[use][0], cells, size_cells, scales)
            rank = [m / f ** (2 * self.mass_exponent[use]) * (1.0 if f == 1.0 else p["scale_penalty"])
                    for m, f in zip(mass, scales)]
            scale = scales[int(np.argmax(rank))] if confidence > p["collect_above"] else 1.0
        roi_center = self.center.copy()
        W, H = image.shape[-1], image.shape[-2]
        self.center = np.clip(self.to_image(cells, roi_center, side), 0, [W, H])
        size = self.size * ((1 - p["scale_lr"]) + p["scale_lr"] * scale)
        self.size = np.clip(size, np.maximum(self.init_size / 5, 4.0), self.init_size * 5)

        # SNet's online update: samples from confident frames, fine-tuned at intervals and on distractors
        collected = confidence > p["collect_above"]
        if collected:
            target = self.target_maps([self.center], self.size, [roi_center], [side])
            self.recent = (self.recent + [(maps["low"], target)])[-int(p["memory"]):]
        due = p["update_interval"] and self._frame % int(p["update_interval"]) == 0
        updated = bool(self.recent) and (due or (use == "snet" and collected))
        if updated:
            x = torch.cat([self.first_sample[0]] + [f for f, _ in self.recent])
            y = torch.cat([self.first_sample[1]] + [t for _, t in self.recent])
            with self.timed("training", absorb=True):
                fit_heatmap(self.snet, x, y, p["update_steps"], optimizer=self.snet_opt)
            self.updates.append(self._frame)
        if use == "snet":
            self.distractors.append(self._frame)

        roi = np.array([roi_center[0] - side / 2, roi_center[1] - side / 2, side, side])
        self.last_info.update(gnet_map=maps["gnet"][0].cpu().numpy(), snet_map=maps["snet"][0].cpu().numpy(),
                              roi=roi, used=use, distractor_score=score, confidence=confidence, score=confidence,
                              scale=scale, updated=updated, collected=bool(collected))
        return np.concatenate([self.center - self.size / 2, self.size])


__all__ = ["FCNT_TAPS", "FCNTTracker", "distractor_score", "with_taps"]
