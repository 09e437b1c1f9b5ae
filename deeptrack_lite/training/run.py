"""The resumable-run skeleton every off-line trainer shares (SDAE pretraining, MDNet, and those to come).

A trainer describes its settings and data as one string (the *fingerprint*) and does its own work in units
(an epoch, a cycle); after every unit, :meth:`ResumableRun.save` writes one checkpoint (model, optimizer,
the trainer's counters, the log, the time spent) atomically, and rewrites the log as CSV. A later run with
the same fingerprint continues from the checkpoint (:meth:`ResumableRun.restore`); one with other settings
is refused rather than mixed in. :meth:`ResumableRun.provenance` gives the record every weight file carries
(command, settings, seed, time, device, versions) and :meth:`ResumableRun.finish` removes the checkpoint.
"""
from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import torch

from ..data.synthetic import synthetic_benchmark
from ..errors import DataError
from ..version import __version__
from ..fileio import atomic_torch_save, atomic_write_csv, load_checkpoint, make_folder
from ..runtime import device as pick_device, device_name


@dataclass(frozen=True)
class TrainingVideos:
    """The videos a trainer draws its samples from, and what its provenance says of them. ``key`` joins the run's
    settings, so that a checkpoint resumes only on the same videos."""

    train: list
    val: list
    data: str
    validation_data: str
    key: str


