"""MDNet: samplers, RoIAlign geometry, multi-domain training, hard negatives, box regression, the tracker."""
import json

import numpy as np
import pytest
import torch

from deeptrack_lite.boxes import iou
from deeptrack_lite.data import Dataset, synthetic_sequence
from deeptrack_lite.errors import DataError
from deeptrack_lite.models.box_regression import RidgeBoxRegressor, apply_deltas, box_deltas
from deeptrack_lite.models.mdnet import (MDNet, RegionFeatures, load_mdnet, mdnet_provenance, region_box,
                                         region_features, region_pixels, window_boxes)
from deeptrack_lite.trackers import create_tracker, track
from deeptrack_lite.training.mdnet import (MDNetTrainConfig, domain_samples, make_optimizer, read_training_log,
                                           train_mdnet, training_step)
from deeptrack_lite.online import SampleMemory, hard_negative_mining, train_binary_classifier


@pytest.fixture(scope="module")
def domains():
    return Dataset("toy", [synthetic_sequence("A", n_frames=10, seed=1, target="cup"),
                           synthetic_sequence("B", n_frames=10, seed=2, target="coin", background="brick"),
                           synthetic_sequence("C", n_frames=10, seed=3, target="logo", background="grass")])


TINY = dict(frames_per_batch=2, batch_pos=8, batch_neg=24)


# ---------------------------------------------------------------------------------------------- samplers
@pytest.mark.parametrize("box", [(100, 80, 40, 30), (2, 3, 30, 50), (280, 200, 38, 38), (150, 100, 12, 9)])
def test_training_samples_keep_their_iou_guarantees(box):
    rng = np.random.default_rng(0)
    config = MDNetTrainConfig()
    pos, neg = domain_samples(np.array(box, float), rng, (320, 240), 64, 192, config)
    assert pos.shape == (64, 4) and neg.shape == (192, 4)
    assert iou(pos, np.array(box, float)).min() >= 0.7
    assert iou(neg, np.array(box, float)).max() <= 0.5
    for b in (pos, neg):  # inside the image, never degenerate
        assert (b[:, 2] >= 4).all() and (b[:, 3] >= 4).all()
        cx, cy = b[:, 0] + b[:, 2] / 2, b[:, 1] + b[:, 3] / 2
        assert (cx >= 0).all() and (cx <= 320).all() and (cy >= 0).all() and (cy <= 240).all()


def test_impossible_iou_range_is_refused():
    with pytest.raises(DataError, match="below"):
        MDNetTrainConfig(pos_iou=(0.5, 1.0), neg_iou=(0.0, 0.6)).validate()


