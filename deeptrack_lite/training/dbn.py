"""Off-line pretraining of a deep belief network on the natural image patches DLT's SDAE learns from.

Greedy and layer-wise (Hinton, Osindero and Teh 2006): RBM 1 (Gaussian visible units) learns standardised
32x32 grey patches with CD-k; RBM k+1 learns the hidden probabilities of RBM k on the same patches. There is
no end-to-end stage: the DBN's fine-tuning is the tracker's online fine-tuning (the ``dbn`` tracker).

As for the SDAE (:mod:`.sdae`), every epoch ends with a checkpoint and a line in the log, and all random
draws derive from the seed and the (layer, epoch), so a resumed run gives the weights of an uninterrupted one.
"""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field

import torch

from ..data.patches import describe_patches, natural_patches
from ..errors import DataError
from ..models.dbn import DBN, cd_step, save_dbn
from ..models.sdae import standardize_patches
from .run import ResumableRun

LOG_FIELDS = ("stage", "epoch", "train_reconstruction_mse", "val_mse", "val_free_energy_gap", "seconds")


@dataclass(frozen=True)
class DBNPretrainConfig:
    """Settings of a DBN pretraining run (all recorded in the provenance file)."""

    sizes: tuple = (1024, 512, 256, 128)
    n_patches: int = 100_000
    n_val: int = 2_000
    epochs: int = 5                 # per RBM
    batch_size: int = 100
    lr_gaussian: float = 0.002      # Gaussian visible units need a small step (Hinton's guide)
    lr: float = 0.05                # Bernoulli-Bernoulli layers
    cd_k: int = 1
    momentum: float = 0.9           # 0.5 during the first epoch of each layer
    weight_decay: float = 2e-4
    seed: int = 0

    @classmethod
    def fast(cls, **overrides) -> "DBNPretrainConfig":
        """A seconds-long run for tests and fast mode (same pipeline, less data, one epoch per layer)."""
        return cls(**{"n_patches": 4000, "n_val": 500, "epochs": 1, **overrides})

    def stages(self) -> list[str]:
        return [f"rbm{k + 1}" for k in range(len(self.sizes) - 1)]

    def validate(self) -> None:
        if len(self.sizes) < 2 or self.sizes[0] != 32 * 32:
            raise DataError(f"sizes must be (1024, h1, h2, ...), got {self.sizes}")
        if min(self.n_patches, self.n_val, self.batch_size, self.cd_k) < 1 or self.epochs < 0:
            raise DataError("n_patches, n_val, batch_size and cd_k must be positive, epochs non-negative")
        if not (self.lr > 0 and self.lr_gaussian > 0 and 0 <= self.momentum < 1):
            raise DataError("learning rates must be positive and momentum in [0, 1)")


@dataclass
class DBNPretrainResult:
    model: DBN
    log: list = field(default_factory=list)
    provenance: dict = field(default_factory=dict)


def stack_mse(model: DBN, x: torch.Tensor, depth: int) -> float:
    """Pixel MSE of patches ``x`` taken up ``depth`` layers (hidden probabilities) and back down (visible means)."""
    return float(((model.down(model.up(x, depth), depth) - x) ** 2).mean())


