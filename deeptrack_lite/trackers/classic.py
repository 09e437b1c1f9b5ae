"""The classic trackers of notebooks 01 and 02.

Generative (score = how well a model of the target *reconstructs* a candidate):
- ``template``: a template matched over a search window (NCC or SSD), with a template update rate;
- ``ivt``: an incremental PCA subspace with forgetting (IVT), particle-filter candidates scored by
  reconstruction error.
Discriminative (score = a classifier's belief that a candidate is *object rather than background*):
- ``discriminative``: tracking-by-detection, logistic regression on HOG-like and colour features trained
  online in torch on positive and negative samples around the target.
Motion models as trackers:
- ``particle_filter``: a colour-histogram particle filter (Bhattacharyya likelihood);
- ``meanshift``: mean shift on kernel-weighted colour histograms, with the +-10% scale test;
- ``camshift``: CamShift-style scale and orientation from the moments of a back-projection.
"""
from __future__ import annotations

import cv2
import numpy as np
import torch
import torch.nn.functional as F

from ..boxes import clip_box
from ..crops import crop_and_resize, image_size, image_to_tensor
from ..errors import TrackerError
from ..features.handcrafted import bhattacharyya, color_bins, color_histograms, hog_features, kernel_histogram
from ..features.sampling import gaussian_samples, visible_training_samples
from ..models.seeded import default_init_
from ..models.subspace import IncrementalPCA
from ..motion import meanshift as ms
from ..online import SampleMemory, train_binary_classifier
from ..runtime import host_float64
from .base import Tracker, register_tracker
from .observation_map import ObservationMapMixin
from .particle_tracker import ParticleTrackerBase


# ---------------------------------------------------------------------------------------------- generative
@register_tracker("template", "generative: a template matched over a search window (NCC or SSD), with an update rate")
class TemplateTracker(ObservationMapMixin, Tracker):
    """Generative template tracker: the model is one image of the target; the best candidate is the one that
    reconstructs it best (highest normalised cross-correlation, or lowest sum of squared differences)."""

    deterministic = True

    SCORE = "the best match: NCC in [-1, 1] (match='ncc'), minus the mean squared difference (match='ssd')"
    PRESENCE_THRESHOLD = 0.5
    PARAMS = {
        "match": ("ncc", "ncc: normalised cross-correlation (insensitive to brightness and contrast); ssd: squared differences", "one of ncc, ssd"),
        "update_rate": (0.0, "template <- (1 - r) template + r (new patch); 0 keeps the first frame's template", "float in [0, 1]"),
        "search": (1.0, "search margin around the last box, in box sizes", "float >= 0"),
        "scales": ((0.96, 1.0, 1.04), "relative box sizes tried at every frame", "tuple of float > 0"),
        "max_side": (48, "the template is resized so its longer side has at most this many pixels", "int >= 4"),
    }

    @property
    def MAP_KIND(self):
        return "reconstruction error (mean squared difference)" if self.params["match"] == "ssd" else "similarity (NCC)"

    def _patch(self, image, boxes) -> np.ndarray:
        crops = crop_and_resize(image, boxes, self._size, device="cpu")
        return crops.permute(0, 2, 3, 1).numpy()  # N x h x w x 3 float in [0, 1]

    def _init(self, image, box):
        if self.params["match"] not in ("ncc", "ssd"):
            raise TrackerError("template: match must be 'ncc' or 'ssd'")
        x, y, w, h = box
        s = min(1.0, self.params["max_side"] / max(w, h))
        self._size = (max(4, int(round(h * s))), max(4, int(round(w * s))))
        self.template = self._patch(image, box[None])[0]
        self._box = box.copy()

    def _match(self, window: np.ndarray):
        method = cv2.TM_CCOEFF_NORMED if self.params["match"] == "ncc" else cv2.TM_SQDIFF
        response = cv2.matchTemplate(window.astype(np.float32), self.template.astype(np.float32), method)
        if self.params["match"] == "ssd":
            response = response / self.template.size  # mean squared difference per value
            return response, -response
        return response, response

    def _update(self, image):
        image = image_to_tensor(image)  # once per frame, for the several crops below
        x, y, w, h = self._box
        m = self.params["search"]
        th, tw = self._size
        best = None
        for s in self.params["scales"]:
            bw, bh = w * s, h * s
            region = np.array([x + w / 2 - bw * (0.5 + m), y + h / 2 - bh * (0.5 + m), bw * (1 + 2 * m), bh * (1 + 2 * m)])
            out_size = (int(round(th * (1 + 2 * m))), int(round(tw * (1 + 2 * m))))
            window = crop_and_resize(image, region[None], out_size, device="cpu")[0].permute(1, 2, 0).numpy()
            raw, score = self._match(window)
            iy, ix = np.unravel_index(np.argmax(score), score.shape)
            if best is None or score[iy, ix] > best[0]:
                px, py = bw / tw, bh / th  # region pixels per window pixel
                best = (score[iy, ix], np.array([region[0] + ix * px, region[1] + iy * py, bw, bh]), raw, s)
        score, box, raw, s = best
        self.last_info.update(score=float(score), scale=s, response=raw)
        self._box = box
        r = self.params["update_rate"]
        if r > 0:
            self.template = (1 - r) * self.template + r * self._patch(image, box[None])[0]
        return box

    def _observe(self, image, boxes):
        patches = self._patch(image, boxes)
        t = self.template[None]
        if self.params["match"] == "ssd":
            return ((patches - t) ** 2).mean(axis=(1, 2, 3))
        a = patches - patches.mean(axis=(1, 2, 3), keepdims=True)
        b = t - t.mean()
        return (a * b).sum(axis=(1, 2, 3)) / (np.sqrt((a * a).sum(axis=(1, 2, 3)) * (b * b).sum()) + 1e-9)


