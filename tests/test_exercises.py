"""The exercise checks accept right answers and explain the usual wrong ones, without raising."""
import numpy as np

from deeptrack_lite import exercises as ex


def test_box_center_check():
    assert ex.check_box_center(lambda b: (b[0] + (b[2] - 1) / 2, b[1] + (b[3] - 1) / 2)).passed
    r = ex.check_box_center(lambda b: (b[0] + b[2] / 2, b[1] + b[3] / 2))
    assert not r and "(w - 1)/2" in str(r)
    assert "bottom-right" in str(ex.check_box_center(lambda b: (b[0] + b[2], b[1] + b[3])))

    def unfinished(b):
        raise NotImplementedError

    assert "not implemented" in str(ex.check_box_center(unfinished))
    assert "raised ZeroDivisionError" in str(ex.check_box_center(lambda b: 1 / 0))
    assert "None" in str(ex.check_box_center(lambda b: None))


def test_precision_check():
    assert ex.check_precision_at(lambda e, t: np.mean(e <= t)).passed
    assert "<=" in str(ex.check_precision_at(lambda e, t: np.mean(e < t)))
    assert "count" in str(ex.check_precision_at(lambda e, t: np.sum(e <= t)))
    assert "lost frame" in str(ex.check_precision_at(lambda e, t: np.mean(e[np.isfinite(e)] <= t)))
    assert "<b>" in ex.check_precision_at(lambda e, t: 0.0)._repr_html_()


def test_success_curve_check():
    assert ex.check_success_curve(lambda o, t: (o[None] > t[:, None]).mean(1)).passed
    assert "strictly" in str(ex.check_success_curve(lambda o, t: (o[None] >= t[:, None]).mean(1)))
    assert "counts" in str(ex.check_success_curve(lambda o, t: (o[None] > t[:, None]).sum(1)))


def test_dataset_auc_check():
    t = np.linspace(0, 1, 21)
    right = lambda seqs: np.mean(np.mean([(o[None] > t[:, None]).mean(1) for o in seqs], axis=0))
    pooled = lambda seqs: np.mean((np.concatenate(seqs)[None] > t[:, None]).mean(1))
    assert ex.check_dataset_auc(right).passed
    assert "pooled" in str(ex.check_dataset_auc(pooled))