def pretrain_dbn(config: DBNPretrainConfig = DBNPretrainConfig(), out_dir=".", *, device="auto", resume: bool = True,
                 progress: bool = True, command: str | None = None, keep_checkpoint: bool = False,
                 stop_after: int | None = None) -> DBNPretrainResult:
    """Pretrain a DBN; writes ``dbn.pt``, ``dbn.json`` (provenance) and ``dbn_log.csv`` to ``out_dir``.

    Resumable like :func:`~deeptrack_lite.training.pretrain_sdae` (``stop_after`` stops after that many
    epochs in this call, leaving the checkpoint)."""
    config.validate()
    run = ResumableRun(out_dir, "dbn", json.dumps(asdict(config), sort_keys=True), "dbn_log.csv", LOG_FIELDS,
                       device=device, resume=resume, progress=progress, keep_checkpoint=keep_checkpoint)
    dev = run.device
    model = DBN(config.sizes).to(dev)
    init = torch.Generator(device=dev).manual_seed(config.seed)
    for rbm in model.rbms:
        rbm.reset(init)
    start_stage, start_epoch, velocity = 0, 0, None
    ckpt = run.restore(model)
    if ckpt is not None:
        start_stage, start_epoch = int(ckpt["stage"]), int(ckpt["epoch"])
        velocity = ckpt["optimizer"].get("velocity")
        run.say(f"resuming from {run.checkpoint}: {config.stages()[start_stage]}, epoch {start_epoch}")

    x_train = standardize_patches(torch.from_numpy(natural_patches(config.n_patches, model.patch, seed=config.seed))).to(dev)
    x_val = standardize_patches(torch.from_numpy(natural_patches(config.n_val, model.patch, seed=config.seed + 1))).to(dev)
    stages = config.stages()
    state = {"velocity": velocity}  # the momentum of the stage being trained (saved in the checkpoint)

    def begin_stage(s, first_epoch):
        rbm = model.rbms[s]
        # what this layer sees: the layer below's probabilities
        state.update(rbm=rbm, data=model.up(x_train, s), val=model.up(x_val, s),
                     lr=config.lr_gaussian if rbm.visible == "gaussian" else config.lr)
        if not (s == start_stage and first_epoch > 0):
            state["velocity"] = None

    def train_batch(s, epoch, idx, gen):
        rbm, vb = state["rbm"], state["data"][idx]
        state["velocity"] = cd_step(rbm, vb, lr=state["lr"], k=config.cd_k,
                                    momentum=0.5 if epoch == 0 else config.momentum,
                                    weight_decay=config.weight_decay, velocity=state["velocity"], generator=gen)
        return rbm.reconstruction_error(vb)

    def end_epoch(s, epoch, train_mse, seconds):
        rbm, data, val = state["rbm"], state["data"], state["val"]
        with torch.no_grad():  # Hinton's overfitting monitor: held-out minus training free energy
            gap = float(rbm.free_energy(val).mean() - rbm.free_energy(data[:len(val)]).mean())
        row = {"stage": stages[s], "epoch": epoch + 1, "train_reconstruction_mse": train_mse,
               "val_mse": stack_mse(model, x_val, s + 1), "val_free_energy_gap": gap, "seconds": seconds}
        run.log.append(row)
        run.say(f"{stages[s]} epoch {epoch + 1}: reconstruction MSE {row['train_reconstruction_mse']:.4f} (layer "
                f"input), validation pixel MSE through {s + 1} layer(s) {row['val_mse']:.4f} ({seconds:.1f} s)")
        done = epoch + 1 == config.epochs
        run.save(model, _VelocityHolder(state["velocity"]), stage=s + 1 if done else s, epoch=0 if done else epoch + 1)

    if not run.layerwise_epochs(stages, lambda stage: config.epochs, len(x_train), config.batch_size, config.seed,
                                start_stage=start_stage, start_epoch=start_epoch, stop_after=stop_after,
                                begin_stage=begin_stage, train_batch=train_batch, end_epoch=end_epoch):
        return DBNPretrainResult(model.eval(), run.log, {})

    final = run.log[-1] if run.log else {}
    provenance = run.provenance(
        command, "deeptrack_lite.training.pretrain_dbn(...)", config,
        data=describe_patches(config.n_patches, model.patch, config.seed),
        validation_data=describe_patches(config.n_val, model.patch, config.seed + 1),
        final_val_reconstruction_mse=final.get("val_mse"),
        val_mse_after_each_layer={r["stage"]: r["val_mse"] for r in run.log if r["epoch"] == config.epochs},
        loss_log=run.log_path.name)
    model = model.eval()
    save_dbn(model, run.out / "dbn.pt", provenance)
    run.finish()
    return DBNPretrainResult(model, run.log, provenance)


class _VelocityHolder:
    """CD keeps its momentum by hand; this gives it the ``state_dict`` a checkpoint stores."""

    def __init__(self, velocity):
        self.velocity = velocity

    def state_dict(self) -> dict:
        return {"velocity": self.velocity}


__all__ = ["DBNPretrainConfig", "DBNPretrainResult", "pretrain_dbn", "stack_mse"]
