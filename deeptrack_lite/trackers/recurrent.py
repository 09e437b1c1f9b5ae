"""A recurrent tracker (Re3-style): the survey's "RNN" and "temporal correlation of video" directions.

Off-line, an LSTM learns to follow a target through unrolled video clips (:mod:`deeptrack_lite.training.recurrent`;
the package ships its weights). Online nothing is learned and nothing is searched:

1. Every frame, the previous and the current frame are cropped to the same region, ``context`` times the last
   box around its centre; the network reads the new box in the current crop, and its LSTM state, the only thing
   that changes while tracking, carries the target's appearance and motion from frame to frame.
2. As Re3 does, the state is reset every ``reset_every`` frames to the state the first frame left (after one
   step on two copies of the first frame), so that errors piled up in the state cannot carry on for ever;
   ``reset_every=1`` takes the memory away altogether (the ablation: a feed-forward regressor).

It has no confidence to say whether the target is there, so it never says "absent".
"""
from __future__ import annotations

import numpy as np
import torch

from ..crops import crop_and_resize, image_size, image_to_tensor
from ..features.backbones import backbone as load_backbone
from ..models.recurrent import box_from_region, crop_region, load_recurrent, trunk_maps
from .base import Tracker, register_tracker
from .pretrained import pretrained_loader


#: ``recurrent_net(weights=None, device="cpu") -> (network, crop settings)``: the shipped weights, or those of ``weights``.
recurrent_net = pretrained_loader(load_recurrent)


@register_tracker("recurrent", "Re3-style recurrent tracker: two crops -> CNN features -> LSTM -> box; trained "
                  "off-line on unrolled video, no online learning")
class RecurrentTracker(Tracker):
    """An LSTM over the frames: the state carries the target from one frame to the next."""

    deterministic = True
    PARAMS = {
        "weights": (None, "recurrent weight file (None: the package's shipped weights, from train-recurrent)", "None or path"),
        "reset_every": (32, "reset the LSTM state to the first frame's every this many frames (Re3: 32; 1: no memory)", "int >= 1"),
    }
    min_size = 4.0

    def _maps(self, image, region) -> torch.Tensor:
        with self.timed("features"):
            return trunk_maps(self.trunk, crop_and_resize(image, region[None], self.crop_size, device=self.device))

    @torch.no_grad()
    def _init(self, image, box):
        p = self.params
        self.trunk = load_backbone("efficientnet_lite0", self.device)
        self.net, crops = recurrent_net(p["weights"], self.device)
        self.context, self.crop_size = crops["context"], int(crops["crop_size"])
        image = image_to_tensor(image, self.device)
        self.box = np.asarray(box, dtype=np.float64)
        self.init_size = self.box[2:].copy()
        maps = self._maps(image, crop_region(self.box, self.context))
        with self.timed("scoring"):
            _, self.first_state = self.net.step(maps, maps, self.net.initial_state(1, self.device))
        self.state = self.first_state
        self.previous = image
        self._frame = 0

    def _step(self, previous, image, region, state):
        """One network step on ``region`` of two frames (tensors) from ``state``: (the box in the image, the box as
        fractions of the crop, the new state)."""
        prev, cur = self._maps(previous, region), self._maps(image, region)
        with self.timed("scoring"):
            out, state = self.net.step(prev, cur, state)
        box01 = out[0].cpu().numpy()
        return box_from_region(box01, region), box01, state

    @torch.no_grad()
    def answer(self, previous_image, image, region, state) -> np.ndarray:
        """The box the network reads in ``region`` of ``image`` (after ``previous_image``) from a given LSTM
        ``state`` ((h, c), arrays or tensors), without changing the tracker: what another memory would have said."""
        state = tuple(torch.as_tensor(v, dtype=torch.float32, device=self.device).reshape(1, -1) for v in state)
        box, _, _ = self._step(image_to_tensor(previous_image, self.device), image_to_tensor(image, self.device),
                               np.asarray(region, dtype=np.float64), state)
        return box

    @torch.no_grad()
    def _update(self, image):
        image = image_to_tensor(image, self.device)
        self._frame += 1
        region = crop_region(self.box, self.context)
        reset = self._frame % max(int(self.params["reset_every"]), 1) == 0
        if reset:
            self.state = self.first_state
        box, box01, self.state = self._step(self.previous, image, region, self.state)
        # a regressor can answer a degenerate box: keep the size within reason, the centre inside the image
        W, H = image_size(image)
        size = np.clip(box[2:], np.maximum(self.init_size / 5, 4.0), self.init_size * 5)
        center = np.clip(box[:2] + box[2:] / 2, 0, [W, H])
        self.box = np.concatenate([center - size / 2, size])
        self.previous = image
        self.last_info.update(region=region, crop_box01=box01,
                              state=tuple(v[0].cpu().numpy() for v in self.state),  # (h, c) after this frame
                              state_norm=float(self.state[0].norm()),
                              reset=reset)
        return self.box


__all__ = ["RecurrentTracker", "recurrent_net"]