@register_tracker("ivt", "generative: incremental PCA subspace with forgetting (IVT), particle-filter candidates")
class IVTTracker(ObservationMapMixin, ParticleTrackerBase):
    """IVT-style tracker: grey 32x32 patches; the appearance model is a mean and a PCA basis updated
    incrementally with a forgetting factor; particles are weighted by exp(-reconstruction error / sigma^2)."""

    SCORE = "minus the reconstruction error (mean squared residual) of the reported box's patch"
    PRESENCE_THRESHOLD = -0.0025  # sigma^2 at the default sigma: where a particle's likelihood falls to 1/e
    PARAMS = {
        **ParticleTrackerBase.PF_PARAMS,
        "patch": (32, "side of the grey patches the subspace models", "int >= 4"),
        "n_basis": (16, "number of principal components kept", "int >= 1"),
        "forgetting": (0.95, "forgetting factor f: older frames weigh f times less at each update", "float in (0, 1]"),
        "batch": (5, "frames collected before each subspace update", "int >= 1"),
        "sigma": (0.05, "likelihood width: weight exp(-mse / sigma^2)", "float > 0"),
    }
    MAP_KIND = "reconstruction error (mean squared residual)"

    def _patches(self, image, boxes) -> torch.Tensor:
        crops = crop_and_resize(image, boxes, self.params["patch"], device=self.device)
        return crops.mean(dim=1).flatten(1)

    def _init(self, image, box):
        self._make_filter(box)
        d = self.params["patch"] ** 2
        self.pca = IncrementalPCA(d, self.params["n_basis"], self.params["forgetting"], device=self.device)
        self.pca.update(self._patches(image, box[None]))
        self._buffer = []

    def _update(self, image):
        image = image_to_tensor(image, self.device)  # once per frame, for every particle's crop
        sigma2 = self.params["sigma"] ** 2
        box = self.pf.step(lambda boxes: -host_float64(self.pca.reconstruction_error(self._patches(image, boxes))) / sigma2)
        self._record_particles()
        patch = self._patches(image, box[None])
        self.last_info["score"] = -float(self.pca.reconstruction_error(patch)[0])
        self._buffer.append(patch)
        if len(self._buffer) >= self.params["batch"]:
            self.pca.update(torch.cat(self._buffer))
            self._buffer = []
        self.last_info["basis_size"] = self.pca.basis.shape[1]
        return box

    def _observe(self, image, boxes):
        return self.pca.reconstruction_error(self._patches(image, boxes)).cpu().numpy()


