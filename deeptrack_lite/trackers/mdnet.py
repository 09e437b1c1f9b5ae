"""MDNet (Nam and Han, CVPR 2016) online: shared layers trained off-line on many videos, a new branch per video.

1. ``init``: the shared layers come from the multi-domain training (:mod:`deeptrack_lite.training.mdnet`;
   the package ships weights); fc6 is a fresh binary branch. fc4-fc6 are fine-tuned on positives
   (IoU >= 0.7) and negatives (IoU <= 0.5) of the first frame, with *hard negative mining*: each step
   scores ``hnm_pool`` negatives and trains on the ``batch_neg`` most object-like. A ridge *bounding-box
   regressor* is fitted on conv features of boxes around the target (IoU >= 0.6).
2. Every frame: ``n_candidates`` boxes drawn around the last state (Gaussian in translation and scale) are
   scored in one batch; the target score is the mean of the ``top_k`` best, the state the mean of their
   boxes. The frame is a *success* when that score is positive; then the regressor refines the reported box,
   and positives and negatives of the frame join the memory.
3. Updates: *short-term* after a failure (positives of the last ``short_term`` frames), *long-term* every
   ``update_interval`` frames (positives of the last ``long_term`` frames); negatives always from the last
   ``short_term`` frames. After a failure the search widens (``trans`` grows by ``trans_growth`` up to
   ``trans_limit``), back to normal on the next success.
"""
from __future__ import annotations

import numpy as np
import torch

from ..boxes import clip_box
from ..crops import image_size
from ..errors import BoxError, TrackerError
from ..features.sampling import gaussian_samples, negative_samples, positive_samples, samples_in_iou_range
from ..models.box_regression import RidgeBoxRegressor
from ..models.mdnet import load_mdnet, region_features
from ..models.seeded import dropout_off, use_generator
from ..runtime import adam
from ..online import SampleMemory, train_binary_classifier
from .base import Tracker, register_tracker
from .observation_map import ObservationMapMixin


@register_tracker("mdnet", "MDNet: shared layers trained multi-domain off-line, a new fc6 branch fine-tuned online "
                  "with hard negative mining, box regression, short- and long-term updates")
