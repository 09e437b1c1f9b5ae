"""Off-line pretraining of DLT's stacked denoising autoencoder on natural image patches.

Greedy layer-wise, then end-to-end (Vincent et al. 2010, as DLT does it):

1. layer k = 1..L: the clean data is encoded by the layers below (frozen), corrupted, encoded by layer k
   and decoded by its decoder; the loss is the squared error to the *clean* input of layer k plus the
   sparsity penalty on layer k's units;
2. fine-tuning: the whole stack reconstructs clean patches from corrupted ones (all layers trained).

Every epoch ends with a checkpoint (written atomically) and a line in the loss log; a run with the same
settings resumes from the last checkpoint. The data and every random draw derive from the seed and the
(stage, epoch), so an interrupted and resumed run gives the same weights as an uninterrupted one.
"""
from __future__ import annotations

import csv
import json
from dataclasses import asdict, dataclass, field

import torch
import torch.nn.functional as F

from ..data.patches import describe_patches, natural_patches
from ..errors import DataError
from ..models.sdae import SDAE, corrupt, kl_sparsity, save_sdae, standardize_patches
from .run import ResumableRun

LOG_FIELDS = ("stage", "epoch", "train_loss", "val_mse", "seconds")


@dataclass(frozen=True)
class SDAEPretrainConfig:
    """Settings of a pretraining run (all recorded in the provenance file)."""

    sizes: tuple = (1024, 512, 256, 128)
    n_patches: int = 100_000
    n_val: int = 2_000
    noise: str = "masking"
    noise_level: float = 0.3
    sparsity_target: float = 0.05
    sparsity_weight: float = 0.1
    layer_epochs: int = 3
    finetune_epochs: int = 5
    batch_size: int = 128
    lr: float = 1e-3
    seed: int = 0

    @classmethod
    def fast(cls, **overrides) -> "SDAEPretrainConfig":
        """A seconds-long run for tests and fast mode (same pipeline, less data, one epoch per stage)."""
        return cls(**{"n_patches": 4000, "n_val": 500, "layer_epochs": 1, "finetune_epochs": 1, **overrides})

    def stages(self) -> list[str]:
        return [f"layer{k + 1}" for k in range(len(self.sizes) - 1)] + ["finetune"]

    def epochs(self, stage: str) -> int:
        return self.finetune_epochs if stage == "finetune" else self.layer_epochs

    def validate(self) -> None:
        if len(self.sizes) < 2 or self.sizes[0] != 32 * 32 or any(b >= a for a, b in zip(self.sizes[1:-1], self.sizes[2:])):
            raise DataError(f"sizes must be (1024, h1, h2, ...) with shrinking hidden layers, got {self.sizes}")
        if self.noise not in ("masking", "gaussian", "none"):
            raise DataError(f"noise must be masking, gaussian or none, got {self.noise!r}")
        if min(self.n_patches, self.n_val, self.batch_size) < 1 or self.layer_epochs < 0 or self.finetune_epochs < 0:
            raise DataError("n_patches, n_val and batch_size must be positive, epochs non-negative")


@dataclass
class PretrainResult:
    model: SDAE
    log: list = field(default_factory=list)   # rows of LOG_FIELDS
    provenance: dict = field(default_factory=dict)


def stack_reconstruction_mse(model: SDAE, x: torch.Tensor, depth: int | None = None, batch: int = 1024) -> float:
    """Pixel MSE of clean patches ``x`` (standardised) encoded through ``depth`` layers and decoded back."""
    total = 0.0
    with torch.no_grad():
        for i in range(0, len(x), batch):
            xb = x[i:i + batch]
            total += float(F.mse_loss(model.decode(model.encode(xb, depth), depth), xb, reduction="sum"))
    return total / x.numel()


def _layer_index(stage: str) -> int:
    """"layer3" -> 2: the index of the layer a greedy stage trains."""
    return int(stage[len("layer"):]) - 1


def _stage_loss(model: SDAE, stage: str, xb: torch.Tensor, cfg: SDAEPretrainConfig, gen: torch.Generator):
    if stage == "finetune":
        h, hs = model.encode(corrupt(xb, cfg.noise, cfg.noise_level, gen), return_all=True)
        loss = F.mse_loss(model.decode(h), xb)
        return loss + cfg.sparsity_weight * sum(kl_sparsity(hk, cfg.sparsity_target) for hk in hs) / len(hs)
    k = _layer_index(stage)
    with torch.no_grad():
        target = model.encode(xb, depth=k)  # clean input of layer k (frozen layers below)
    h = model.encode_layer(k, corrupt(target, cfg.noise, cfg.noise_level, gen))
    return F.mse_loss(model.decode_layer(k, h), target) + cfg.sparsity_weight * kl_sparsity(h, cfg.sparsity_target)


