"""FCNT: significance by Taylor expansion, feature-map selection, the heat-map networks, the distractor switch,
and the feature-map analysis of notebook 04."""
import numpy as np
import pytest
import torch

from deeptrack_lite.data import synthetic_sequence
from deeptrack_lite.course import fcnt_analysis as analysis
from deeptrack_lite.features import backbone
from deeptrack_lite.errors import DataError
from deeptrack_lite.models.fcnt import (HeatmapNet, SelectionNet, box_mass, conv_hessian_diagonal, fit_heatmap,
                                        gaussian_heatmap, heatmap_loss, map_significance, mass_exponent, select_maps)
from deeptrack_lite.trackers import create_tracker, track
from deeptrack_lite.trackers.fcnt import distractor_score, with_taps


def test_gaussian_heatmap_peaks_at_the_center():
    m = gaussian_heatmap((9, 11), [[3, 6]], [[1.0, 2.0]])
    assert m.shape == (1, 1, 9, 11)
    assert float(m.max()) == pytest.approx(1.0) and np.unravel_index(int(m.argmax()), (9, 11)) == (6, 3)
    assert float(m[0, 0, 8, 3]) > float(m[0, 0, 6, 5])  # two cells off: sigma_y = 2 > sigma_x = 1


@pytest.mark.parametrize("stride", [1, 2])
def test_conv_hessian_diagonal_matches_autograd(stride):
    torch.manual_seed(0)
    conv = torch.nn.Conv2d(2, 1, 3, padding=1, stride=stride)
    f = torch.randn(1, 2, 5, 6)
    m = torch.randn_like(conv(f))
    hess = torch.autograd.functional.hessian(lambda x: ((conv(x) - m) ** 2).sum(), f)
    diag = hess.reshape(f.numel(), f.numel()).diagonal().reshape(f.shape[1:])
    assert torch.allclose(conv_hessian_diagonal(conv, f.shape[1:]), diag, atol=1e-5)


def test_box_mass_sums_the_positive_heat_inside_each_box():
    flat = torch.ones(8, 8)
    # the whole map (cell centres 0..7, edges -0.5..7.5), a 2 x 2 box, a box half outside the map
    assert box_mass(flat, (3.5, 3.5), (8, 8), (1.0,)).tolist() == [64.0]
    assert box_mass(flat, (3.5, 3.5), (2, 2), (1.0, 2.0)).tolist() == [4.0, 16.0]
    assert box_mass(flat, (-0.5, 3.5), (4, 2), (1.0,)).tolist() == [4.0]
    negative = -torch.ones(8, 8)
    assert box_mass(negative, (3.5, 3.5), (4, 4), (1.0,)).tolist() == [0.0]  # only positive heat counts


def test_mass_exponent_makes_the_known_size_the_best_candidate():
    """Calibrated on a map, mass / area^e ranks the box of the known size above a smaller and a larger one;
    a map wider than its target gives a larger exponent (its mass keeps growing with the box)."""
    size = np.array([6.0, 4.0])
    narrow = gaussian_heatmap((28, 28), [[13.5, 14]], [0.2 * size])[0, 0]
    wide = gaussian_heatmap((28, 28), [[13.5, 14]], [0.4 * size])[0, 0]
    e = mass_exponent(narrow, (13.5, 14), size)
    assert 0.05 < e < mass_exponent(wide, (13.5, 14), size) < 0.95
    factors = (1 / 1.2, 1.0, 1.2)
    rank = box_mass(narrow, (13.5, 14), size, factors) / np.array(factors) ** (2 * e)
    assert int(np.argmax(rank)) == 1
    assert mass_exponent(torch.zeros(28, 28), (13.5, 14), size) == 0.95  # no heat: the upper bound, no scale change


def test_fcnt_taps_default_to_the_papers_strides_and_can_be_chosen():
    net = backbone("efficientnet_lite0")
    assert (net.stride("low"), net.stride("high")) == (16, 32)  # the analysis taps of notebook 04
    fine = with_taps(net, "stride8", "stride16")
    assert (fine.stride("low"), fine.stride("high")) == (8, 16) and fine.net is net.net
    with pytest.raises(DataError, match="no layer 'conv4_3'"):
        with_taps(net, "conv4_3", "stride16")
    seq = synthetic_sequence("CatLight", n_frames=3)
    default = create_tracker("fcnt", init_steps=2, select_steps=2)
    default.init(seq.frame(0), seq.ground_truth[0])
    assert default.grid() == 28 and (default.backbone.tap("low").name, default.backbone.tap("high").name) == ("stride8", "stride16")
    coarse = create_tracker("fcnt", taps=("stride16", "stride32"), init_steps=2, select_steps=2)
    coarse.init(seq.frame(0), seq.ground_truth[0])
    assert coarse.grid() == 14
    assert coarse.update(seq.frame(1)).shape == (4,) and coarse.last_info["gnet_map"].shape == (14, 14)