# ---------------------------------------------------------------------------------------------- discriminative
@register_tracker("discriminative", "discriminative: tracking-by-detection with an online logistic regression (torch)")
class DiscriminativeTracker(ObservationMapMixin, Tracker):
    """Tracking-by-detection: a logistic-regression classifier on HOG-like and coarse colour features,
    trained on positives (IoU >= 0.7) and negatives (IoU <= 0.3) around the target in the first frame and
    updated online; the candidate the classifier trusts most wins."""

    PARAMS = {
        "n_candidates": (256, "candidates sampled around the last box each frame", "int >= 1"),
        "search": (0.6, "std of the candidates' center offsets, in box sizes", "float >= 0"),
        "scale_step": (1.05, "candidates' scale spread", "float >= 1"),
        "n_pos": (50, "positive samples per training frame", "int >= 1"),
        "n_neg": (150, "negative samples per training frame", "int >= 1"),
        "l2": (1e-3, "weight decay of the classifier", "float >= 0"),
        "lr": (0.05, "learning rate (Adam)", "float > 0"),
        "init_steps": (60, "training steps on the first frame", "int >= 0"),
        "update_steps": (5, "training steps per confident frame", "int >= 0"),
        "memory": (10, "frames of positives kept for online updates (negatives: the last 3)", "int >= 1"),
        "top_k": (5, "the box is the mean of the k best candidates", "int >= 1"),
    }
    MAP_KIND = "classifier score (probability of 'object')"
    SCORE = "the classifier's mean probability of 'object' over the top_k candidates"
    PATCH = 32

    def features(self, image, boxes) -> torch.Tensor:
        crops = crop_and_resize(image, boxes, self.PATCH, device=self.device)
        colour = F.avg_pool2d(crops, 8).flatten(1)  # 3 x 4 x 4 coarse colour layout
        return torch.cat([hog_features(crops), colour - colour.mean(dim=1, keepdim=True)], dim=1)

    def _train(self, steps: int) -> None:
        losses = train_binary_classifier(self.clf, self.opt, self.memory.positives(), self.memory.negatives(), steps,
                                         generator=self.generator)
        self.last_info["loss"] = losses[-1]

    def _collect(self, image, box) -> bool:
        samples = visible_training_samples(box, self.rng, image_size(image), n_pos=self.params["n_pos"],
                                           n_neg=self.params["n_neg"])
        if samples is not None:
            self.memory.add(self.features(image, samples[0]), self.features(image, samples[1]))
        return samples is not None

    def _init(self, image, box):
        p = self.params
        self.memory = SampleMemory(frames=p["memory"], neg_frames=3)
        if not self._collect(image, box):
            raise TrackerError(f"discriminative: cannot sample training boxes around the initial box {box.tolist()}")
        self.clf = torch.nn.Linear(self.memory.positives().shape[1], 1).to(self.device)
        default_init_(self.clf, self.generator)  # torch's default initialisation, from this run's generator
        self.opt = torch.optim.Adam(self.clf.parameters(), lr=p["lr"], weight_decay=p["l2"])
        self._train(p["init_steps"])
        self._box = box.copy()

    @torch.no_grad()
    def scores(self, image, boxes) -> torch.Tensor:
        return torch.sigmoid(self.clf(self.features(image, boxes)).squeeze(1))

    def _update(self, image):
        p = self.params
        size = image_size(image)
        image = image_to_tensor(image, self.device)  # once per frame, for candidates and training samples
        cands = gaussian_samples(self._box, p["n_candidates"], self.rng, trans=p["search"], scale=p["scale_step"],
                                 image_size=size)
        cands = np.vstack([self._box[None], cands])
        s = self.scores(image, cands).cpu().numpy()
        top = np.argsort(-s)[:p["top_k"]]
        box = cands[top].mean(axis=0)
        confidence = float(s[top].mean())
        self.last_info.update(score=confidence, confidence=confidence, candidates=cands, candidate_scores=s)
        if confidence > 0.5:  # learn from frames we trust, so errors do not teach the model
            self._collect(image, box)
            self._train(p["update_steps"])
        self._box = box
        return box

    def _observe(self, image, boxes):
        return self.scores(image, boxes).cpu().numpy()


