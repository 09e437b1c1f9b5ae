"""SO-DLT (Wang et al. 2015): DLT's "pretrain off-line, fine-tune online" with a CNN that outputs a map.

1. Off-line: the objectness head learns which pixels of a crop belong to the object at its centre
   (:mod:`deeptrack_lite.training.sodlt`; the package ships the weights).
2. First frame: two copies of the head, both fine-tuned on jittered crops around the given box, each labelled
   with the box (:func:`~deeptrack_lite.models.sodlt.box_coverage`).
3. Every frame: the search region around the last box (``context`` target sizes wide) goes through the trunk
   and both heads; a box is read from each map (:func:`~deeptrack_lite.models.sodlt.box_from_map`) and the
   more confident network gives the answer. When neither is confident (``found_above``), the next, larger
   search scale is tried, as SO-DLT widens its search when the object is lost.
4. Two update speeds against drift *and* forgetting: the **short-term** network is fine-tuned aggressively
   (every ``short_every`` frames, and at once when confidence drops below ``update_below``) on the last
   ``short_frames`` frames; the **long-term** network conservatively (every ``long_every`` frames) on frames
   whose confidence was above ``long_above`` only. The first frame is in both memories for good.
"""
from __future__ import annotations

from collections import deque
from functools import lru_cache

import numpy as np
import torch

from ..crops import crop_and_resize, image_size, image_to_tensor
from ..errors import TrackerError
from ..features.backbones import backbone as load_backbone
from ..models.seeded import reset_parameters
from ..models.sodlt import (ObjectnessHead, box_coverage, box_from_map, fit_objectness, load_sodlt, search_region,
                            to_region, trunk_features)
from ..runtime import adam
from .base import Tracker, register_tracker

NETWORKS = ("long", "short")


@lru_cache(maxsize=4)
def _pretrained(path):
    head, settings = load_sodlt(path, device="cpu")
    return head.config(), {k: v.clone() for k, v in head.state_dict().items()}, settings


def sodlt_head(weights=None, pretrained: bool = True, device="cpu", generator=None) -> tuple[ObjectnessHead, dict]:
    """A fresh objectness head (the shipped pretrained weights, those of ``weights``, or with ``pretrained=False``
    the same layers initialised from ``generator``) and the crop settings it was trained with."""
    config, state, settings = _pretrained(None if weights is None else str(weights))
    head = ObjectnessHead(**config).to(device)
    reset_parameters(head, generator)
    if pretrained:
        head.load_state_dict(state)
    return head.eval(), settings


class _Samples:
    """Training samples of one network: trunk features and label maps of frames, the first frame pinned."""

    def __init__(self, frames: int | None):
        self.first = None
        self.recent: deque = deque(maxlen=frames)
        self._joined = None

    def add(self, low, high, label) -> None:
        self._joined = None
        if self.first is None:
            self.first = (low, high, label)
        else:
            self.recent.append((low, high, label))

    def joined(self):
        if self._joined is None:
            parts = [self.first, *self.recent]
            self._joined = tuple(torch.cat([p[k] for p in parts]) for k in range(3))
        return self._joined


@register_tracker("sodlt", "SO-DLT: CNN objectness map pretrained off-line, fine-tuned online; long- and short-term "
                  "networks, box read from the map")