def _informative_features(n_regions=4, channels=12, informative=(2, 7, 9), size=12, seed=0):
    """Feature maps where a few channels carry the target's Gaussian (with different strengths) and the rest
    are noise: the target heat map is a function of the informative channels only."""
    g = torch.Generator().manual_seed(seed)
    centers = torch.randint(3, size - 3, (n_regions, 2), generator=g).float()
    target = gaussian_heatmap((size, size), centers, torch.full((n_regions, 2), 1.5))
    f = torch.randn(n_regions, channels, size, size, generator=g) * 0.5
    for k, c in enumerate(informative):
        f[:, c] = target[:, 0] * (1.5 + k) + 0.1 * torch.randn(n_regions, size, size, generator=g)
    return f, target


def test_significance_ranks_the_informative_maps_first():
    f, target = _informative_features()
    torch.manual_seed(0)
    net = SelectionNet(f.shape[1], dropout=0.2)
    losses = fit_heatmap(net, f, target, 300, lr=3e-3)
    assert losses[-1] < 0.2 * losses[0]
    sig = map_significance(net, f, target)
    assert set(select_maps(sig, 3).tolist()) == {2, 7, 9}
    assert len(select_maps(sig, None)) == f.shape[1] and len(select_maps(sig, 50)) == f.shape[1]


def test_significance_follows_the_loss_change_of_removing_a_map():
    """The Taylor estimate ranks maps like the true change of the loss when each map is set to zero."""
    f, target = _informative_features(channels=10, informative=(1, 4))
    torch.manual_seed(1)
    net = SelectionNet(f.shape[1], dropout=0.0)
    fit_heatmap(net, f, target, 200, lr=3e-3)
    sig = map_significance(net, f, target)
    with torch.no_grad():
        base = float(((net(f) - target) ** 2).sum())
        true = []
        for c in range(f.shape[1]):
            g = f.clone()
            g[:, c] = 0
            true.append(float(((net(g) - target) ** 2).sum()) - base)
    rank = lambda v: np.argsort(np.argsort(np.asarray(v)))
    rho = np.corrcoef(rank(sig.numpy()), rank(true))[0, 1]
    assert rho > 0.8
    assert int(torch.argmax(sig)) == int(np.argmax(true))


def test_heatmap_net_learns_a_heat_map():
    f, target = _informative_features()
    torch.manual_seed(0)
    net = HeatmapNet(f.shape[1], hidden=8)
    losses = fit_heatmap(net, f, target, 150, lr=3e-3)
    assert losses[-1] < 0.1 * losses[0] and not net.training
    with torch.no_grad():
        assert float(heatmap_loss(net(f), target)) == pytest.approx(losses[-1], rel=0.5)


def test_distractor_score_sees_a_second_peak():
    one = gaussian_heatmap((20, 20), [[5, 10]], [[1.2, 1.2]])[0, 0]
    two = gaussian_heatmap((20, 20), [[5, 10], [15, 10]], [[1.2, 1.2]] * 2).sum(dim=0)[0]
    assert distractor_score(one, (5, 10), (6, 6)) < 0.05
    assert distractor_score(two, (5, 10), (6, 6)) == pytest.approx(0.5, abs=0.05)
    assert distractor_score(-one, (5, 10), (6, 6)) == 1.0  # nothing positive: no evidence of the target


@pytest.fixture(scope="module")
def twins():
    """A target with two look-alike copies orbiting it."""
    return synthetic_sequence("Twins", n_frames=14, seed=7, target="face", background="camera", distractors=2)


@pytest.mark.slow
def test_fcnt_switches_to_snet_exactly_when_gnet_shows_a_distractor(twins):
    # GNet's stride-16 maps keep most of their heat on the target here (at most about a tenth outside), so the
    # threshold is low enough for the copies to cross it on a few frames
    tracker = create_tracker("fcnt", distractor_threshold=0.05, update_interval=0, memory=3)
    run = track(tracker, twins, progress=False, keep_info=True)
    infos = run.infos[1:]
    used = [i["used"] for i in infos]
    assert all((u == "snet") == (i["distractor_score"] > 0.05) for u, i in zip(used, infos))
    assert tracker.distractors == [k + 1 for k, u in enumerate(used) if u == "snet"]
    assert "snet" in used  # the copies show up in GNet's map
    # With update_interval=0, SNet is fine-tuned only on confident distractor frames
    assert set(tracker.updates) <= set(tracker.distractors) and tracker.updates
    assert all(i["gnet_map"].shape == i["snet_map"].shape == (tracker.grid(),) * 2 for i in infos)
    # The thresholds at the two ends: never and always
    never = track(create_tracker("fcnt", distractor_threshold=1.0), twins, progress=False, keep_info=True)
    always = track(create_tracker("fcnt", distractor_threshold=-1.0), twins, progress=False, keep_info=True)
    assert {i["used"] for i in never.infos[1:]} == {"gnet"} and {i["used"] for i in always.infos[1:]} == {"snet"}


