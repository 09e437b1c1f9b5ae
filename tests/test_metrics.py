import numpy as np
import pytest

from deeptrack_lite.evaluation import metrics as m


def test_identical_boxes_score_perfectly():
    gt = np.array([[10, 10, 20, 20], [12, 10, 20, 20.0]])
    assert m.success_curve(gt, gt)[:-1] == pytest.approx(np.ones(20))
    assert m.success_curve(gt, gt)[-1] == 0.0  # IoU 1 is not > 1: strictly greater
    assert m.success_auc(m.success_curve(gt, gt)) == pytest.approx(20 / 21)
    assert m.precision_curve(gt, gt) == pytest.approx(np.ones(51))


def test_non_overlapping_boxes():
    gt = np.array([[0, 0, 10, 10.0]])
    pred = np.array([[100, 0, 10, 10.0]])
    assert m.overlap(pred, gt) == pytest.approx([0.0])
    assert m.success_curve(pred, gt) == pytest.approx(np.zeros(21))
    assert m.center_error(pred, gt) == pytest.approx([100.0])
    curve = m.precision_curve(pred, gt)
    assert curve[50] == 0.0


def test_hand_computed_curves():
    gt = np.array([[0, 0, 10, 10.0]] * 4)
    pred = np.array([[0, 0, 10, 10], [5, 0, 10, 10], [20, 0, 10, 10], [3, 4, 10, 10.0]])
    # IoUs: 1, 1/3, 0, (7*6)/(200-42)
    ious = m.overlap(pred, gt)
    assert ious == pytest.approx([1, 1 / 3, 0, 42 / 158])
    s = m.success_curve(pred, gt)
    assert s[0] == pytest.approx(3 / 4)  # IoU > 0
    assert s[6] == pytest.approx(2 / 4)  # IoU > 0.3
    assert s[10] == pytest.approx(1 / 4)  # IoU > 0.5
    err = m.center_error(pred, gt)
    assert err == pytest.approx([0, 5, 20, 5])
    p = m.precision_curve(pred, gt)
    assert p[4] == pytest.approx(1 / 4) and p[5] == pytest.approx(3 / 4)  # <= is inclusive
    assert m.precision_at(p, 20) == pytest.approx(1.0)


def test_zero_area_prediction_is_a_miss_for_success():
    gt = np.array([[0, 0, 10, 10.0]])
    pred = np.array([[0, 0, 0, 0.0]])
    assert m.overlap(pred, gt) == pytest.approx([0.0])
    assert m.success_curve(pred, gt)[0] == 0.0


def test_absent_ground_truth_frames_are_left_out_and_missing_predictions_miss():
    gt = np.array([[0, 0, 10, 10], [np.nan] * 4, [0, 0, 10, 10.0]])
    pred = np.array([[0, 0, 10, 10], [50, 50, 5, 5], [np.nan] * 4])
    assert len(m.overlap(pred, gt)) == 2
    assert m.center_error(pred, gt)[1] == np.inf
    assert m.success_curve(pred, gt)[0] == pytest.approx(0.5)


def test_normalized_precision_uses_target_size():
    gt = np.array([[0, 0, 100, 10.0]])
    pred = np.array([[10, 0, 100, 10.0]])  # 10 px off = 0.1 of the width
    curve = m.normalized_precision_curve(pred, gt)
    assert curve[9] == 0.0 and curve[10] == 1.0


def test_length_mismatch_is_a_clear_error():
    from deeptrack_lite.errors import BoxError

    with pytest.raises(BoxError, match="one per frame"):
        m.success_curve(np.zeros((3, 4)), np.ones((2, 4)))
