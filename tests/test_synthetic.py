"""The synthetic sequences: deterministic, and each attribute knob does what OTB's definition says."""
import cv2
import numpy as np
import pytest

from deeptrack_lite.data import ATTRIBUTES, synthetic_benchmark, synthetic_sequence
from deeptrack_lite.errors import DataError

N = 40


def seq(**knobs):
    knobs.setdefault("n_frames", N)
    knobs.setdefault("seed", 5)
    return synthetic_sequence("T", **knobs)


def region(s, i, box=None):
    x, y, w, h = np.round(s.ground_truth[i] if box is None else box).astype(int)
    return s.frame(i)[y:y + h, x:x + w].astype(np.float64)


def test_same_seed_same_sequence_other_seed_differs():
    a, b, c = seq(seed=1), seq(seed=1), seq(seed=2)
    assert np.array_equal(a.ground_truth, b.ground_truth)
    assert np.array_equal(a.frame(7), b.frame(7))
    assert not np.array_equal(a.ground_truth, c.ground_truth)


def test_boxes_lie_inside_the_frame_and_frames_are_rgb():
    s = seq(out_of_view=1.0, scale_variation=1.0)
    w, h = s.frame_size
    gt = s.ground_truth
    assert np.all(gt[:, 0] >= 0) and np.all(gt[:, 1] >= 0)
    assert np.all(gt[:, 0] + gt[:, 2] <= w) and np.all(gt[:, 1] + gt[:, 3] <= h)
    f = s.frame(0)
    assert f.dtype == np.uint8 and f.shape == (h, w, 3)


def test_ground_truth_matches_the_rendered_target():
    s = seq(noise=0.0)
    alpha = s._target_layer(10)[..., 3]
    ys, xs = np.nonzero(alpha > 0.5)
    assert s.ground_truth[10].tolist() == [xs.min(), ys.min(), xs.max() - xs.min() + 1, ys.max() - ys.min() + 1]


def test_tags_follow_knobs():
    s = seq(illumination=0.5, distractors=1, low_resolution=0.3)
    assert s.attributes == {"IV", "DIS", "LR"}
    assert seq().attributes == frozenset()


def test_illumination_changes_target_brightness():
    on, off = seq(illumination=1.0), seq()
    spread = lambda s: np.std([region(s, i).mean() for i in range(0, N, 2)])
    assert spread(on) > 3 * spread(off)


def test_scale_variation_exceeds_otb_threshold():
    s = seq(scale_variation=1.0, n_frames=60)
    ratio = np.sqrt(s.ground_truth[:, 2] * s.ground_truth[:, 3] / (s.ground_truth[0, 2] * s.ground_truth[0, 3]))
    assert ratio.max() > 2 or ratio.min() < 0.5  # OTB: outside [1/ts, ts] with ts = 2


def test_occlusion_covers_the_target():
    on, off = seq(occlusion=1.0), seq()
    assert np.array_equal(on.ground_truth, off.ground_truth)  # same path, only the occluders differ
    diffs = [np.abs(region(on, i) - region(off, i)).mean() for i in range(N)]
    assert max(diffs) > 40 and np.median(diffs) < 5


def test_deformation_changes_the_shape():
    aspect = lambda s: s.ground_truth[:, 2] / s.ground_truth[:, 3]
    assert np.std(aspect(seq(deformation=1.0))) > 3 * np.std(aspect(seq())) + 0.02


def test_motion_blur_removes_detail_on_the_target():
    sharp = lambda s: np.mean([cv2.Laplacian(region(s, i), cv2.CV_64F).var() for i in range(5, N, 5)])
    assert sharp(seq(motion_blur=1.0, speed=4.0, noise=0)) < 0.6 * sharp(seq(speed=4.0, noise=0))


def test_fast_motion_exceeds_otb_threshold():
    def max_step(s):
        c = s.ground_truth[:, :2] + s.ground_truth[:, 2:] / 2
        return np.linalg.norm(np.diff(c, axis=0), axis=1).max()
    assert max_step(seq(fast_motion=1.0)) > 20 > max_step(seq())  # OTB: tm = 20 pixels


def test_in_plane_rotation_turns_the_target():
    s = seq(in_plane_rotation=1.0)
    assert np.ptp(s.angle) > np.pi
    assert np.ptp(seq().angle) == 0


def test_out_of_plane_rotation_narrows_and_shows_the_other_side():
    s = seq(out_of_plane_rotation=1.0)
    widths = s.ground_truth[:, 2]
    assert widths.min() < 0.6 * widths[0]
    assert np.any(np.cos(s.opr) < 0)  # the back side is shown on some frames


