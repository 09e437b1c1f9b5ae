"""Is one setting better than another? Paired differences over sequences, with a bootstrap confidence interval.

An ablation runs two settings of a tracker on the same sequences. Sequences differ far more from each other
than the two settings do, so the comparison is *paired*: per sequence, the difference of the two scores. The
question is whether the mean difference would stay on the same side of zero on other sequences like these. A
percentile bootstrap over sequences answers it (Efron & Tibshirani, *An Introduction to the Bootstrap*, 1993,
ch. 13): resample the sequences with replacement, recompute the mean difference, and read the central
``level`` share of those means. The verdict comes from that interval, not from a fixed margin:

- ``"helps"`` when the whole interval is above zero, ``"hurts"`` when it is below;
- ``"tie"`` when it contains zero: the data cannot tell the two settings apart;
- ``"too few sequences"`` below ``min_sequences``: a bootstrap over two or three values only replays them.

With several seeds per sequence, each sequence's difference is first averaged over its seeds, so the interval
is over sequences (what would change on other videos), with seed noise averaged inside each one.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import DeepTrackError

MIN_SEQUENCES = 5


@dataclass(frozen=True)
class PairedComparison:
    """Mean of ``a - b`` over sequences, its bootstrap interval ``(low, high)`` and the verdict it gives."""

    mean: float
    low: float
    high: float
    n_sequences: int
    level: float
    min_sequences: int = MIN_SEQUENCES
    unit: str = "sequences"  # what was resampled: sequences, or the trials of an experiment

    @property
    def verdict(self) -> str:
        if self.n_sequences < self.min_sequences:
            return f"too few {self.unit}"
        if self.low > 0:
            return "helps"
        if self.high < 0:
            return "hurts"
        return "tie"

    def __str__(self) -> str:
        return (f"{self.mean:+.3f} [{self.low:+.3f}, {self.high:+.3f}] ({self.level:.0%} interval over "
                f"{self.n_sequences} {self.unit}): {self.verdict}")


def paired_bootstrap(a, b, *, level: float = 0.95, n_boot: int = 10000, seed: int = 0,
                     min_sequences: int = MIN_SEQUENCES, unit: str = "sequences") -> PairedComparison:
    """Compare setting ``a`` with setting ``b`` on the same sequences.

    ``a`` and ``b``: scores per sequence, shape (S,), or per sequence and seed, shape (S, R) (averaged over
    the seeds first). Returns the mean of ``a - b`` over sequences and its percentile-bootstrap interval at
    ``level`` (``n_boot`` resamples of the sequences, drawn from ``seed``, so the interval is reproducible).
    NaN scores are refused: a run that produced no score must be rerun, not silently dropped. ``unit`` names
    what the first axis holds, for the printed interval ("sequences", or "trials" of an experiment)."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if a.shape != b.shape or a.ndim not in (1, 2) or a.shape[0] == 0:
        raise DeepTrackError(f"paired_bootstrap needs two score arrays of the same shape (sequences,) or "
                             f"(sequences, seeds); got {a.shape} and {b.shape}")
    if not (np.isfinite(a).all() and np.isfinite(b).all()):
        raise DeepTrackError("paired_bootstrap got a NaN or infinite score: rerun that sequence instead of dropping it")
    if not 0 < level < 1:
        raise DeepTrackError(f"level must be between 0 and 1, got {level}")
    diff = a - b
    if diff.ndim == 2:
        diff = diff.mean(axis=1)
    n = len(diff)
    rng = np.random.default_rng(seed)
    means = diff[rng.integers(0, n, size=(n_boot, n))].mean(axis=1)
    low, high = np.quantile(means, [(1 - level) / 2, (1 + level) / 2])
    return PairedComparison(float(diff.mean()), float(low), float(high), n, level, min_sequences, unit)


__all__ = ["MIN_SEQUENCES", "PairedComparison", "paired_bootstrap"]
