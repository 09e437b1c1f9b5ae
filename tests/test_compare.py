"""Ablation verdicts come from a paired bootstrap interval over sequences."""
import numpy as np
import pytest

from deeptrack_lite.errors import DeepTrackError
from deeptrack_lite.evaluation import paired_bootstrap


def test_a_consistent_gain_helps_and_a_consistent_loss_hurts():
    base = np.linspace(0.3, 0.7, 10)
    assert paired_bootstrap(base + 0.05, base).verdict == "helps"
    assert paired_bootstrap(base - 0.05, base).verdict == "hurts"


def test_differences_of_both_signs_are_a_tie_even_when_the_mean_is_far_from_zero():
    # a fixed +-0.03 margin would call +0.04 a win; the interval sees gains and losses of 0.3
    diff = np.array([0.34, -0.3, 0.32, -0.28, 0.3, -0.3, 0.3, -0.3])
    c = paired_bootstrap(0.5 + diff, np.full(8, 0.5))
    assert c.mean == pytest.approx(diff.mean()) and c.mean > 0.005
    assert c.low < 0 < c.high and c.verdict == "tie"


def test_the_interval_is_paired_over_sequences():
    # the sequences differ a lot, the settings by a constant: a paired test must see the constant
    rng = np.random.default_rng(0)
    b = rng.uniform(0.1, 0.9, 12)
    c = paired_bootstrap(b + 0.01, b)
    assert c.low == pytest.approx(0.01) and c.high == pytest.approx(0.01) and c.verdict == "helps"


def test_the_interval_matches_the_normal_approximation_for_many_sequences():
    rng = np.random.default_rng(1)
    d = rng.normal(0.02, 0.05, 400)
    c = paired_bootstrap(d, np.zeros_like(d), n_boot=20000)
    half = 1.96 * d.std(ddof=1) / np.sqrt(len(d))
    assert c.low == pytest.approx(d.mean() - half, abs=0.002)
    assert c.high == pytest.approx(d.mean() + half, abs=0.002)


def test_seeds_are_averaged_inside_each_sequence():
    a = np.array([[0.6, 0.8], [0.5, 0.7], [0.4, 0.6], [0.3, 0.5], [0.2, 0.4]])
    b = np.full_like(a, 0.2)
    assert paired_bootstrap(a, b).mean == pytest.approx((a.mean(1) - 0.2).mean())
    assert paired_bootstrap(a, b).n_sequences == 5


def test_too_few_sequences_are_not_decided():
    c = paired_bootstrap([0.9, 0.8], [0.1, 0.2])
    assert c.verdict == "too few sequences" and "2 sequences" in str(c)


def test_reproducible_and_bad_input_is_refused():
    a, b = np.random.default_rng(2).random((2, 9))
    assert paired_bootstrap(a, b) == paired_bootstrap(a, b)
    with pytest.raises(DeepTrackError, match="same shape"):
        paired_bootstrap([0.1, 0.2], [0.1])
    with pytest.raises(DeepTrackError, match="NaN"):
        paired_bootstrap([0.1, np.nan, 0.3, 0.4, 0.5], [0.1] * 5)
    with pytest.raises(DeepTrackError, match="level"):
        paired_bootstrap(a, b, level=95)