class MDNetTracker(ObservationMapMixin, Tracker):
    """Multi-domain network tracker: candidates around the last state scored by fc4-fc6 on shared conv
    features, hard negative mining, bounding-box regression on confident frames, short-term updates after
    failures and long-term updates at a fixed interval."""

    PARAMS = {
        "weights": (None, "MDNet weight file from train-mdnet (None: the package's shipped weights)", "None or path"),
        "search": (5.0, "side of the region whose conv features are computed once per frame, in target sizes", "float >= 1"),
        "n_candidates": (256, "candidate boxes per frame", "int >= 1"),
        "trans": (0.3, "std of a candidate's shift, in box sizes (py-MDNet's 0.6 range)", "float >= 0"),
        "scale": (1.05, "candidates' scale factor: sizes times scale ** N(0, 0.5)", "float >= 1"),
        "trans_growth": (1.1, "after a failure the search widens by this factor...", "float >= 1"),
        "trans_limit": (0.75, "...up to this std", "float >= 0"),
        "top_k": (5, "the target score is the mean of the top_k candidates' scores", "int >= 1"),
        "n_pos_init": (500, "positives (IoU >= 0.7) on the first frame", "int >= 1"),
        "n_neg_init": (4000, "negatives (IoU <= 0.5) on the first frame", "int >= 1"),
        "init_steps": (50, "fine-tuning steps on the first frame", "int >= 0"),
        "hard_negative_mining": (True, "train on the hardest negatives of a larger pool (False: random ones)", "bool"),
        "hnm_pool": (512, "negatives scored per step to pick the hardest (py-MDNet: 1024; 512 kept the success AUC "
                          "on six real sequences and cut a training step by a third)", "int >= 1"),
        "batch_pos": (32, "positives per step", "int >= 1"),
        "batch_neg": (96, "negatives per step", "int >= 1"),
        "lr": (3e-4, "Adam learning rate of fc4 and fc5", "float > 0"),
        "lr_fc6": (3e-3, "Adam learning rate of the new branch fc6", "float > 0"),
        "bbox_regression": (True, "refine the reported box by ridge regression on confident frames", "bool"),
        "n_bbreg": (1000, "boxes (IoU >= 0.6) the regressor is fitted on", "int >= 1"),
        "bbreg_alpha": (1000.0, "ridge penalty of the regressor", "float >= 0"),
        "frame_pos": (50, "positives (IoU >= 0.7) collected on a confident frame", "int >= 0"),
        "frame_neg": (200, "negatives (IoU <= 0.3) collected on a confident frame", "int >= 0"),
        "long_term": (100, "frames of positives a long-term update uses", "int >= 1"),
        "short_term": (20, "frames of positives a short-term update uses, and of negatives every update uses", "int >= 1"),
        "update_interval": (10, "frames between long-term updates (0: never)", "int >= 0"),
        "update_steps": (10, "fine-tuning steps per update (py-MDNet: 15; 10 kept the success AUC on six real "
                             "sequences, and updates were half of MDNet's time per frame)", "int >= 0"),
        "success_threshold": (0.0, "a frame is a success when the target score (a logit) exceeds this", "float"),
    }
    MAP_KIND = "fc6 score (logit of 'target')"
    SCORE = "the target score: the mean fc6 logit of the top_k candidates (a success when > success_threshold)"
    PRESENCE_THRESHOLD = 0.0

    # ------------------------------------------------------------------ features and scores
    def _region(self, image, around):
        with self.timed("features"), torch.no_grad():
            return region_features(self.net, image, around, self.params["search"])

    def features(self, region, boxes) -> torch.Tensor:
        """Flattened conv features of ``boxes``' 107 x 107 windows (N x feature_dim)."""
        with self.timed("features"), torch.no_grad():
            return region.window_features(boxes).flatten(1)

    def score_features(self, feats: torch.Tensor) -> torch.Tensor:
        """fc4-fc6 logits with dropout off (then restored: mining runs inside training). Only the dropout
        layers are switched, not the whole network: walking every module twice per mining step cost more
        than the step's optimizer update."""
        with self.timed("scoring"), torch.no_grad(), dropout_off(self.net.head_dropouts):
            return self.net.head(feats)

    def scores(self, image, boxes) -> np.ndarray:
        """The target score (logit) of any boxes of ``image`` (region around the current state)."""
        return self.score_features(self.features(self._region(image, self.state), boxes)).cpu().numpy()

    def _observe(self, image, boxes):
        return self.scores(image, boxes)

    # ------------------------------------------------------------------ samples
    def _fine_tune(self, pos, neg, steps):
        p = self.params
        self.net.train()
        with self.timed("training", absorb=True):
            losses = train_binary_classifier(
                self.net.head, self.opt, pos, neg, steps, batch_pos=p["batch_pos"], batch_neg=p["batch_neg"],
                generator=self.generator, hard_negative_pool=p["hnm_pool"] if p["hard_negative_mining"] else None,
                score=self.score_features)
        self.net.eval()
        return losses[-1] if losses else float("nan")

    # ------------------------------------------------------------------ protocol
    def _init(self, image, box):
        p = self.params
        given = box
        self.net = load_mdnet(p["weights"], self.device)
        dropout = self.new_generator()  # the new branch's initial weights, then fc4-fc6's dropout masks
        self.net.reset_branches(1, generator=dropout)
        use_generator(self.net, dropout)
        self.net.requires_grad_(False)
        for part in (self.net.fc4, self.net.fc5, self.net.branches):  # online: fc4-fc6 only, conv layers fixed
            part.requires_grad_(True)
        self.opt = adam([{"params": self.net.fc_parameters(), "lr": p["lr"]},
                                     {"params": self.net.branches.parameters(), "lr": p["lr_fc6"]}])
        wh = image_size(image)
        region = self._region(image, box)
        box = clip_box(box, (wh[1], wh[0]))  # learn from the part of the target inside the image
        try:
            with self.timed("sampling"):
                if box[2] < 4 or box[3] < 4:
                    raise BoxError("less than 4 x 4 pixels of it lie inside the image")
                pos = positive_samples(box, p["n_pos_init"], self.rng, wh)
                near = negative_samples(box, p["n_neg_init"] // 2, self.rng, wh, trans=1.0)
                far = negative_samples(box, p["n_neg_init"] - len(near), self.rng, wh, trans=2.0)
                reg_boxes = samples_in_iou_range(gaussian_samples, box, p["n_bbreg"], (0.6, 1.0), rng=self.rng,
                                                 trans=0.15, scale=1.5, aspect=1.1, image_size=wh)
        except BoxError as exc:
            raise TrackerError(f"mdnet: cannot sample training boxes around the initial box {np.asarray(given).tolist()} ({exc}); "
                               "is it inside the image and larger than 4 x 4 pixels?") from None
        self.init_samples = {"pos": pos, "neg": np.vstack([near, far])}
        pos_f, neg_f = self.features(region, pos), self.features(region, self.init_samples["neg"])
        self.init_loss = self._fine_tune(pos_f, neg_f, p["init_steps"])
        self.regressor = None
        if p["bbox_regression"]:
            reg_feats = self.features(region, reg_boxes)
            with self.timed("box_regression"):
                self.regressor = RidgeBoxRegressor(p["bbreg_alpha"]).fit(reg_feats, reg_boxes, box)
        self.memory = SampleMemory(frames=p["long_term"], neg_frames=p["short_term"])
        self.memory.add(pos_f[:p["frame_pos"]], neg_f[self.rng.permutation(len(neg_f))[:p["frame_neg"]]])
        self.state = np.asarray(given, dtype=np.float64).copy()
        self.trans = p["trans"]
        self._frame = 0
        self.schedule: list[tuple[int, str]] = []  # (frame, "short" | "long"): the updates, for the timeline

    def _update(self, image):
        p = self.params
        self._frame += 1
        wh = image_size(image)
        region = self._region(image, self.state)
        with self.timed("sampling"):
            cand = gaussian_samples(self.state, p["n_candidates"], self.rng, trans=self.trans, scale=p["scale"],
                                    image_size=wh)
        feats = self.features(region, cand)
        scores = self.score_features(feats)
        top = torch.topk(scores, min(p["top_k"], len(scores))).indices
        score = float(scores[top].mean())
        top_np = top.cpu().numpy()
        target = cand[top_np].mean(axis=0)
        success = score > p["success_threshold"]
        self.trans = p["trans"] if success else min(self.trans * p["trans_growth"], p["trans_limit"])
        reported = target
        if success and self.regressor is not None:
            with self.timed("box_regression"):
                reported = self.regressor.predict(feats[top], cand[top_np]).mean(axis=0)
        collected = False
        if success:
            try:
                with self.timed("sampling"):
                    pos = positive_samples(target, p["frame_pos"], self.rng, wh)
                    neg = negative_samples(target, p["frame_neg"], self.rng, wh, iou_range=(0.0, 0.3), trans=2.0)
                feats_pn = self.features(region, np.vstack([pos, neg]))  # one RoIAlign for both
                self.memory.add(feats_pn[:len(pos)], feats_pn[len(pos):])
                collected = True
            except BoxError:  # target squeezed against the border: learn nothing from this frame
                pass
        update = None
        if not success:
            update = "short"
            loss = self._fine_tune(self.memory.positives(last=p["short_term"]), self.memory.negatives(), p["update_steps"])
        elif p["update_interval"] and self._frame % p["update_interval"] == 0:
            update = "long"
            loss = self._fine_tune(self.memory.positives(), self.memory.negatives(), p["update_steps"])
        if update:
            self.schedule.append((self._frame, update))
            self.last_info["loss"] = loss
        self.last_info.update(score=score, success=success, update=update, collected=collected, search_trans=self.trans,
                              candidates=cand, scores=scores.cpu().numpy(), top=top_np, box_before_regression=target,
                              box_after_regression=reported)
        self.state = target
        return reported


__all__ = ["MDNetTracker"]
