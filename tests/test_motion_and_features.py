"""Particle filter, mean shift / CamShift, crops, samplers and hand-crafted features."""
import numpy as np
import pytest
import torch

from deeptrack_lite.boxes import iou
from deeptrack_lite.crops import crop_and_resize
from deeptrack_lite.features import (bhattacharyya, color_histograms, gaussian_samples, hog_features,
                                     positive_and_negative_samples, samples_in_iou_range, translation_grid,
                                     uniform_samples, whole_image_samples)
from deeptrack_lite.models import IncrementalPCA
from deeptrack_lite.motion import ParticleFilter, effective_sample_size, systematic_resample
from deeptrack_lite.motion import meanshift as ms


# ------------------------------------------------------------------ particle filter
def test_systematic_resampling_counts():
    w = torch.tensor([0.5, 0.25, 0.125, 0.125], dtype=torch.float64)
    for seed in range(20):
        idx = systematic_resample(w, torch.Generator().manual_seed(seed))
        counts = torch.bincount(idx, minlength=4).numpy()
        assert np.all(np.abs(counts - 4 * w.numpy()) < 1)  # each particle kept floor or ceil of N w_i times


def test_effective_sample_size_limits():
    assert effective_sample_size(torch.ones(10)) == pytest.approx(10)
    assert effective_sample_size(torch.tensor([1.0, 0, 0, 0])) == pytest.approx(1)


def test_particle_filter_finds_a_likelihood_peak():
    pf = ParticleFilter(500, translation_noise=0.3, scale_noise=0.0, seed=1)
    pf.init([90, 90, 20, 20])  # center (100, 100); the truth is at (112, 100)
    for _ in range(15):
        pf.step(lambda b: -(((b[:, 0] + b[:, 2] / 2) - 112) ** 2 + ((b[:, 1] + b[:, 3] / 2) - 100) ** 2) / 8.0)
    x, y, w, h = pf.estimate()
    assert abs(x + w / 2 - 112) < 2 and abs(y + h / 2 - 100) < 2
    assert all("ess" in h for h in pf.history)


def test_resampling_happens_below_the_threshold_only():
    pf = ParticleFilter(100, seed=0, resample_threshold=0.5)
    pf.init([0, 0, 10, 10])
    pf.weigh(likelihood=torch.ones(100))
    assert not pf.resample()  # all equal: ESS = N
    lik = torch.zeros(100, dtype=torch.float64)
    lik[:3] = 1
    pf.weigh(likelihood=lik)
    assert pf.ess() < 50 and pf.resample()
    assert pf.ess() == pytest.approx(100)


def test_particle_filter_is_reproducible_and_scales():
    def run(seed):
        pf = ParticleFilter(50, scale_noise=0.1, seed=seed)
        pf.init([10, 10, 20, 10])
        pf.predict()
        return pf.boxes()
    assert torch.equal(run(3), run(3)) and not torch.equal(run(3), run(4))
    b = run(3)
    assert torch.allclose(b[:, 2] / b[:, 3], torch.full((50,), 2.0, dtype=torch.float64))  # aspect kept


def test_weigh_survives_impossible_observations():
    pf = ParticleFilter(10)
    pf.init([0, 0, 5, 5])
    pf.weigh(log_likelihood=torch.full((10,), -torch.inf))
    assert torch.allclose(pf.weights, torch.full((10,), 0.1, dtype=torch.float64))


# ------------------------------------------------------------------ mean shift and CamShift
def blob_image(cx, cy, r=10, size=(120, 100)):
    img = np.full((size[1], size[0], 3), (40, 120, 40), np.uint8)
    yy, xx = np.mgrid[0:size[1], 0:size[0]]
    img[(xx - cx) ** 2 + (yy - cy) ** 2 <= r ** 2] = (220, 40, 40)
    img[(xx - cx) ** 2 + (yy - cy) ** 2 <= (r / 2) ** 2] = (240, 200, 30)
    return img