# ---------------------------------------------------------------------------------------------- motion models
@register_tracker("particle_filter", "a colour-histogram particle filter (SIR, Bhattacharyya likelihood)")
class ColorParticleFilterTracker(ParticleTrackerBase):
    """Particle filter with a colour likelihood (Perez et al. 2002, Nummiaro et al. 2003): each particle's
    box is described by its Epanechnikov-weighted colour histogram p; its likelihood is
    exp(-lambda (1 - rho(p, q))), rho the Bhattacharyya coefficient with the target model q."""

    SCORE = "the Bhattacharyya coefficient rho of the estimate's colour histogram with the target model"
    PRESENCE_THRESHOLD = 0.7  # the rho above which the model is updated
    PARAMS = {
        **ParticleTrackerBase.PF_PARAMS,
        "bins": (8, "histogram bins per colour channel", "int in [2, 256]"),
        "lam": (30.0, "likelihood sharpness lambda", "float > 0"),
        "update_rate": (0.05, "target model q <- (1 - r) q + r p(estimate) when the estimate is confident", "float in [0, 1]"),
        "patch": (24, "side of the resized particle patches the histograms are computed on", "int >= 4"),
    }

    def _hists(self, image, boxes):
        crops = crop_and_resize(image, boxes, self.params["patch"], device=self.device)
        patches = (crops.permute(0, 2, 3, 1).clamp(0, 1) * 255).to(torch.uint8).cpu().numpy()
        return color_histograms(patches, self.params["bins"])

    def _init(self, image, box):
        self._make_filter(box)
        self.q = self._hists(image, box[None])[0]

    def log_likelihood(self, image, boxes) -> torch.Tensor:
        """-lambda (1 - rho) for each box: the observation model, public so notebooks can step by hand."""
        boxes = boxes.cpu().numpy() if isinstance(boxes, torch.Tensor) else np.asarray(boxes)
        rho = bhattacharyya(self._hists(image, boxes), self.q)
        return host_float64(-self.params["lam"] * (1 - rho))  # float64 on the CPU, where the particle filter lives

    def _update(self, image):
        image = image_to_tensor(image, self.device)  # once per frame, for every particle's crop
        box = self.pf.step(lambda boxes: self.log_likelihood(image, boxes))
        self._record_particles()
        p_est = self._hists(image, box[None])[0]
        rho = float(bhattacharyya(p_est, self.q))
        self.last_info.update(rho=rho, score=rho)
        r = self.params["update_rate"]
        if r > 0 and rho > 0.7:
            self.q = (1 - r) * self.q + r * p_est
        return box


