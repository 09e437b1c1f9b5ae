"""Where a tracker's time goes: FPS with and without ``init``, and the time per stage, for comparisons
between commits and machines (``python -m deeptrack_lite speed``).

FPS as docs/design.md defines it: frames processed divided by the time spent in ``init`` and ``update``, frame decoding
excluded. The breakdown comes from the timers every tracker carries (``last_info["timing"]``, see
:mod:`deeptrack_lite.trackers.base`): seconds per stage (:data:`~deeptrack_lite.trackers.base.STAGES`),
``init`` apart from the frames after it. ``other`` is what no stage covers (Python overhead); the stages
and ``other`` add up to the tracker's own time, which :func:`measure_speed` checks against the time
measured around each call (``coverage``: 1.0 means every second is accounted for).
"""
from __future__ import annotations

import json
import platform
from dataclasses import asdict, dataclass, field

import numpy as np
import torch

from ..data import Dataset
from ..errors import DeepTrackError
from ..cpus import cpu_budget
from ..outputs import write_text
from ..runtime import device as pick_device, device_name
from ..trackers.base import STAGES, create_tracker, track
from ..version import __version__
from .metrics import success_auc, success_curve
from .specs import tracker_specs


@dataclass
class TrackerSpeed:
    """One tracker's speed over a dataset: totals in seconds, breakdowns {stage: seconds}."""

    tracker: str
    frames: int
    init_seconds: float
    update_seconds: float
    init_breakdown: dict
    update_breakdown: dict
    coverage: float                 # timed stages + other, over the time measured around init/update
    success_auc: float              # mean over sequences
    per_sequence: dict = field(default_factory=dict)   # {sequence: {"frames", "fps", "success_auc"}}

    @property
    def fps(self) -> float:
        """FPS as docs/design.md defines it: all frames over the time of init and every update."""
        return self.frames / (self.init_seconds + self.update_seconds)

    @property
    def update_frames(self) -> int:
        """Frames after each sequence's first (the ones ``update`` saw)."""
        return self.frames - len(self.per_sequence)

    @property
    def fps_after_init(self) -> float:
        """Frames after the first over the time of the updates only."""
        return self.update_frames / self.update_seconds if self.update_seconds > 0 else float("inf")

    def ms_per_frame(self, stage: str) -> float:
        """Milliseconds per update frame spent in ``stage``."""
        return 1000 * self.update_breakdown.get(stage, 0.0) / max(self.update_frames, 1)


@dataclass
class SpeedReport:
    """:func:`measure_speed`'s result: the machine, the data, and a :class:`TrackerSpeed` per tracker."""

    device: str
    torch_threads: int
    machine: dict
    dataset: str
    sequences: list
    trackers: dict                  # {label: TrackerSpeed}

    def table(self) -> str:
        """FPS, init time, milliseconds per frame by stage and success AUC, one row per tracker."""
        stages = [s for s in STAGES if any(t.update_breakdown.get(s) or t.init_breakdown.get(s) for t in self.trackers.values())]
        head = f"{'tracker':<16}{'FPS':>7}{'w/o init':>9}{'init s':>8} | " + "".join(f"{s[:9]:>10}" for s in stages) + \
            f" | {'AUC':>6}"
        budget = self.machine.get("cpu_budget")
        lines = [f"{self.dataset}: {len(self.sequences)} sequences, device {self.device}, {self.torch_threads} torch threads"
                 + (f", CPU budget {budget}" if budget else ""),
                 "ms per frame after the first, by stage (init's own breakdown is in the JSON)", head, "-" * len(head)]
        for label, t in self.trackers.items():
            lines.append(f"{label:<16}{t.fps:>7.1f}{t.fps_after_init:>9.1f}{t.init_seconds / len(t.per_sequence):>8.2f} | "
                         + "".join(f"{t.ms_per_frame(s):>10.1f}" for s in stages) + f" | {t.success_auc:>6.3f}")
        return "\n".join(lines)

    def to_dict(self) -> dict:
        out = asdict(self)
        for label, t in self.trackers.items():
            out["trackers"][label].update(fps=t.fps, fps_after_init=t.fps_after_init)
        return out

    def save_json(self, path) -> None:
        write_text(path, json.dumps(self.to_dict(), indent=1))


def _add(total: dict, timing: dict) -> None:
    for k, v in timing.items():
        if k != "total":
            total[k] = total.get(k, 0.0) + float(v)


def measure_speed(trackers, dataset: Dataset, *, device="auto", seed: int = 0, progress: bool = True) -> SpeedReport:
    """Run each tracker (names or ``tracker_specs`` strings such as ``mdnet:n_candidates=128``) over every
    sequence of ``dataset``, one after the other in this process, and gather its timers.

    Run nothing else on the machine meanwhile: two torch processes on the same cores slow each other down."""
    dev = pick_device(device)
    specs = tracker_specs(trackers)
    seqs = list(dataset)
    if not seqs:
        raise DeepTrackError("speed: the dataset holds no sequence")
    results = {}
    for spec in specs:
        init_b, update_b, per_seq = {}, {}, {}
        init_s = update_s = timed = 0.0
        frames = 0
        for seq in seqs:
            tracker = create_tracker(spec.name, device=dev, seed=seed, **spec.params)
            tracker.sync_timing = True   # on a GPU, wait for each stage's kernels so the stage owns its time
            run = track(tracker, seq, progress=progress, keep_info=["timing"])
            init_s += float(run.times[0])
            update_s += float(run.times[1:].sum())
            frames += len(run)
            for i, info in enumerate(run.infos):
                timing = info.get("timing", {})
                _add(init_b if i == 0 else update_b, timing)
                timed += float(timing.get("total", 0.0))
            per_seq[seq.name] = {"frames": len(run), "fps": run.fps,
                                 "success_auc": success_auc(success_curve(run.boxes, seq.ground_truth))}
        measured = init_s + update_s
        results[spec.label] = TrackerSpeed(
            spec.label, frames, init_s, update_s, init_b, update_b, timed / measured if measured > 0 else 1.0,
            float(np.mean([v["success_auc"] for v in per_seq.values()])), per_seq)
    machine = {"python": platform.python_version(), "torch": torch.__version__, "platform": platform.platform(terse=True),
               "processor": platform.processor() or platform.machine(), "deeptrack_lite": __version__,
               "cpu_budget": str(cpu_budget())}
    return SpeedReport(device_name(dev), torch.get_num_threads(), machine, dataset.name, [s.name for s in seqs], results)


__all__ = ["SpeedReport", "TrackerSpeed", "measure_speed"]