def test_mean_shift_climbs_to_the_target():
    q = ms.target_model(blob_image(50, 50), [40, 40, 20, 20], bins=8)
    res = ms.mean_shift(blob_image(58, 55), [40, 40, 20, 20], q, bins=8)
    x, y, w, h = res.box
    assert abs(x + w / 2 - 58) < 1.5 and abs(y + h / 2 - 55) < 1.5
    assert len(res.path) == res.iterations + 1 and res.rho > 0.9


def test_a_plain_mean_shift_step_can_lower_rho_and_step_halving_prevents_it():
    # the step climbs a linearised rho; on this real frame a full step lowers the true rho (found by search)
    import deeptrack_lite as dtl

    seq = dtl.data.synthetic_benchmark(n_frames=20, names=["CoinTiny"])["CoinTiny"]
    q = ms.target_model(seq.frame(0), seq.ground_truth[0], 16)
    start = seq.ground_truth[3] + np.array([6, -4, 0, 0])
    plain = ms.mean_shift(seq.frame(4), start, q, bins=16, halve_steps=False)
    assert np.diff(plain.rhos).min() < -0.02
    halved = ms.mean_shift(seq.frame(4), start, q, bins=16)
    assert (np.diff(halved.rhos) >= 0).all() and sum(halved.halvings) >= 1
    assert halved.rho >= plain.rhos[int(np.argmin(np.diff(plain.rhos))) + 1]
    assert len(halved.rhos) == len(halved.path) == len(halved.halvings) + 1


def test_bhattacharyya_surface_peaks_at_the_target():
    img = blob_image(60, 50)
    q = ms.target_model(img, [50, 40, 20, 20], bins=8)
    xs, ys, rho = ms.bhattacharyya_surface(img, [50, 40, 20, 20], q, bins=8, step=2)
    iy, ix = np.unravel_index(np.argmax(rho), rho.shape)
    assert abs(xs[ix] - 60) <= 2 and abs(ys[iy] - 50) <= 2


def test_camshift_adapts_the_size():
    small = blob_image(60, 50, r=8)
    q = ms.target_model(small, [52, 42, 16, 16], bins=8)
    background = ms.target_model(small, [0, 0, 120, 100], bins=8) + 1e-4
    big = blob_image(60, 50, r=16)
    box = np.array([52.0, 42, 16, 16])
    for _ in range(6):
        box, rotated, mass = ms.camshift_step(ms.back_projection(big, q, background, bins=8), box)
    assert box[2] > 24 and box[3] > 24 and mass > 0


# ------------------------------------------------------------------ crops, samplers, features
def test_crop_and_resize_matches_the_pixels():
    img = np.random.default_rng(0).integers(0, 255, (40, 60, 3), dtype=np.uint8)
    crops = crop_and_resize(img, [[10, 5, 8, 6], [0, 0, 60, 40]], (6, 8))
    assert crops.shape == (2, 3, 6, 8)
    np.testing.assert_allclose(crops[0].permute(1, 2, 0).numpy() * 255, img[5:11, 10:18], atol=1e-3)
    out = crop_and_resize(img, [[-10, -10, 20, 20]], 4, padding="zeros")
    assert float(out[0, :, 0, 0].abs().sum()) == 0  # outside the image


def test_samplers_respect_iou_ranges():
    rng = np.random.default_rng(0)
    box = np.array([50, 40, 30, 20.0])
    pos, neg = positive_and_negative_samples(box, rng, (200, 150), n_pos=30, n_neg=60)
    assert len(pos) == 30 and np.all(iou(pos, box) >= 0.7)
    assert len(neg) == 60 and np.all(iou(neg, box) <= 0.3)
    inside = whole_image_samples(box, 50, rng, (200, 150))
    assert np.all(inside[:, 0] >= -1e-9) and np.all(inside[:, 0] + inside[:, 2] <= 200 + 1e-9)
    g1 = gaussian_samples(box, 10, np.random.default_rng(5))
    assert np.array_equal(g1, gaussian_samples(box, 10, np.random.default_rng(5)))
    mid = samples_in_iou_range(uniform_samples, box, 20, (0.4, 0.6), rng=rng, trans=0.5)
    assert np.all((iou(mid, box) >= 0.4) & (iou(mid, box) <= 0.6))
    xs, ys, grid = translation_grid(box, (200, 150), radius=1.0, step=5)
    assert grid.shape == (len(xs) * len(ys), 4) and np.all(grid[:, 2] == 30)