@register_tracker("meanshift", "mean shift on Epanechnikov-weighted colour histograms, with the +-10% scale test")
class MeanShiftTracker(Tracker):
    """Comaniciu-Ramesh-Meer kernel-based tracking: mean-shift iterations to the mode of the Bhattacharyya
    coefficient; with ``scale_adapt`` the box size is chosen among 0.9x, 1x and 1.1x by the best coefficient
    and smoothed (gamma), as in the paper."""

    deterministic = True

    SCORE = "the Bhattacharyya coefficient rho where mean shift converged"
    PRESENCE_THRESHOLD = 0.7
    PARAMS = {
        "bins": (16, "histogram bins per colour channel", "int in [2, 256]"),
        "max_iter": (20, "mean-shift iterations per frame at most", "int >= 1"),
        "eps": (0.5, "stop when the shift is below this many pixels", "float > 0"),
        "bandwidth": (1.0, "kernel window size relative to the box", "float > 0"),
        "scale_adapt": (True, "try 0.9x / 1x / 1.1x sizes each frame", "bool"),
        "gamma": (0.1, "smoothing of the size change", "float in [0, 1]"),
    }

    def _init(self, image, box):
        self.q = ms.target_model(image, box, self.params["bins"])
        self._box = box.copy()

    def _update(self, image):
        p = self.params
        results = []
        for s in ((0.9, 1.0, 1.1) if p["scale_adapt"] else (1.0,)):
            x, y, w, h = self._box
            start = np.array([x + w * (1 - s) / 2, y + h * (1 - s) / 2, w * s, h * s])
            results.append((ms.mean_shift(image, start, self.q, bins=p["bins"], max_iter=p["max_iter"], eps=p["eps"],
                                          bandwidth=p["bandwidth"]), s))
        best, s = max(results, key=lambda r: r[0].rho)
        g = p["gamma"]
        s = g * s + (1 - g)  # the size moves only a fraction of the way: the scale test is noisy
        x, y, w, h = best.box
        cx, cy = x + w / 2, y + h / 2
        w, h = self._box[2] * s, self._box[3] * s
        self._box = np.array([cx - w / 2, cy - h / 2, w, h])
        self.last_info.update(rho=best.rho, score=best.rho, path=best.path, iterations=best.iterations)
        return self._box


@register_tracker("camshift", "CamShift-style: mean shift on a back-projection, size and orientation from its moments")
class CamShiftTracker(Tracker):
    """Continuously adaptive mean shift: pixels are weighted by how much more frequent their colour is on
    the target than around it (a ratio-histogram back-projection); mean shift moves the window to the
    weight's centroid, and the second moments of the weights give the box's size and orientation."""

    deterministic = True

    SCORE = "the mean back-projection (probability of target colour) inside the reported box"
    PRESENCE_THRESHOLD = 0.3
    PARAMS = {
        "bins": (16, "histogram bins per colour channel", "int in [2, 256]"),
        "search": (1.0, "back-projection is computed within this margin around the box, in box sizes", "float >= 0"),
        "smoothing": (0.3, "size <- (1 - s) old + s new, to damp jitter", "float in [0, 1]"),
    }

    def _init(self, image, box):
        bins = self.params["bins"]
        self.q = ms.target_model(image, box, bins)
        x, y, w, h = box
        ring = np.array([x - w, y - h, 3 * w, 3 * h])
        r = clip_box(ring, image.shape).astype(int)
        pixels = image[r[1]:r[1] + r[3], r[0]:r[0] + r[2]]
        weights = np.ones(pixels.shape[:2])
        b = np.clip(np.array(box - [r[0], r[1], 0, 0]), 0, None).astype(int)
        weights[b[1]:b[1] + b[3], b[0]:b[0] + b[2]] = 0  # the ring around the target only
        self.background = kernel_histogram(color_bins(pixels, bins), weights, bins ** 3) + 1e-3 / bins ** 3
        self._box = box.copy()

    def _update(self, image):
        x, y, w, h = self._box
        m = self.params["search"]
        region = clip_box(np.array([x - m * w, y - m * h, w * (1 + 2 * m), h * (1 + 2 * m)]), image.shape)
        r = np.round(region).astype(int)
        prob = np.zeros(image.shape[:2])
        prob[r[1]:r[1] + r[3], r[0]:r[0] + r[2]] = ms.back_projection(image[r[1]:r[1] + r[3], r[0]:r[0] + r[2]], self.q,
                                                                     self.background, self.params["bins"])
        box, rotated, mass = ms.camshift_step(prob, self._box)
        s = self.params["smoothing"]
        cx, cy = box[0] + box[2] / 2, box[1] + box[3] / 2
        w, h = (1 - s) * self._box[2] + s * box[2], (1 - s) * self._box[3] + s * box[3]
        self._box = np.array([cx - w / 2, cy - h / 2, w, h])
        self.last_info.update(rotated_box=rotated, mass=mass, back_projection=prob, score=ms.window_mean(prob, self._box))
        return self._box


__all__ = ["CamShiftTracker", "ColorParticleFilterTracker", "DiscriminativeTracker", "IVTTracker", "MeanShiftTracker",
           "TemplateTracker"]
