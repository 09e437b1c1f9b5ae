"""The helpers the notebooks used to define themselves: a run and its score, a study's settings on a few sequences,
the ROC AUC, and how smooth learned filters are."""
import matplotlib

matplotlib.use("Agg")

import numpy as np
import pytest

from deeptrack_lite.course import live_study, live_study_table, run_and_score
from deeptrack_lite.course.representation import neighbour_correlation
from deeptrack_lite.data import synthetic_benchmark
from deeptrack_lite.errors import DataError, DeepTrackError
from deeptrack_lite.evaluation import roc_auc, sequence_auc, success_auc, success_curve
from deeptrack_lite.trackers import create_tracker, track
from deeptrack_lite.viz import filter_grid


@pytest.fixture(scope="module")
def bench():
    return synthetic_benchmark(n_frames=12, names=["CatLight", "CoinDash"])


def test_sequence_auc_is_the_success_curve_s_mean():
    rng = np.random.default_rng(0)
    gt = rng.uniform(10, 50, (30, 4))
    pred = gt + rng.normal(0, 4, gt.shape)
    assert sequence_auc(pred, gt) == success_auc(success_curve(pred, gt))
    assert sequence_auc(gt, gt) == pytest.approx(20 / 21)   # IoU 1 is above every threshold but 1 itself


def test_run_and_score_equals_the_loop_it_replaces(bench):
    seq = bench["CatLight"]
    tracker, run, auc = run_and_score("kcf", seq, n_frames=8, keep_info=True)
    by_hand = track(create_tracker("kcf"), seq.subsequence(0, 8), progress=False)
    assert np.array_equal(run.boxes, by_hand.boxes) and auc == sequence_auc(by_hand.boxes, seq.ground_truth[:8])
    assert len(run.infos) == 8 and tracker.name == "kcf"
    given = create_tracker("template", match="ncc")
    assert run_and_score(given, seq).tracker is given


@pytest.mark.slow
def test_live_study_runs_every_setting_on_every_sequence(bench):
    result = live_study({"kcf": ("kcf", {}), "still": ("identity", {})}, list(bench), n_frames=10)
    assert result["sequences"] == ["CatLight", "CoinDash"] and result["frames"] == 10
    assert result["aucs"]["kcf"] == [run_and_score("kcf", s, n_frames=10).auc for s in bench]
    assert all(f > 0 for f in result["fps"].values())
    table = live_study_table(result).splitlines()
    assert len(table) == 3 and table[0].split()[-2:] == ["mean", "FPS"] and table[2].startswith("still")


def test_roc_auc_by_hand():
    assert roc_auc([3, 4], [1, 2]) == 1.0 and roc_auc([1, 2], [3, 4]) == 0.0
    assert roc_auc([1, 3], [2, 2]) == 0.5 and roc_auc([2], [2]) == 0.5   # one above, one below; a tie counts half
    with pytest.raises(DataError):
        roc_auc([], [1.0])


def test_smooth_filters_correlate_with_their_neighbours_and_noise_does_not():
    rng = np.random.default_rng(0)
    x = np.linspace(0, np.pi, 16)
    smooth = np.stack([np.sin(f * x)[None, :] * np.cos(f * x)[:, None] for f in (1, 2, 3)])
    noise = rng.normal(size=(64, 16, 16))
    assert neighbour_correlation(smooth) > 0.8 and abs(neighbour_correlation(noise)) < 0.05
    with pytest.raises(DeepTrackError):
        neighbour_correlation(rng.normal(size=(4, 16)))


def test_filter_grid_shows_the_strongest_filters_first():
    filters = np.zeros((5, 4, 4))
    for k in range(5):
        filters[k, 0, 0] = k + 1            # filter 4 is the strongest
    fig = filter_grid(filters, "test", n=3, columns=3)
    images = [ax.images[0].get_array() for ax in fig.axes if ax.images]
    assert len(images) == 3 and [float(np.max(i)) for i in images] == [5.0, 4.0, 3.0]