# ---------------------------------------------------------------------------------------------- geometry
def test_window_features_read_the_right_place_of_the_map():
    """A map whose two channels hold each cell's own x and y (region pixels): RoIAlign of a window must
    return the bin centres of that window."""
    pixels, stride = 64, 16
    cells = (torch.arange(pixels // stride, dtype=torch.float32) + 0.5) * stride
    maps = torch.stack([cells.view(1, -1).expand(4, 4), cells.view(-1, 1).expand(4, 4)]).unsqueeze(0)
    region = np.array([100.0, 50.0, 128.0, 128.0])          # 2 image pixels per region pixel
    feats = RegionFeatures(maps, region, pixels, roi_size=2)
    side = 64.0 / (107 / 75)                                 # a box whose 107/75 window is 64 pixels wide...
    box = np.array([[164.0 - side / 2, 114.0 - side / 2, side, side]])  # ...centred on (164, 114): x 132..196, y 82..146
    win = window_boxes(box)[0]
    assert win == pytest.approx([132.0, 82.0, 64.0, 64.0])
    out = feats.window_features(box, sampling=2)[0]
    # bins of the window in region pixels: x from (132 - 100) / 2 = 16 to 48, y from 16 to 48
    assert out[0].numpy() == pytest.approx(np.array([[24.0, 40.0]] * 2), abs=1e-4)
    assert out[1].numpy() == pytest.approx(np.array([[24.0, 24.0], [40.0, 40.0]]), abs=1e-4)


def _roi_align_by_grid_sample(maps, region, roi, win, sampling):
    """RoIAlign as grid_sample computes it (the separable implementation's reference)."""
    win = torch.as_tensor(win, dtype=torch.float32)
    rx, ry, rw, rh = (float(v) for v in region)
    x0, y0 = (win[:, 0] - rx) / rw * 2 - 1, (win[:, 1] - ry) / rh * 2 - 1
    sx, sy = win[:, 2] / rw * 2, win[:, 3] / rh * 2
    k = roi * sampling
    t = (torch.arange(k, dtype=torch.float32) + 0.5) / k
    gx, gy = x0[:, None] + sx[:, None] * t, y0[:, None] + sy[:, None] * t
    grid = torch.stack([gx[:, None, :].expand(-1, k, -1), gy[:, :, None].expand(-1, -1, k)], dim=-1)
    n = len(win)
    out = torch.nn.functional.grid_sample(maps, grid.reshape(1, n * k, k, 2), mode="bilinear", padding_mode="zeros",
                                          align_corners=False)
    return torch.nn.functional.avg_pool2d(out.reshape(maps.shape[1], n, k, k).permute(1, 0, 2, 3), sampling)


@pytest.mark.parametrize("sampling", [1, 2, 3])
def test_separable_roi_align_equals_grid_sample_with_gradients(sampling):
    """The matrix-product RoIAlign gives grid_sample's numbers and gradients, windows half outside included."""
    gen = torch.Generator().manual_seed(0)
    maps = torch.randn(1, 7, 12, 10, generator=gen, requires_grad=True)
    region = np.array([20.0, 10.0, 100.0, 120.0])
    rng = np.random.default_rng(0)
    boxes = np.column_stack([rng.uniform(-10, 110, 40), rng.uniform(-10, 120, 40), rng.uniform(5, 60, 40),
                             rng.uniform(5, 60, 40)])
    feats = RegionFeatures(maps, region, 96, roi_size=3)
    ours = feats.window_features(boxes, sampling=sampling, chunk=16)
    ref = _roi_align_by_grid_sample(maps, region, 3, window_boxes(boxes), sampling)
    assert ours.shape == (40, 7, 3, 3)
    assert torch.allclose(ours, ref, atol=1e-5)
    weights = torch.randn(ours.shape, generator=gen)
    g_ours, = torch.autograd.grad((ours * weights).sum(), maps)
    g_ref, = torch.autograd.grad((ref * weights).sum(), maps)
    assert torch.allclose(g_ours, g_ref, atol=1e-5)


def test_region_shows_the_box_at_mdnet_crop_scale():
    box = np.array([40.0, 30.0, 20.0, 60.0])
    r = region_box(box, 5.0)
    pixels = region_pixels(5.0)
    assert pixels % 16 == 0 and pixels >= 5 * 75
    assert box[2] * pixels / r[2] == pytest.approx(75.0) and box[3] * pixels / r[3] == pytest.approx(75.0)
    assert r[0] + r[2] / 2 == pytest.approx(50.0) and r[1] + r[3] / 2 == pytest.approx(60.0)


# ---------------------------------------------------------------------------------------------- training
def _snapshot(net):
    return {k: v.detach().clone() for k, v in net.state_dict().items()}


def test_training_updates_only_the_chosen_branch_and_the_shared_layers(domains):
    config = MDNetTrainConfig(**TINY)
    torch.manual_seed(0)
    net = config.network(len(domains))
    opt = make_optimizer(net, config)
    rng = np.random.default_rng(0)
    training_step(net, opt, domains[0], [0, 1], 0, rng, config)  # every branch's Adam state exists after...
    before = _snapshot(net)
    training_step(net, opt, domains[1], [2, 5], 1, rng, config)  # ...and this step must still leave 0 and 2 alone
    after = _snapshot(net)
    changed = {k for k in before if not torch.equal(before[k], after[k])}
    assert {"branches.1.1.weight", "branches.1.1.bias", "fc4.1.weight", "fc5.1.weight"} <= changed
    assert not any(k.startswith(("branches.0.", "branches.2.")) for k in changed)
    assert not any(k.startswith("stem.") for k in changed)
    frozen = tuple(f"blocks.{i}." for i in range(net.frozen_blocks))
    assert not any(k.startswith(frozen) for k in changed)
    trained = f"blocks.{net.frozen_blocks}."
    assert any(k.startswith(trained) and k.endswith("weight") and "_bn" not in k for k in changed)
    assert not any("running_" in k for k in changed)  # BatchNorm keeps ImageNet's statistics


def test_single_domain_training_has_one_branch(domains):
    net = MDNetTrainConfig(single_domain=True).network(len(domains))
    assert len(net.branches) == 1


@pytest.mark.slow
def test_training_writes_logs_and_resumes_to_the_same_weights(domains, tmp_path):
    config = MDNetTrainConfig(cycles=2, **TINY)
    straight = train_mdnet(domains, config, tmp_path / "a", device="cpu", progress=False)
    partial = train_mdnet(domains, config, tmp_path / "b", device="cpu", progress=False, stop_after=1)
    assert partial.provenance == {} and (tmp_path / "b" / "mdnet_checkpoint.pt").is_file()
    resumed = train_mdnet(domains, config, tmp_path / "b", device="cpu", progress=False)
    for k, v in straight.model.state_dict().items():
        assert torch.equal(v, resumed.model.state_dict()[k]), k
    log = read_training_log(tmp_path / "b" / "mdnet_log.csv")
    assert len(log) == 6 and {r["domain"] for r in log} == {"A", "B", "C"}
    assert [r["cycle"] for r in log] == [1, 1, 1, 2, 2, 2]
    assert all(0 <= r["accuracy"] <= 1 and r["loss"] > 0 for r in log)
    prov = json.loads((tmp_path / "b" / "mdnet.json").read_text())
    assert prov["domains"] == ["A", "B", "C"] and prov["seed"] == 0 and prov["final_accuracy"] is not None
    assert not (tmp_path / "b" / "mdnet_checkpoint.pt").exists()
    loaded = load_mdnet(tmp_path / "b" / "mdnet.pt")
    assert len(loaded.branches) == 3
    w = resumed.model.fc4[1].weight.detach()
    assert torch.allclose(loaded.fc4[1].weight, w, atol=2e-3 * float(w.abs().max()))  # float16 storage


def test_resuming_with_other_settings_is_refused(domains, tmp_path):
    train_mdnet(domains, MDNetTrainConfig(cycles=2, **TINY), tmp_path, device="cpu", progress=False, stop_after=1)
    with pytest.raises(DataError, match="other settings"):
        train_mdnet(domains, MDNetTrainConfig(cycles=2, seed=5, **TINY), tmp_path, device="cpu", progress=False)


def test_damaged_or_missing_weights_are_clear_errors(tmp_path):
    with pytest.raises(DataError, match="train-mdnet"):
        load_mdnet(tmp_path / "none.pt")
    (tmp_path / "bad.pt").write_bytes(b"not a checkpoint")
    with pytest.raises(DataError, match="cannot load"):
        load_mdnet(tmp_path / "bad.pt")


def test_shipped_weights_carry_their_provenance():
    prov = mdnet_provenance()
    assert prov["command"].startswith("python -m deeptrack_lite train-mdnet")
    assert prov["seed"] == 0 and "synthetic" in prov["data"] and len(prov["domains"]) == 14
    assert prov["final_accuracy"] > 0.8
    net = load_mdnet(n_domains=1)
    assert len(net.branches) == 1


# ---------------------------------------------------------------------------------------------- hard negatives
def test_hard_negative_mining_picks_the_highest_scores():
    neg = torch.randn(100, 3)
    score = lambda x: x[:, 0] * 2 + x[:, 1]  # noqa: E731
    idx = hard_negative_mining(score, neg, 10)
    s = score(neg)
    assert set(idx.tolist()) == set(torch.topk(s, 10).indices.tolist())
    assert float(s[idx].min()) >= float(torch.sort(s, descending=True).values[9]) - 1e-6


def test_training_with_mining_sees_only_the_hardest_negatives_of_each_pool():
    torch.manual_seed(0)
    pos, neg = torch.randn(20, 4) + 2, torch.randn(500, 4)
    model = torch.nn.Linear(4, 1)
    seen = []

    def forward(x):
        seen.append(x.detach().clone())
        return model(x)

    def score(x):
        return model(x)

    opt = torch.optim.SGD(model.parameters(), lr=0.0)  # lr 0: the scores stay those of the initial model
    gen = torch.Generator().manual_seed(1)
    train_binary_classifier(forward, opt, pos, neg, 3, batch_pos=4, batch_neg=8, generator=gen,
                            hard_negative_pool=64, score=score)
    with torch.no_grad():
        threshold = torch.sort(model(neg).reshape(-1), descending=True).values[200]
    for x in seen:
        negs = x[4:]
        assert len(negs) == 8
        with torch.no_grad():  # the 8 kept of 64 random draws are far above the median of all negatives
            assert (model(negs).reshape(-1) >= threshold).all()


def test_sample_memory_gives_recent_frames():
    m = SampleMemory(frames=5, neg_frames=2)
    for i in range(6):
        m.add(torch.full((2, 1), float(i)), torch.full((3, 1), float(i)))
    assert m.positives().reshape(-1).tolist() == [1, 1, 2, 2, 3, 3, 4, 4, 5, 5]
    assert m.positives(last=2).reshape(-1).tolist() == [4, 4, 5, 5]
    assert m.negatives().reshape(-1).tolist() == [4] * 3 + [5] * 3
    assert m.positives() is m.positives()  # joined once per add: runs of updates reuse the concatenation
    m.add(torch.full((2, 1), 6.0), torch.full((3, 1), 6.0))
    assert m.positives(last=1).reshape(-1).tolist() == [6, 6]  # ...and an add makes it anew
    assert m.negatives().reshape(-1).tolist() == [5] * 3 + [6] * 3


# ---------------------------------------------------------------------------------------------- box regression
def test_box_deltas_round_trip():
    rng = np.random.default_rng(0)
    p = np.c_[rng.uniform(0, 100, (20, 2)), rng.uniform(15, 50, (20, 2))]
    g = np.array([40.0, 30.0, 25.0, 35.0])
    assert apply_deltas(p, box_deltas(p, g)) == pytest.approx(np.tile(g, (20, 1)))
    # a regressor is never trusted with more than a factor e in size
    assert apply_deltas([0, 0, 10, 10], [0, 0, 3.0, -3.0])[0, 2:] == pytest.approx([10 * np.e, 10 / np.e])


def test_box_regression_improves_iou_on_a_synthetic_frame():
    """Fitted on the first frame's conv features, the regressor moves shifted and rescaled boxes of a later
    frame towards the target."""
    from deeptrack_lite.features.sampling import gaussian_samples, samples_in_iou_range

    seq = synthetic_sequence("Reg", n_frames=8, seed=4, target="cup", background="grass", speed=1.0)
    torch.manual_seed(0)
    net = MDNet(1).eval()
    rng = np.random.default_rng(0)
    gt0, gt5 = seq.ground_truth[0], seq.ground_truth[5]
    train = samples_in_iou_range(gaussian_samples, gt0, 600, (0.6, 1.0), rng=rng, trans=0.15, scale=1.5, aspect=1.1,
                                 image_size=(320, 240))
    with torch.no_grad():
        f0 = region_features(net, seq.frame(0), gt0).window_features(train).flatten(1)
        reg = RidgeBoxRegressor(1000.0).fit(f0, train, gt0)
        test = samples_in_iou_range(gaussian_samples, gt5, 200, (0.5, 0.8), rng=rng, trans=0.15, scale=1.5,
                                    aspect=1.1, image_size=(320, 240))
        f5 = region_features(net, seq.frame(5), gt5 + np.r_[rng.normal(0, 3, 2), 0, 0]).window_features(test).flatten(1)
    before, after = iou(test, gt5), iou(reg.predict(f5, test), gt5)
    assert after.mean() > before.mean() + 0.05
    assert (after > before).mean() > 0.7


# ---------------------------------------------------------------------------------------------- the tracker
def test_mdnet_starts_a_new_branch_and_keeps_the_conv_layers_fixed(small_sequence):
    t = create_tracker("mdnet", init_steps=5, n_neg_init=400, n_bbreg=200)
    t.init(small_sequence.frame(0), small_sequence.ground_truth[0])
    shipped = load_mdnet(n_domains=1)
    assert len(t.net.branches) == 1
    assert torch.equal(t.net.blocks[-1]._project_conv.weight, shipped.blocks[-1]._project_conv.weight)
    assert not torch.equal(t.net.fc4[1].weight, shipped.fc4[1].weight)  # fine-tuned on the first frame
    assert not any(p.requires_grad for p in t.net.blocks.parameters())


def test_failures_trigger_short_term_updates_and_a_wider_search(small_sequence):
    t = create_tracker("mdnet", init_steps=5, n_neg_init=400, n_bbreg=200, update_steps=2, success_threshold=1e9)
    t.init(small_sequence.frame(0), small_sequence.ground_truth[0])
    trans = []
    for i in range(1, 6):
        t.update(small_sequence.frame(i))
        trans.append(t.last_info["search_trans"])
        assert not t.last_info["success"] and t.last_info["update"] == "short"
        assert t.last_info["box_after_regression"] is t.last_info["box_before_regression"]
    assert trans == sorted(trans) and trans[-1] == pytest.approx(min(0.3 * 1.1 ** 5, 0.75))
    assert [kind for _, kind in t.schedule] == ["short"] * 5


def test_confident_frames_get_long_term_updates_at_the_interval_and_regression(small_sequence):
    t = create_tracker("mdnet", init_steps=5, n_neg_init=400, n_bbreg=200, update_steps=2, success_threshold=-1e9,
                       update_interval=3)
    run = track(t, small_sequence, progress=False, keep_info=True)
    assert t.schedule == [(3, "long"), (6, "long"), (9, "long")]
    info = run.infos[4]
    assert info["success"] and info["collected"]
    assert not np.allclose(info["box_after_regression"], info["box_before_regression"])
    assert info["scores"].shape == (256,) and len(info["top"]) == 5


def test_mdnet_without_regression_reports_the_candidates_mean(small_sequence):
    t = create_tracker("mdnet", init_steps=5, n_neg_init=400, bbox_regression=False)
    t.init(small_sequence.frame(0), small_sequence.ground_truth[0])
    box = t.update(small_sequence.frame(1))
    assert box == pytest.approx(t.last_info["candidates"][t.last_info["top"]].mean(axis=0))


def test_mdnet_is_reproducible(small_sequence):
    runs = [track(create_tracker("mdnet", init_steps=10, n_neg_init=400), small_sequence.subsequence(0, 5),
                  progress=False).boxes for _ in range(2)]
    assert np.array_equal(runs[0], runs[1])


# ---------------------------------------------------------------------------------------------- data and command
def test_benchmark_variants_are_other_draws_of_the_same_scenarios():
    from deeptrack_lite.data import synthetic_benchmark

    a = synthetic_benchmark(n_frames=5, names=["CatLight"])[0]
    b = synthetic_benchmark(n_frames=5, names=["CatLight"], variant=1)[0]
    assert b.name == "CatLight-v1" and b.attributes == a.attributes
    assert not np.allclose(a.ground_truth, b.ground_truth)
    with pytest.raises(DataError, match="variant"):
        synthetic_benchmark(variant=-1)


@pytest.mark.slow
def test_train_mdnet_command_records_itself(tmp_path, capsys):
    from deeptrack_lite.cli import main

    args = ["train-mdnet", "--out", str(tmp_path), "--frames", "12", "--cycles", "1", "--frames-per-batch", "2",
            "--batch-pos", "8", "--batch-neg", "24", "--seed", "3"]
    assert main(args) == 0
    prov = json.loads((tmp_path / "mdnet.json").read_text())
    assert prov["command"] == "python -m deeptrack_lite " + " ".join(args)
    assert prov["config"]["seed"] == 3 and prov["config"]["batch_pos"] == 8 and len(prov["domains"]) == 14
    assert "variant 1" in prov["data"]
    assert len(read_training_log(tmp_path / "mdnet_log.csv")) == 14
    assert main(["train-mdnet", "--out", str(tmp_path / "x"), "--domains", str(tmp_path / "missing")]) == 2
    assert "error:" in capsys.readouterr().err