def _stage_parameters(model: SDAE, stage: str):
    if stage == "finetune":
        return list(model.parameters())
    k = _layer_index(stage)
    return list(model.encoders[k].parameters()) + list(model.decoders[k].parameters())


def _stage_depth(model: SDAE, stage: str) -> int:
    return model.depth if stage == "finetune" else _layer_index(stage) + 1


def read_loss_log(path) -> list[dict]:
    """Rows of a ``sdae_loss.csv`` written by :func:`pretrain_sdae` (numbers as floats)."""
    with open(path, newline="") as fh:
        return [{k: (v if k == "stage" else float(v)) for k, v in row.items()} for row in csv.DictReader(fh)]


def pretrain_sdae(config: SDAEPretrainConfig = SDAEPretrainConfig(), out_dir=".", *, device="auto",
                  resume: bool = True, progress: bool = True, command: str | None = None,
                  keep_checkpoint: bool = False, stop_after: int | None = None) -> PretrainResult:
    """Pretrain an SDAE; writes ``sdae.pt``, ``sdae.json`` (provenance) and ``sdae_loss.csv`` to ``out_dir``.

    ``sdae_checkpoint.pt`` is written after every epoch and removed at the end (unless ``keep_checkpoint``);
    with ``resume`` a run with the same config continues from it. ``stop_after`` stops after that many
    epochs in this call (the checkpoint stays): used by tests and to split long runs.
    """
    config.validate()
    run = ResumableRun(out_dir, "sdae", json.dumps(asdict(config), sort_keys=True), "sdae_loss.csv", LOG_FIELDS,
                       device=device, resume=resume, progress=progress, keep_checkpoint=keep_checkpoint)
    dev = run.device
    torch.manual_seed(config.seed)  # the initial weights
    model = SDAE(config.sizes).to(dev)
    start_stage, start_epoch, opt_state = 0, 0, None
    ckpt = run.restore(model)
    if ckpt is not None:
        start_stage, start_epoch, opt_state = int(ckpt["stage"]), int(ckpt["epoch"]), ckpt["optimizer"]
        run.say(f"resuming from {run.checkpoint}: stage {config.stages()[start_stage]}, epoch {start_epoch}")

    x_train = standardize_patches(torch.from_numpy(natural_patches(config.n_patches, model.patch, seed=config.seed))).to(dev)
    x_val = standardize_patches(torch.from_numpy(natural_patches(config.n_val, model.patch, seed=config.seed + 1))).to(dev)

    stages = config.stages()
    state = {}  # the stage being trained: its optimizer

    def begin_stage(s, first_epoch):
        state["opt"] = torch.optim.Adam(_stage_parameters(model, stages[s]), lr=config.lr)
        if s == start_stage and opt_state is not None and first_epoch > 0:
            state["opt"].load_state_dict(opt_state)

    def train_batch(s, epoch, idx, gen):
        model.train()
        loss = _stage_loss(model, stages[s], x_train[idx], config, gen)
        state["opt"].zero_grad()
        loss.backward()
        state["opt"].step()
        return float(loss.detach())

    def end_epoch(s, epoch, train_loss, seconds):
        model.eval()
        stage = stages[s]
        row = {"stage": stage, "epoch": epoch + 1, "train_loss": train_loss,
               "val_mse": stack_reconstruction_mse(model, x_val, _stage_depth(model, stage)), "seconds": seconds}
        run.log.append(row)
        run.say(f"{stage} epoch {epoch + 1}: train loss {row['train_loss']:.4f}, validation reconstruction "
                f"MSE {row['val_mse']:.4f} ({seconds:.1f} s)")
        done_stage = epoch + 1 == config.epochs(stage)
        run.save(model, state["opt"], stage=s + 1 if done_stage else s, epoch=0 if done_stage else epoch + 1)

    if not run.layerwise_epochs(stages, config.epochs, len(x_train), config.batch_size, config.seed,
                                start_stage=start_stage, start_epoch=start_epoch, stop_after=stop_after,
                                begin_stage=begin_stage, train_batch=train_batch, end_epoch=end_epoch):
        return PretrainResult(model.eval(), run.log, {})

    log = run.log
    final = log[-1] if log else {}
    provenance = run.provenance(
        command, "deeptrack_lite.training.pretrain_sdae(...)", config,
        data=describe_patches(config.n_patches, model.patch, config.seed),
        validation_data=describe_patches(config.n_val, model.patch, config.seed + 1),
        final_train_loss=final.get("train_loss"),
        final_val_reconstruction_mse=final.get("val_mse"),
        val_mse_after_each_stage={r["stage"]: r["val_mse"] for r in log},
        loss_log=run.log_path.name)
    model = model.eval()
    save_sdae(model, run.out / "sdae.pt", provenance)
    run.finish()
    return PretrainResult(model, log, provenance)