def test_out_of_view_leaves_the_frame_partly():
    s = seq(out_of_view=1.0, n_frames=60)
    w, h = s.frame_size
    gt = s.ground_truth
    at_border = (gt[:, 0] <= 0) | (gt[:, 1] <= 0) | (gt[:, 0] + gt[:, 2] >= w) | (gt[:, 1] + gt[:, 3] >= h)
    assert at_border.any()
    full = np.median(gt[:, 2] * gt[:, 3])
    assert (gt[:, 2] * gt[:, 3]).min() < 0.6 * full
    assert s.target_visible.all()  # never entirely gone


def test_background_clutter_makes_surroundings_look_like_the_target():
    def distance(s):  # Bhattacharyya distance of colour histograms: target pixels vs its surroundings
        hist = lambda im, m: cv2.normalize(cv2.calcHist([im], [0, 1, 2], m, [8, 8, 8], [0, 256] * 3), None).ravel()
        scores = []
        for i in range(0, N, 8):
            f = s.frame(i)
            target = (s._target_layer(i)[..., 3] > 0.5).astype(np.uint8) * 255
            x, y, w, h = s.ground_truth[i].astype(int)
            ring = np.zeros_like(target)
            ring[max(0, y - h):y + 2 * h, max(0, x - w):x + 2 * w] = 255
            ring[y:y + h, x:x + w] = 0
            scores.append(cv2.compareHist(hist(f, target), hist(f, ring), cv2.HISTCMP_BHATTACHARYYA))
        return np.mean(scores)
    assert distance(seq(background_clutter=1.0, background="moon")) < distance(seq(background="moon")) - 0.1


def test_low_resolution_meets_otb_definition():
    s = seq(low_resolution=1.0)
    assert np.all(s.ground_truth[:, 2] * s.ground_truth[:, 3] < 400)  # OTB: fewer than 400 pixels


def test_distractors_look_like_the_target():
    def peaks(s, i=20):
        x, y, w, h = s.ground_truth[0].astype(int)
        template = s.frame(0)[y:y + h, x:x + w]
        response = cv2.matchTemplate(s.frame(i), template, cv2.TM_CCOEFF_NORMED)
        strong = response > 0.5
        n, _ = cv2.connectedComponents(strong.astype(np.uint8))
        return n - 1
    assert peaks(seq(distractors=2, background="moon")) >= 3
    assert peaks(seq(background="moon")) == 1


def test_distractor_boxes_sit_on_copies_of_the_target():
    s = seq(distractors=2, background="moon")
    i = 20
    x, y, w, h = s.ground_truth[0].astype(int)
    template = s.frame(0)[y:y + h, x:x + w]
    response = cv2.matchTemplate(s.frame(i), template, cv2.TM_CCOEFF_NORMED)
    boxes = s.distractor_boxes(i)
    assert boxes.shape == (2, 4) and np.allclose(boxes[:, 2:], s.ground_truth[i, 2:])
    for bx, by, _, _ in boxes:  # the template matches strongly where each distractor box starts
        ix, iy = int(round(bx)), int(round(by))
        window = response[max(iy - 3, 0):iy + 4, max(ix - 3, 0):ix + 4]
        assert window.size and window.max() > 0.5
    assert seq(background="moon").distractor_boxes(i).shape == (0, 4)


@pytest.mark.parametrize("bad", [dict(illumination=1.5), dict(distractors=1.5), dict(target="dragon"),
                                 dict(frame_size=(10, 10)), dict(n_frames=1), dict(colour=3)])
def test_bad_knobs_are_clear_errors(bad):
    with pytest.raises(DataError):
        seq(**bad)


def test_default_benchmark_covers_every_attribute_twice():
    ds = synthetic_benchmark(n_frames=4)
    assert len(ds) >= 12
    table = ds.attribute_table()
    for tag in ATTRIBUTES:
        assert len(table[tag]) >= 2, tag


def test_fast_mode_shortens_the_benchmark(monkeypatch):
    from deeptrack_lite.data import benchmark_frames

    monkeypatch.setenv("DEEPTRACK_FAST", "1")
    assert benchmark_frames() == 40
    monkeypatch.setenv("DEEPTRACK_FAST", "0")
    assert benchmark_frames() == 150


def test_visible_fraction_follows_the_occluders():
    from deeptrack_lite.data import synthetic_sequence

    hidden = synthetic_sequence("occluded", occlusion=0.9, n_frames=60, seed=103)
    fractions = np.array([hidden.visible_fraction(t) for t in range(len(hidden))])
    assert fractions.max() == pytest.approx(1.0) and fractions.min() < 0.2 and np.all((0 <= fractions) & (fractions <= 1))
    clear = synthetic_sequence("clear", n_frames=20, seed=103)
    assert all(clear.visible_fraction(t) == pytest.approx(1.0) for t in range(len(clear)))