def test_impossible_iou_range_fails_fast_with_a_clear_error():
    import time

    from deeptrack_lite.errors import BoxError

    start = time.perf_counter()
    with pytest.raises(BoxError, match="IoU in"):  # a box mostly outside: in-image samples cannot reach 0.7
        samples_in_iou_range(gaussian_samples, np.array([190, 40, 30, 20.0]), 20, (0.7, 1.0), rng=np.random.default_rng(0),
                             image_size=(200, 150))
    assert time.perf_counter() - start < 5  # bounded batches, not 2**20 samples


def test_training_samples_come_from_the_visible_part_of_the_box():
    from deeptrack_lite.boxes import clip_box
    from deeptrack_lite.features import visible_training_samples

    rng = np.random.default_rng(1)
    box = np.array([180, 40, 40, 20.0])  # half outside a 200 x 150 image
    pos, neg = visible_training_samples(box, rng, (200, 150), n_pos=20, n_neg=40)
    visible = clip_box(box, (150, 200))
    assert np.all(iou(pos, visible) >= 0.7) and np.all(iou(neg, visible) <= 0.3)
    assert visible_training_samples(np.array([250, 40, 40, 20.0]), rng, (200, 150)) is None


def test_colour_histograms_and_bhattacharyya():
    rng = np.random.default_rng(0)
    patches = rng.integers(0, 255, (3, 10, 12, 3), dtype=np.uint8)
    h = color_histograms(patches, bins=4)
    assert h.shape == (3, 64) and np.allclose(h.sum(axis=1), 1)
    assert bhattacharyya(h[0], h[0]) == pytest.approx(1.0)
    assert bhattacharyya(h[0], h[1]) < 1.0


def test_hog_features_see_edges_not_brightness():
    patches = torch.zeros(2, 3, 32, 32)
    patches[:, :, :, 16:] = 0.8  # a vertical edge
    f = hog_features(patches)
    assert f.shape == (2, 8 * 8 * 9)
    brighter = hog_features(patches * 0.5 + 0.2)
    assert torch.allclose(f, brighter, atol=1e-3)  # normalised cells: contrast changes little
    rotated = hog_features(patches.transpose(2, 3))
    assert not torch.allclose(f, rotated, atol=1e-2)


# ------------------------------------------------------------------ incremental PCA
def test_incremental_pca_matches_batch_pca_without_forgetting():
    rng = np.random.default_rng(0)
    basis = np.linalg.qr(rng.normal(size=(20, 3)))[0]
    data = torch.tensor(rng.normal(size=(40, 3)) @ basis.T * 3 + 1.0, dtype=torch.float32)
    ipca = IncrementalPCA(20, n_components=3, forgetting=1.0)
    for chunk in data.split(5):
        ipca.update(chunk)
    assert torch.allclose(ipca.mean, data.mean(0), atol=1e-4)
    u = torch.linalg.svd((data - data.mean(0)).T, full_matrices=False)[0][:, :3]
    assert torch.allclose(ipca.basis @ ipca.basis.T, u @ u.T, atol=1e-3)
    assert float(ipca.reconstruction_error(data).max()) < 1e-6
    assert float(ipca.reconstruction_error(torch.randn(5, 20) * 3).min()) > 0.1


def test_box_legend_uses_the_colours_draw_boxes_draws():
    from deeptrack_lite import viz

    frame = np.zeros((60, 60, 3), np.uint8)
    labels = ["ground truth", "top-5 mean", "regressed"]
    img = viz.draw_boxes(frame, {l: [10 + 12 * i, 10, 8, 8] for i, l in enumerate(labels)}, legend=False, thickness=1)
    for i, handle in enumerate(viz.box_legend(labels)):
        drawn = img[10, 10 + 12 * i + 4]  # a pixel on the top edge of box i
        assert handle.get_label() == labels[i]
        assert np.allclose(np.array(handle.get_color()) * 255, drawn, atol=1)
