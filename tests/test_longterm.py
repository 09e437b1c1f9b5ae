"""Long-term measures (tracking precision, recall, F-score) on constructed cases, computed by hand."""
import math

import numpy as np
import pytest

from deeptrack_lite.evaluation.longterm import long_term_scores, presence_thresholds, tracking_precision_recall


def test_thresholds_are_the_scores_with_infinities_at_both_ends():
    t = presence_thresholds([0.2, 0.9, float("nan"), 0.5])
    assert t[0] == math.inf and t[-1] == -math.inf and t[1:-1].tolist() == [0.9, 0.5, 0.2]
    assert len(presence_thresholds(np.linspace(0, 1, 1000), resolution=10)) == 10


def test_precision_and_recall_by_hand():
    # frames 0-3 visible (overlaps 0.8, 0.6, 0.4, 0.2), frames 4-5 absent (overlap 0)
    overlaps = [0.8, 0.6, 0.4, 0.2, 0.0, 0.0]
    scores = [0.9, 0.8, 0.3, 0.2, 0.85, 0.1]
    visible = [1, 1, 1, 1, 0, 0]
    pr, re = tracking_precision_recall(overlaps, scores, visible, [math.inf, 0.8, 0.25, -math.inf])
    assert pr[0] == 1.0 and re[0] == 0.0  # nothing called present
    assert pr[1] == pytest.approx((0.8 + 0.6 + 0.0) / 3) and re[1] == pytest.approx((0.8 + 0.6) / 4)
    assert pr[2] == pytest.approx((0.8 + 0.6 + 0.4 + 0.0) / 4) and re[2] == pytest.approx(1.8 / 4)
    assert pr[3] == pytest.approx(2.0 / 6) and re[3] == pytest.approx(2.0 / 4)


def test_f_score_rewards_a_tracker_that_says_absent_when_the_target_is_gone():
    overlaps = np.array([0.7] * 8 + [0.0] * 8)
    visible = np.array([1] * 8 + [0] * 8)
    honest = np.array([0.9] * 8 + [0.1] * 8)       # low confidence exactly when the target is absent
    oblivious = np.full(16, 0.9)                   # always sure
    h = long_term_scores([(overlaps, honest, visible)])
    o = long_term_scores([(overlaps, oblivious, visible)])
    assert h.f_score == pytest.approx(0.7) and h.best_threshold == pytest.approx(0.9)
    assert o.f_score == pytest.approx(2 * 0.35 * 0.7 / (0.35 + 0.7))  # Pr = 0.35 (half the frames), Re = 0.7
    assert h.to_dict()["recall"] == pytest.approx(0.7)