@pytest.mark.slow
def test_fcnt_keeps_gnet_fixed_and_updates_snet(twins):
    tracker = create_tracker("fcnt", update_interval=3)
    tracker.init(twins.frame(0), twins.ground_truth[0])
    gnet0 = {k: v.clone() for k, v in tracker.gnet.state_dict().items()}
    snet0 = {k: v.clone() for k, v in tracker.snet.state_dict().items()}
    for t in range(1, 7):
        tracker.update(twins.frame(t))
    assert 3 in tracker.updates and 6 in tracker.updates
    assert all(torch.equal(gnet0[k], v) for k, v in tracker.gnet.state_dict().items())
    assert not all(torch.equal(snet0[k], v) for k, v in tracker.snet.state_dict().items())


def test_fcnt_selects_the_requested_number_of_maps(small_sequence):
    tracker = create_tracker("fcnt", select_low=10, select_high=20, init_steps=5, select_steps=5)
    tracker.init(small_sequence.frame(0), small_sequence.ground_truth[0])
    assert len(tracker.sel_low) == 10 and len(tracker.sel_high) == 20
    assert tracker.snet.conv1.in_channels == 10 and tracker.gnet.conv1.in_channels == 20
    sig = tracker.significance["low"]
    assert set(tracker.sel_low.tolist()) == set(torch.argsort(sig, descending=True)[:10].tolist())
    everything = create_tracker("fcnt", select_low=None, select_high=None, init_steps=5, select_steps=5)
    everything.init(small_sequence.frame(0), small_sequence.ground_truth[0])
    assert len(everything.sel_low) == everything.backbone.tap("low").channels == 40  # Lite0's stride-8 stage
    assert len(everything.sel_high) == everything.backbone.tap("high").channels == 112  # and its stride-16 one


@pytest.mark.slow
def test_fcnt_is_reproducible(small_sequence):
    a = track(create_tracker("fcnt"), small_sequence, progress=False).boxes
    b = track(create_tracker("fcnt"), small_sequence, progress=False).boxes
    assert np.array_equal(a, b)


# ---------------------------------------------------------------------------------------------- notebook 04's analysis
def test_target_energy_share_and_noise_maps():
    maps = torch.zeros(3, 10, 10)
    maps[0, 2:4, 2:4] = 1.0          # all on the target
    maps[1] = 1.0                    # uniform: the target's area share
    maps[2, 8:, 8:] = 1.0            # all off the target
    mask = analysis.box_mask((10, 10), 8, (16, 16, 16, 16))  # cells 2..3
    assert int(mask.sum()) == 4
    share = analysis.target_energy_share(maps, mask)
    assert share.tolist() == pytest.approx([1.0, 0.04, 0.0])
    assert analysis.noise_maps(share, 0.04).tolist() == [False, True, True]


def test_coin_instances_and_scene():
    coins = analysis.coin_instances()
    assert len(coins) >= 10 and all(c.shape[2] == 4 and max(c.shape[:2]) == 64 for c in coins)
    frame, boxes = analysis.compose_scene("grass", [(coins[0], (10, 20)), (coins[1], (100, 50))])
    assert frame.shape == (240, 320, 3) and frame.dtype == np.uint8
    assert boxes[1].tolist() == [100, 50, coins[1].shape[1], coins[1].shape[0]]


def test_instance_vs_category_measures_both_layers():
    out = analysis.instance_vs_category(backbone(), n_trials=2, steps=40)
    for layer in ("low", "high"):
        r = out[layer]
        assert r["target"].shape == r["same_category"].shape == r["other_category"].shape == (2,)
        assert r["picks_target"] == np.mean(r["target"] > r["same_category"])  # the share of trials A beats B
        assert np.all(np.isfinite(r["target"])) and r["target"].mean() > 0  # each layer learned a peak on the coin
    assert out["scenes"]["test_boxes"].shape == (3, 4)


def test_box_in_cells_maps_the_roi_onto_the_heatmap_grid():
    t = create_tracker("fcnt")
    t.backbone = with_taps(backbone("efficientnet_lite0"), "stride8", "stride16")  # what init uses; the grid is the low tap's cells on the ROI
    g = t.grid()
    # the whole ROI covers the grid from -0.5 to G - 0.5 (cell centres at integers)
    cells = t.box_in_cells([10, 20, 60, 60], center=(40, 50), side=60)
    assert np.allclose(cells, [-0.5, -0.5, g, g])
    half = t.box_in_cells([40, 50, 30, 30], center=(40, 50), side=60)
    assert np.allclose(half, [g / 2 - 0.5, g / 2 - 0.5, g / 2, g / 2])