class SODLTTracker(Tracker):
    """Structured-output deep learning tracker: a pretrained CNN maps the search region to per-pixel objectness;
    a long-term and a short-term copy are fine-tuned online at two speeds and the more confident one answers."""

    SCORE = "the answering network's confidence: the mean objectness inside its box"
    PARAMS = {
        "weights": (None, "objectness weight file (None: the package's shipped weights, from pretrain-sodlt)", "None or path"),
        "pretrained": (True, "False: the head starts from random weights (the trunk stays ImageNet's)", "bool"),
        "search_scales": ((1.0, 1.7), "search region scales, tried in turn while the object is not found", "tuple of float > 0"),
        "found_above": (0.6, "a map's best box with at least this confidence ends the search", "float"),
        "scale_steps": ((1 / 1.05, 1.0, 1.05), "box sizes tried per frame, relative to the last", "tuple of float > 0"),
        "box_level": ("adaptive", "the box takes in the map's cells above this probability: 'adaptive' (midway "
                      "between the map's object and background levels) or a number (0.5: SO-DLT's 'more likely "
                      "object than not')", "one of adaptive or float in (0, 1)"),
        "scale_rate": (0.5, "the box's size moves this fraction (in log scale) towards the size read from the map", "float in [0, 1]"),
        "init_crops": (24, "jittered crops of the first frame to fine-tune on", "int >= 1"),
        "jitter": (0.2, "their centre shift, in target sizes (the size jitter is 2^U(-jitter, jitter))", "float >= 0"),
        "init_steps": (40, "fine-tuning steps on the first frame", "int >= 0"),
        "update_steps": (4, "fine-tuning steps per update", "int >= 0"),
        "batch": (8, "crops per fine-tuning step", "int >= 1"),
        "lr": (5e-4, "learning rate of the heads online (Adam)", "float > 0"),
        "collect_above": (0.55, "keep a frame's crop as a training sample only above this confidence", "float"),
        "short_every": (5, "short-term network: fine-tuned every this many frames...", "int >= 1"),
        "update_below": (0.6, "...and at once when the answer's confidence is below this", "float"),
        "short_frames": (10, "short-term network: trains on the samples of the last this many frames", "int >= 1"),
        "long_every": (20, "long-term network: fine-tuned every this many frames", "int >= 1"),
        "long_above": (0.75, "long-term network: keeps only samples of frames this confident", "float"),
        "long_frames": (50, "long-term network: at most this many samples besides the first frame's", "int >= 0"),
    }
    min_size = 4.0

    # ------------------------------------------------------------------ network side
    def _crops(self, image, regions) -> torch.Tensor:
        with self.timed("features"):
            return crop_and_resize(image, regions, self.input_size, padding="zeros", device=self.device)

    def _features(self, crops):
        with self.timed("features"):
            return trunk_features(self.trunk, crops)

    @torch.no_grad()
    def objectness(self, image, region, network: str = "long") -> np.ndarray:
        """The ``network``'s objectness map (map_size x map_size, values in [0, 1]) of a square ``region``
        (x, y, side, side) of ``image``: what the notebook draws."""
        low, high = self._features(self._crops(image_to_tensor(image, self.device), region.reshape(1, 4)))
        return torch.sigmoid(self.heads[network](low, high))[0].cpu().numpy()

    def _outside_image(self, region, image) -> torch.Tensor:
        """map_size x map_size: True for the cells of a square ``region`` that lie beyond the image."""
        W, H = image_size(image)
        centres = (torch.arange(self.map_size, dtype=torch.float64) + 0.5) * region[2] / self.map_size
        xs, ys = region[0] + centres, region[1] + centres
        return ((ys < 0) | (ys > H))[:, None] | ((xs < 0) | (xs > W))[None, :]

    def _label(self, box, regions) -> torch.Tensor:
        return box_coverage(to_region(np.tile(box, (len(regions), 1)), regions).float(), self.map_size).to(self.device)

    def _fine_tune(self, network: str, steps: int) -> float:
        low, high, label = self.samples[network].joined()
        with self.timed("training"):
            losses = fit_objectness(self.heads[network], self.opts[network], low, high, label, steps, self.params["batch"],
                                    generator=self.generator)
        return losses[-1]

    # ------------------------------------------------------------------ protocol
    def _init(self, image, box):
        p = self.params
        self.trunk = load_backbone("efficientnet_lite0", self.device)
        generator = self.new_generator()
        self.heads, self.opts = {}, {}
        for name in NETWORKS:
            self.heads[name], settings = sodlt_head(p["weights"], p["pretrained"], self.device, generator)
            self.opts[name] = adam(self.heads[name].parameters(), lr=p["lr"])
        self.context, self.input_size = settings["context"], settings["input_size"]
        self.map_size = self.heads["long"].map_size
        image = image_to_tensor(image, self.device)
        W, H = image_size(image)
        x, y, w, h = [float(v) for v in box]
        if min(min(x + w, W) - max(x, 0), min(y + h, H) - max(y, 0)) < self.min_size:
            raise TrackerError(f"{self.name}: the initial box {list(box)} has less than {self.min_size:g} x "
                               f"{self.min_size:g} pixels inside the image")
        with self.timed("sampling"):
            n, j = int(p["init_crops"]), float(p["jitter"])
            size = (w * h) ** 0.5
            shifts = self.rng.uniform(-j, j, (n, 2)) * size
            shifts[0] = 0  # the exact region is among them
            scales = 2 ** self.rng.uniform(-j, j, n)
            scales[0] = 1
            base = search_region(box, self.context).numpy()
            regions = np.array([[base[0] + dx + base[2] * (1 - s) / 2, base[1] + dy + base[3] * (1 - s) / 2,
                                 base[2] * s, base[3] * s] for (dx, dy), s in zip(shifts, scales)])
        low, high = self._features(self._crops(image, regions))
        label = self._label(box, regions)
        self.samples = {"long": _Samples(p["long_frames"]), "short": _Samples(p["short_frames"])}
        for name in NETWORKS:
            self.samples[name].add(low, high, label)
            self.init_loss = self._fine_tune(name, p["init_steps"])
        self.box = np.array([x, y, w, h])
        self._frame = 0
        self.updates = {name: [] for name in NETWORKS}  # frames (1 = first update() call) each network was fine-tuned

    def _update(self, image):
        p = self.params
        self._frame += 1
        image = image_to_tensor(image, self.device)
        best = None
        for scale in p["search_scales"]:
            region = search_region(self.box, self.context, scale).numpy()
            low, high = self._features(self._crops(image, region[None]))
            with self.timed("scoring"), torch.no_grad():
                cell = region[2] / self.map_size  # image pixels per map cell
                size = (self.box[2] / cell, self.box[3] / cell)
                outside = self._outside_image(region, image)
                found = {}
                for name in NETWORKS:
                    prob = torch.sigmoid(self.heads[name](low, high))[0].cpu()
                    # no evidence beyond the image's edge (the crop is black there): neither for nor against a box
                    found[name] = (*box_from_map(prob.masked_fill(outside, 0.5), size, p["scale_steps"], p["box_level"]),
                                   prob)
                winner = max(NETWORKS, key=lambda name: found[name][2])
            if best is None or found[winner][2] > best[2][winner][2]:
                best = (region, (low, high), found, winner, scale)
            if found[winner][2] >= p["found_above"]:
                break
        region, (low, high), found, winner, scale = best
        box_cells, _, confidence, prob = found[winner]
        cell = region[2] / self.map_size
        # the centre follows the map; the size moves only part of the way (``scale_rate``), so that one map's
        # blurred edge cannot shrink the box for good
        w, h = self.box[2:] * (float(box_cells[2]) * cell / self.box[2]) ** p["scale_rate"]
        cx, cy = region[0] + float(box_cells[0] + box_cells[2] / 2) * cell, region[1] + float(box_cells[1] + box_cells[3] / 2) * cell
        box = np.array([cx - w / 2, cy - h / 2, w, h])
        self.box = box

        # the region the answer came from, labelled with the answer: a training sample at no extra trunk cost
        updated = []
        if confidence > p["collect_above"]:
            label = self._label(box, region[None])
            self.samples["short"].add(low, high, label)
            if confidence > p["long_above"]:
                self.samples["long"].add(low, high, label)
        if self._frame % p["short_every"] == 0 or confidence < p["update_below"]:
            self.last_info["loss"] = self._fine_tune("short", p["update_steps"])
            updated.append("short")
        if self._frame % p["long_every"] == 0:
            self._fine_tune("long", p["update_steps"])
            updated.append("long")
        for name in updated:
            self.updates[name].append(self._frame)
        self.last_info.update(score=confidence, confidence=confidence, network=winner, search_scale=scale, region=region,
                              confidences={name: found[name][2] for name in NETWORKS},
                              objectness=prob.numpy(), updated=updated)
        return box


__all__ = ["NETWORKS", "SODLTTracker", "sodlt_head"]
