"""The OTB metrics against got10k's own metric code (a test-only dependency), not against the package itself.

got10k computes OTB's one-pass evaluation in ``got10k.utils.metrics`` (``rect_iou``, ``center_error``) and
``ExperimentOTB._calc_curves`` (21 IoU thresholds, strictly greater; 51 pixel thresholds, less or equal);
its dataset scores average the per-sequence curves, then take their mean (success) and value at 20 px
(precision). Frames whose target is absent are left out, as got10k's GOT-10k experiment leaves out the
frames whose ``cover`` is 0.
"""
from types import SimpleNamespace

import numpy as np
import pytest

from deeptrack_lite.boxes import iou
from deeptrack_lite.data import Dataset, Sequence
from deeptrack_lite.data.sequence import ArrayFrames
from deeptrack_lite.evaluation import evaluate_ope, precision_curve, success_curve, write_result

got10k_metrics = pytest.importorskip("got10k.utils.metrics")
from got10k.experiments.otb import ExperimentOTB  # noqa: E402

OTB = SimpleNamespace(nbins_iou=21, nbins_ce=51)


def got10k_curves(pred, gt):
    """got10k's success and precision curves of one sequence (absent ground-truth frames removed)."""
    valid = np.all(np.isfinite(gt), axis=1)
    pred, gt = np.array(pred[valid]), np.array(gt[valid])
    ious = got10k_metrics.rect_iou(pred, gt)
    errors = got10k_metrics.center_error(pred, gt)
    return ExperimentOTB._calc_curves(OTB, ious, errors)


def random_case(rng, n=300):
    """Ground truth and predictions of ``n`` frames: random boxes (3 decimals, as result files store them) and
    the edge cases: exact hits, no overlap, zero-size predictions, NaN predictions, absent ground truth."""
    gt = np.round(np.c_[rng.uniform(0, 300, (n, 2)), rng.uniform(1, 120, (n, 2))], 3)
    pred = np.round(gt + np.c_[rng.normal(0, 15, (n, 2)), rng.normal(0, 10, (n, 2))], 3)
    pred[:, 2:] = np.abs(pred[:, 2:])
    kind = rng.integers(0, 8, n)
    pred[kind == 0] = gt[kind == 0]                                        # exact hits
    pred[kind == 1, :2] = gt[kind == 1, :2] + gt[kind == 1, 2:] + 5        # no overlap
    pred[kind == 2, 2] = 0.0                                               # zero width
    pred[kind == 3] = np.nan                                               # the tracker gave no box
    gt[kind == 4] = np.nan                                                 # target absent
    gt[0] = np.round(gt[0], 3)  # frame 0 always has a box
    pred[0] = gt[0]  # OTB scores frame 0, which is the given box
    return pred, gt


def test_identical_boxes_have_iou_exactly_one():
    # (x + w) - x differs from w for these: without clipping each IoU with itself came out just above 1
    boxes = np.array([[64.285, 249.639, 7.081, 189.491], [474.164, 310.942, 95.142, 117.471],
                      [331.421, 137.654, 54.083, 18.775]])
    assert np.all(iou(boxes, boxes) == 1.0)
    assert np.all(success_curve(boxes, boxes)[-1] == 0.0)  # no IoU is > 1


@pytest.mark.parametrize("seed", range(4))
def test_sequence_curves_equal_got10k(seed):
    pred, gt = random_case(np.random.default_rng(seed))
    succ, prec = got10k_curves(pred, gt)
    assert np.max(np.abs(success_curve(pred, gt) - succ)) <= 1e-12
    assert np.max(np.abs(precision_curve(pred, gt) - prec)) <= 1e-12


def test_exact_hits_in_the_last_bin_equal_got10k():
    rng = np.random.default_rng(11)
    gt = np.round(np.c_[rng.uniform(0, 500, (400, 2)), rng.uniform(0.5, 200, (400, 2))], 3)
    succ, _ = got10k_curves(gt.copy(), gt)
    assert np.array_equal(success_curve(gt, gt), succ) and succ[-1] == 0.0


def test_dataset_scores_from_stored_results_equal_got10k(tmp_path):
    rng = np.random.default_rng(5)
    sequences, got_s, got_p = [], [], []
    for k in range(5):
        pred, gt = random_case(rng, n=int(rng.integers(40, 200)))
        frames = ArrayFrames(np.zeros((len(gt), 4, 4, 3), np.uint8))
        seq = Sequence(f"S{k}", frames, gt)
        sequences.append(seq)
        write_result(tmp_path / "t", seq.name, pred)
        s, p = got10k_curves(pred, gt)
        got_s.append(s)
        got_p.append(p)
    report = evaluate_ope(tmp_path, Dataset("random", sequences), trackers=["t"])
    row = report.summary()[0]
    # got10k's report: mean of the per-sequence curves, then the mean (success) and the value at 20 px
    assert abs(row["success_auc"] - np.mean(np.mean(got_s, axis=0))) <= 1e-12
    assert abs(row["precision_20px"] - np.mean(got_p, axis=0)[20]) <= 1e-12
