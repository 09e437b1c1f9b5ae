"""DLT (Wang and Yeung, NIPS 2013): off-line pretraining + online fine-tuning.

1. Off-line: a stacked denoising autoencoder learns a generic representation of 32x32 grey patches
   (:mod:`deeptrack_lite.training.sdae`; the package ships the weights).
2. First frame: the SDAE's *encoder* gets a sigmoid classification layer, and encoder + classifier are
   fine-tuned on positive and negative samples around the given box.
3. Every frame: the particle filter (:class:`~deeptrack_lite.motion.ParticleFilter`) proposes candidate
   boxes; the network scores all of them in one batch; the most confident candidate is the target.
4. "Limited threshold" update: when the best confidence falls below ``threshold`` the appearance is taken
   to have changed, and the network is fine-tuned again on samples from recent frames.
"""
from __future__ import annotations

from functools import lru_cache

import numpy as np
import torch

from ..crops import crop_and_resize, image_size, image_to_tensor
from ..errors import TrackerError
from ..features.sampling import visible_training_samples
from ..models.dbn import load_dbn
from ..models.sdae import SDAE, SDAEClassifier, load_sdae, standardize_patches
from ..models.seeded import default_init_, reset_parameters
from ..runtime import adam, host_float64
from ..online import SampleMemory, train_binary_classifier
from .base import register_tracker
from .observation_map import ObservationMapMixin
from .particle_tracker import ParticleTrackerBase


REPRESENTATIONS = ("sdae", "dbn")


@lru_cache(maxsize=4)
def _pretrained_state(path, representation: str = "sdae"):
    """(config, state dict) of the SDAE-shaped network a weight file holds; a DBN is unrolled into one."""
    if representation not in REPRESENTATIONS:
        raise TrackerError(f"unknown representation {representation!r}; use one of {REPRESENTATIONS}")
    model = load_sdae(path, device="cpu") if representation == "sdae" else load_dbn(path, device="cpu").unroll()
    return model.config(), {k: v.clone() for k, v in model.state_dict().items()}


def dlt_network(weights=None, pretrained: bool = True, seed: int = 0, device="cpu",
                generator: torch.Generator | None = None, representation: str = "sdae") -> SDAEClassifier:
    """A fresh DLT network: the encoder of the pretrained ``representation`` (``"sdae"``: the stacked denoising
    autoencoder; ``"dbn"``: the deep belief network, unrolled), with weights from ``weights`` (the shipped file
    when None), or with ``pretrained=False`` the same layers randomly initialised, + a sigmoid classifier.
    The random initial weights come from ``generator`` (on ``device``), else from a new one seeded ``seed``."""
    config, state = _pretrained_state(None if weights is None else str(weights), representation)
    generator = generator if generator is not None else torch.Generator(device=device).manual_seed(seed)
    sdae = SDAE(config["sizes"], config["patch"]).to(device)
    reset_parameters(sdae, generator)
    if pretrained:
        sdae.load_state_dict(state)
    net = SDAEClassifier(sdae).to(device)
    default_init_(net.classifier, generator)
    return net



def needs_update(confidences: np.ndarray, threshold: float) -> bool:
    """DLT's limited-threshold rule: fine-tune again when even the best particle's confidence is below
    ``threshold`` (one confident candidate is enough to trust the model). The tracker calls it through this
    module's name, so a student's version can be plugged in (:mod:`deeptrack_lite.course.plug_in`)."""
    return bool(np.max(confidences) < threshold)

@register_tracker("dlt", "DLT: SDAE encoder pretrained off-line + classifier fine-tuned online, particle filter, "
                  "update when confidence < threshold")
