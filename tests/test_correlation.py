"""Correlation: SiamFC's cross-correlation layer and HCF's closed-form correlation filter, checked against
explicit computations; the HCF tracker on the protocol."""
import numpy as np
import pytest
import torch

from deeptrack_lite.models.correlation import CorrelationFilter, cosine_window, cross_correlation, gaussian_response
from deeptrack_lite.trackers import create_tracker, track
from deeptrack_lite.trackers.hcf import subcell_peak


def test_cross_correlation_is_a_sliding_window_dot_product():
    g = torch.Generator().manual_seed(0)
    z = torch.randn(2, 3, 4, 5, generator=g)
    x = torch.randn(2, 3, 9, 8, generator=g)
    out = cross_correlation(z, x)
    assert out.shape == (2, 1, 6, 4)
    for n in range(2):
        for i in range(6):
            for j in range(4):
                assert float(out[n, 0, i, j]) == pytest.approx(float((z[n] * x[n, :, i:i + 4, j:j + 5]).sum()), abs=1e-4)
    pyramid = cross_correlation(z[:1], x)  # one exemplar over a batch of search regions
    assert torch.allclose(pyramid[0], out[0], atol=1e-5)
    with pytest.raises(ValueError):
        cross_correlation(torch.randn(3, 3, 4, 4), x)


def test_windows_and_labels():
    w = cosine_window(8, 10)
    assert w.shape == (8, 10) and float(w.max()) <= 1 and float(w[0, 0]) < 0.05 and torch.allclose(w, w.flip(0))
    y = gaussian_response(16, 16, 2.0)
    assert float(y[0, 0]) == 1.0 and torch.allclose(y[1, 0], y[-1, 0]) and float(y[8, 8]) < 1e-6


def test_filter_finds_a_shifted_copy_of_its_training_patch():
    g = torch.Generator().manual_seed(1)
    x = torch.randn(5, 32, 32, generator=g)
    f = CorrelationFilter(sigma=1.5, lam=1e-4).fit(x)
    r = f.respond(x)
    assert np.unravel_index(int(torch.argmax(r)), r.shape) == (0, 0)   # the training patch: the peak at (0, 0)
    assert float(r[0, 0]) == pytest.approx(1.0, abs=0.05)              # ... with the desired value
    for dy, dx in [(3, -5), (-7, 2), (0, 9)]:
        shifted = torch.roll(x, shifts=(dy, dx), dims=(1, 2))
        py, px, value = subcell_peak(f.respond(shifted))
        assert (round(py), round(px)) == (dy, dx) and value > 0.9
    # learning from a second patch moves the filter only by the rate
    other = torch.randn(5, 32, 32, generator=g)
    before = f.numerator.clone()
    f.update(other, 0.0)
    assert torch.allclose(f.numerator, before)
    f.update(other, 1.0)
    assert torch.allclose(f.numerator, CorrelationFilter(1.5).fit(other).numerator)


def test_subcell_peak_refines_between_cells():
    ys, xs = torch.meshgrid(torch.arange(16.0), torch.arange(16.0), indexing="ij")
    r = torch.exp(-((ys - 3.3) ** 2 + (xs - 14.6) ** 2) / 4)  # peak at (3.3, -1.4) once wrapped
    dy, dx, v = subcell_peak(r)
    assert dy == pytest.approx(3.3, abs=0.1) and dx == pytest.approx(14.6 - 16, abs=0.1)


def test_hcf_follows_a_moving_target(small_sequence):
    run = track(create_tracker("hcf"), small_sequence, progress=False)
    from deeptrack_lite.evaluation import overlap
    assert np.mean(overlap(run.boxes, small_sequence.ground_truth)) > 0.6
    t = create_tracker("hcf", layers=("stride16",), layer_weights=(1.0,))
    t.init(small_sequence.frame(0), small_sequence.ground_truth[0])
    t.update(small_sequence.frame(1))
    assert set(t.last_info["layer_responses"]) == {"stride16"} and t.last_info["response"].shape == (32, 32)


def test_hcf_settings_that_cannot_work_are_clear_errors(small_sequence):
    from deeptrack_lite.errors import TrackerError

    with pytest.raises(TrackerError, match="layers"):
        create_tracker("hcf", layers=("stride4", "conv9"), layer_weights=(1, 1)).init(small_sequence.frame(0),
                                                                                      small_sequence.ground_truth[0])
    with pytest.raises(TrackerError, match="one weight each"):
        create_tracker("hcf", layer_weights=(1.0,)).init(small_sequence.frame(0), small_sequence.ground_truth[0])


def test_the_spatial_filter_is_what_the_response_correlates_with():
    """respond(z) equals the channel sum of the circular cross-correlation of z with spatial_filter()."""
    torch.manual_seed(0)
    x, z = torch.rand(3, 12, 10), torch.rand(3, 12, 10)
    f = CorrelationFilter(sigma=1.5).fit(x)
    h = f.spatial_filter()
    assert h.shape == x.shape
    explicit = torch.zeros(12, 10)
    for dy in range(12):
        for dx in range(10):
            explicit[dy, dx] = (torch.roll(z, shifts=(-dy, -dx), dims=(1, 2)) * h).sum()
    assert torch.allclose(f.respond(z), explicit, atol=1e-5)