def training_videos(config, dataset=None, *, samples: str, val_samples: str, trainer: str) -> TrainingVideos:
    """The trainers' two sources of video with known boxes: by default the synthetic benchmark's scenarios drawn
    with the seeds ``config.variants`` (``config.frames`` frames each; the benchmark itself, variant 0, stays
    unseen) and, held back for validation, ``config.val_variant``; or ``dataset``'s sequences (OTB / VOT /
    GOT-10k), its last tenth (at least one) held back. ``samples`` and ``val_samples`` say what is drawn from them
    ("2400 pairs") in the provenance; ``trainer`` names the network in the error."""
    if dataset is None:
        train = [s for v in config.variants for s in synthetic_benchmark(config.frames, variant=int(v))]
        val = list(synthetic_benchmark(config.frames, variant=config.val_variant))
        seeds = ", ".join(f"+{1000 * int(v)}" for v in config.variants)
        return TrainingVideos(train, val, f"{samples} from the synthetic benchmark's 14 scenarios drawn with seeds "
                              f"{seeds} ({config.frames} frames each)",
                              f"{val_samples} of the scenarios drawn with seeds +{1000 * config.val_variant} (held back)",
                              "synthetic")
    seqs = list(dataset)
    if len(seqs) < 2:
        raise DataError(f"training {trainer} on a dataset needs at least two sequences (one is held back); "
                        f"{dataset.name} has {len(seqs)}")
    k = max(1, len(seqs) // 10)
    train, val = seqs[:-k], seqs[-k:]
    return TrainingVideos(train, val, f"{samples} from {len(train)} sequences of {dataset.name}",
                          f"{val_samples} from {', '.join(s.name for s in val)} (held back)",
                          dataset.name + ":" + ",".join(s.name for s in seqs))


class ResumableRun:
    """One training run's files in ``out_dir``: ``<name>_checkpoint.pt`` and the CSV log ``log_name``.

    ``fingerprint``: the settings and data the checkpoint must have been written with. ``log_fields``: the
    CSV columns. ``self.log`` (rows) and ``self.elapsed`` (seconds of training) carry over a resume.
    """

    def __init__(self, out_dir, name: str, fingerprint: str, log_name: str, log_fields, *, device="auto",
                 resume: bool = True, progress: bool = True, keep_checkpoint: bool = False):
        self.out = make_folder(out_dir)
        self.checkpoint = self.out / f"{name}_checkpoint.pt"
        self.log_path = self.out / log_name
        self.fingerprint, self.log_fields = fingerprint, list(log_fields)
        self.device = pick_device(device)
        self.resume, self.progress, self.keep_checkpoint = resume, progress, keep_checkpoint
        self.log: list[dict] = []
        self.elapsed = 0.0
        self._started: float | None = None

    def restore(self, model: torch.nn.Module) -> dict | None:
        """With ``resume`` and a checkpoint present: load the model, the log and the time spent, and return the
        checkpoint (the trainer reads its counters and optimizer state from it); else None."""
        if not (self.resume and self.checkpoint.is_file()):
            return None
        ckpt = load_checkpoint(self.checkpoint, self.device, self.fingerprint)
        model.load_state_dict(ckpt["model"])
        self.elapsed, self.log = float(ckpt["elapsed"]), json.loads(ckpt["log"])
        return ckpt

    def say(self, text: str) -> None:
        if self.progress:
            print(text)

    def start_unit(self) -> None:
        """Start the clock of one unit of work (an epoch, a cycle)."""
        self._started = time.perf_counter()

    def end_unit(self) -> float:
        """Stop the clock; the unit's seconds are added to ``elapsed`` and returned."""
        seconds = time.perf_counter() - self._started
        self.elapsed += seconds
        return seconds

    def save(self, model: torch.nn.Module, optimizer: torch.optim.Optimizer, **counters) -> None:
        """Checkpoint after a unit (atomic: an interrupted save leaves the previous one), then the CSV log."""
        atomic_torch_save({"settings": self.fingerprint, "elapsed": self.elapsed, "log": json.dumps(self.log),
                           "model": model.state_dict(), "optimizer": optimizer.state_dict(), **counters},
                          self.checkpoint)
        self.write_log()

    def write_log(self) -> None:
        atomic_write_csv(self.log_path, self.log, self.log_fields)

    def provenance(self, command: str | None, default_command: str, config, **record) -> dict:
        """The record a weight file carries: the command, the settings, the seed, the trainer's own entries
        (data, final figures...), then the time spent, the device and the versions."""
        return {"command": command or default_command, "config": asdict(config), "seed": config.seed, **record,
                "training_seconds": round(self.elapsed, 1), "device": device_name(self.device),
                "torch": torch.__version__, "deeptrack_lite": __version__}

    def start_model(self, net: torch.nn.Module, lr: float, seed: int) -> tuple[torch.optim.Optimizer, int]:
        """The set-up of the trainers that learn one network with Adam: ``net`` moved to the run's device and
        initialised from ``seed`` (:func:`~deeptrack_lite.models.seeded.reset_parameters`), its optimizer, and,
        when a checkpoint is restored, its weights and optimizer state. Returns (optimizer, epochs already done)."""
        from ..models.seeded import reset_parameters

        net.to(self.device)
        reset_parameters(net, torch.Generator(device=self.device).manual_seed(seed))
        opt = torch.optim.Adam(net.parameters(), lr=lr)
        ckpt = self.restore(net)
        if ckpt is None:
            return opt, 0
        opt.load_state_dict(ckpt["optimizer"])
        self.say(f"resuming from {self.checkpoint}: epoch {int(ckpt['epoch'])}")
        return opt, int(ckpt["epoch"])

    def sample_bar(self, total: int, what: str):
        """A progress bar for computing the samples up front (None without progress)."""
        if not self.progress:
            return None
        from tqdm.auto import tqdm
        return tqdm(total=total, desc=f"cropping {what} and trunk features", unit=what.rstrip("s"), leave=False)

    def minibatch_epochs(self, model, optimizer, n_samples: int, batch_loss, evaluate, *, epochs: int,
                         batch_size: int, seed: int, start_epoch: int = 0, stop_after: int | None = None) -> bool:
        """The epoch loop of the trainers that learn from samples computed up front (SO-DLT, SiamFC): epochs
        ``start_epoch + 1 .. epochs`` of shuffled minibatches (the order from ``seed`` and the epoch, so a resumed
        run draws what an uninterrupted one would), ``batch_loss(indices)`` per minibatch, then
        ``evaluate() -> dict`` (held-back figures, logged with the epoch, its mean training loss and seconds), a
        line said and a checkpoint. Returns False when ``stop_after`` epochs ran before the end (tests)."""
        for epoch in range(start_epoch, epochs):
            if stop_after is not None and epoch - start_epoch >= stop_after:
                return False
            self.start_unit()
            order = torch.randperm(n_samples, generator=torch.Generator().manual_seed(seed * 1_000_003 + epoch))
            batches = range(0, n_samples, batch_size)
            if self.progress:
                from tqdm.auto import tqdm
                batches = tqdm(batches, desc=f"epoch {epoch + 1}/{epochs}", unit="batch", leave=False)
            model.train()
            total = 0.0
            for i in batches:
                idx = order[i:i + batch_size]
                loss = batch_loss(idx)
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()
                total += float(loss.detach()) * len(idx)
            seconds = self.end_unit()
            model.eval()
            row = {"epoch": epoch + 1, "train_loss": total / n_samples, **evaluate(), "seconds": seconds}
            self.log.append(row)
            self.say(f"epoch {epoch + 1}: " + ", ".join(f"{k} {v:.4g}" for k, v in row.items() if k != "epoch"))
            self.save(model, optimizer, epoch=epoch + 1)
        return True

    def layerwise_epochs(self, stages: list, epochs_of, n_samples: int, batch_size: int, seed: int, *,
                         start_stage: int, start_epoch: int, stop_after: int | None, begin_stage, train_batch,
                         end_epoch) -> bool:
        """The epoch loop of the layer-wise trainers (SDAE, DBN): stage by stage from ``start_stage`` (epoch
        ``start_epoch`` of it, when resumed), ``epochs_of(stage)`` epochs each. An epoch's generator comes from
        ``seed``, the stage and the epoch; it orders the samples and is handed to ``train_batch`` for the
        trainer's own draws (noise, Gibbs samples), so a resumed run draws what an uninterrupted one would.

        The trainer says what happens: ``begin_stage(s, first_epoch)`` before a stage's first epoch here,
        ``train_batch(s, epoch, indices, generator) -> mean loss`` per shuffled minibatch, and
        ``end_epoch(s, epoch, mean loss, seconds)`` after each epoch (log, say, checkpoint). Returns False when
        ``stop_after`` epochs ran in this call before the end (tests, and long runs split in parts)."""
        epochs_run = 0
        for s in range(start_stage, len(stages)):
            first_epoch = start_epoch if s == start_stage else 0
            begin_stage(s, first_epoch)
            for epoch in range(first_epoch, epochs_of(stages[s])):
                if stop_after is not None and epochs_run >= stop_after:
                    return False
                self.start_unit()
                gen = torch.Generator(device=self.device).manual_seed(seed * 1_000_003 + s * 1000 + epoch)
                order = torch.randperm(n_samples, generator=gen, device=self.device)
                batches = range(0, n_samples, batch_size)
                if self.progress:
                    from tqdm.auto import tqdm
                    batches = tqdm(batches, desc=f"{stages[s]} epoch {epoch + 1}/{epochs_of(stages[s])}", unit="batch",
                                   leave=False)
                total = 0.0
                for i in batches:
                    idx = order[i:i + batch_size]
                    total += train_batch(s, epoch, idx, gen) * len(idx)
                end_epoch(s, epoch, total / n_samples, self.end_unit())
                epochs_run += 1
        return True

    def finish(self) -> None:
        """The final log, and the checkpoint removed (unless ``keep_checkpoint``): the weights are written."""
        self.write_log()
        if not self.keep_checkpoint:
            Path(self.checkpoint).unlink(missing_ok=True)


__all__ = ["ResumableRun"]