class DLTTracker(ObservationMapMixin, ParticleTrackerBase):
    """Deep learning tracker: SDAE encoder + sigmoid classifier on 32x32 grey patches, fine-tuned on the
    first frame, particle-filter candidates scored in one batch, the most confident wins, and the network
    is fine-tuned again when the best confidence drops below ``threshold``."""

    PARAMS = {
        **ParticleTrackerBase.PF_PARAMS,
        "n_particles": (600, "number of particles (DLT used 1000)", "int >= 1"),
        "translation_noise": (0.15, "std of a particle's step, in box sizes", "float >= 0"),
        "scale_noise": (0.03, "std of a particle's log-scale step", "float >= 0"),
        "resample_threshold": (1.0, "resample every frame (1.0): the heaviest particle is then the most confident", "float in [0, 1]"),
        "weights": (None, "SDAE weight file (None: the package's shipped weights)", "None or path"),
        "pretrained": (True, "False: the same encoder with random weights, to measure what pretraining is worth", "bool"),
        "threshold": (0.9, "tau: fine-tune again when the best confidence is below it (0 never updates, above 1 always)", "float"),
        "sharpness": (10.0, "particle weight = confidence ** sharpness", "float >= 0"),
        "n_pos": (100, "positives (IoU >= 0.7) sampled on the first frame", "int >= 1"),
        "n_neg": (400, "negatives (IoU <= 0.3) sampled on the first frame", "int >= 1"),
        "frame_pos": (20, "positives collected per later frame", "int >= 0"),
        "frame_neg": (60, "negatives collected per later frame", "int >= 0"),
        "collect_above": (0.5, "collect samples only on frames whose best confidence exceeds this", "float"),
        "memory": (10, "recent frames whose samples the update uses (the first frame's are always kept)", "int >= 0"),
        "init_steps": (150, "fine-tuning steps on the first frame", "int >= 0"),
        "update_steps": (15, "fine-tuning steps per update", "int >= 0"),
        "batch_pos": (32, "positives per fine-tuning step", "int >= 1"),
        "batch_neg": (96, "negatives per fine-tuning step", "int >= 1"),
        "lr": (2e-3, "learning rate of the classification layer (Adam)", "float > 0"),
        "encoder_lr": (2e-4, "learning rate of the encoder during fine-tuning (0 freezes it)", "float >= 0"),
    }
    MAP_KIND = "confidence (classifier's probability of 'object')"
    SCORE = "the best particle's confidence (the classifier's probability of 'object')"
    REPRESENTATION = "sdae"  # the off-line pretrained encoder (the one thing the DBN tracker changes)

    def patches(self, image, boxes) -> torch.Tensor:
        """Standardised 32x32 grey patches of ``boxes``: the network's input, N x 1024."""
        with self.timed("features"):
            crops = crop_and_resize(image, boxes, self.net.patch, device=self.device)
            return standardize_patches(crops.mean(dim=1))

    @torch.no_grad()
    def confidence(self, image, boxes) -> torch.Tensor:
        """The network's probability of 'object' for every box, in one batch."""
        self.net.eval()
        x = self.patches(image, boxes)
        with self.timed("scoring"):
            return torch.sigmoid(self.net(x))

    def _collect(self, image, box, n_pos, n_neg) -> bool:
        """Add positives and negatives around the visible part of ``box`` to the memory (False if none)."""
        with self.timed("sampling"):
            samples = visible_training_samples(box, self.rng, image_size(image), n_pos=n_pos, n_neg=n_neg)
        if samples is not None:
            self.memory.add(self.patches(image, samples[0]), self.patches(image, samples[1]))
        return samples is not None

    def _fine_tune(self, steps: int) -> float:
        p = self.params
        self.net.train()
        with self.timed("training", absorb=True):
            losses = train_binary_classifier(self.net, self.opt, self.memory.positives(), self.memory.negatives(), steps,
                                             batch_pos=p["batch_pos"], batch_neg=p["batch_neg"], generator=self.generator)
        self.net.eval()
        return losses[-1]

    def _init(self, image, box):
        p = self.params
        self.net = dlt_network(p["weights"], p["pretrained"], device=self.device, generator=self.new_generator(),
                               representation=self.REPRESENTATION)
        groups = [{"params": self.net.classifier.parameters(), "lr": p["lr"]}]
        if p["encoder_lr"] > 0:
            groups.append({"params": self.net.encoder.parameters(), "lr": p["encoder_lr"]})
        else:
            self.net.encoder.requires_grad_(False)
        self.opt = adam(groups)
        image = image_to_tensor(image, self.device)
        self.memory = SampleMemory(frames=p["memory"], keep_first=True)
        if not self._collect(image, box, p["n_pos"], p["n_neg"]):
            raise TrackerError(f"{self.name}: cannot sample training boxes around the initial box {box.tolist()}; is it "
                               "inside the image and larger than 4 x 4 pixels?")
        self.init_loss = self._fine_tune(p["init_steps"])
        self._make_filter(box, estimate="best")
        self.updates: list[int] = []  # frame indices (1 = first update() call) where the network was updated
        self._frame = 0

    def _update(self, image):
        p = self.params
        self._frame += 1
        image = image_to_tensor(image, self.device)  # once per frame, for particles and samples
        scored = {}

        def log_likelihood(boxes):  # float64 on the CPU, where the particle filter lives (MPS has no float64)
            scored["boxes"], scored["conf"] = boxes, host_float64(self.confidence(image, boxes))
            return p["sharpness"] * torch.log(scored["conf"].clamp_min(1e-12))

        with self.timed("sampling"):  # the filter's own work; the likelihood inside is features and scoring
            box = self.pf.step(log_likelihood)
        conf = scored["conf"]
        best = float(conf.max())
        self._record_particles()
        collected = best > p["collect_above"] and self._collect(image, box, p["frame_pos"], p["frame_neg"])
        updated = bool(needs_update(conf.cpu().numpy(), p["threshold"]))
        if updated:
            self.last_info["loss"] = self._fine_tune(p["update_steps"])
            self.updates.append(self._frame)
        self.last_info.update(score=best, confidence=best, candidates=scored["boxes"].cpu().numpy(), confidences=conf.cpu().numpy(),
                              updated=updated, collected=collected)
        return box

    def _observe(self, image, boxes):
        return self.confidence(image, boxes).cpu().numpy()


@register_tracker("dbn", "DBN: DLT's tracker with a deep belief network (stacked RBMs, contrastive divergence) as "
                  "the pretrained encoder")
class DBNTracker(DLTTracker):
    """DLT's pipeline (particle filter, online fine-tuning, limited-threshold update) with a deep belief network
    pretrained off-line on the same patches instead of the SDAE: only the representation differs."""

    PARAMS = {**DLTTracker.PARAMS,
              "weights": (None, "DBN weight file (None: the package's shipped weights, from pretrain-dbn)", "None or path"),
              "pretrained": (True, "False: the same encoder with random weights", "bool")}
    REPRESENTATION = "dbn"


__all__ = ["DBNTracker", "DLTTracker", "REPRESENTATIONS", "dlt_network", "needs_update"]
