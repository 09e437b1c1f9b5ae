"""Issue 37: a student's exercise function runs inside the real tracker. The reference solution plugged in gives
exactly the shipped benchmark boxes (so the plug-in point is the tracker's own mechanism), and a wrong one
visibly changes them."""
import numpy as np
import pytest

from conftest import slow_for

from deeptrack_lite.course import benchmark_runs as br
from deeptrack_lite.course.exercises import EXERCISES
from deeptrack_lite.course.plug_in import PLUG_POINTS, PlugInError, compare_plugged_in, plugged_in
from deeptrack_lite.data import synthetic_benchmark
from deeptrack_lite.motion import particle_filter
from deeptrack_lite.trackers import create_tracker, track
from instructor import solutions

SEQUENCE = "CupHide"


def _corner_deltas(box, target):  # the classic slip: top-left corners instead of centres
    return np.array([(target[0] - box[0]) / box[2], (target[1] - box[1]) / box[3],
                     np.log(target[2] / box[2]), np.log(target[3] / box[3])])


WRONG = {
    "systematic_resample": lambda w, u: np.arange(len(w)),          # ignores the weights
    "should_update": lambda confidences, threshold: True,           # fine-tunes on every frame
    "hard_negatives": lambda scores, n: np.argsort(scores)[:n],     # the easiest negatives
    "box_deltas": _corner_deltas,
    "correlate": lambda z, x: solutions.correlate(np.ascontiguousarray(z[:, ::-1, ::-1]), x),  # a convolution
}


@pytest.fixture(scope="module")
def shipped():
    runs = br.load_runs(br.shipped_path(20))
    sequence = synthetic_benchmark(n_frames=20)[SEQUENCE]
    return runs["runs"], sequence


def _boxes(tracker, sequence):
    return np.round(track(create_tracker(tracker, device="cpu"), sequence, progress=False).boxes, 3)


def test_every_plug_in_point_has_a_solution_a_check_and_a_wrong_example():
    assert set(PLUG_POINTS) == set(WRONG)
    for name, point in PLUG_POINTS.items():
        assert name in EXERCISES and EXERCISES[name][0] == point.notebook
        assert EXERCISES[name][1](getattr(solutions, name))          # the reference passes its check
        assert not EXERCISES[name][1](WRONG[name])                   # and the wrong one fails it


@pytest.mark.parametrize("name", slow_for(sorted(PLUG_POINTS), {"box_deltas", "hard_negatives", "should_update"}))
def test_the_reference_reproduces_the_shipped_boxes_and_a_wrong_function_changes_them(name, shipped):
    runs, sequence = shipped
    point = PLUG_POINTS[name]
    expected = np.asarray(runs[point.tracker][SEQUENCE]["boxes"])
    with plugged_in(name, getattr(solutions, name)):
        assert np.array_equal(_boxes(point.tracker, sequence), expected)
    with plugged_in(name, WRONG[name]):
        assert not np.array_equal(_boxes(point.tracker, sequence), expected)


def test_the_comparison_says_identical_or_how_far_apart(shipped):
    _, sequence = shipped
    same = compare_plugged_in("systematic_resample", solutions.systematic_resample, sequence, device="cpu")
    assert same.identical and "Every box is the same" in str(same)
    wrong = compare_plugged_in("systematic_resample", WRONG["systematic_resample"], sequence, device="cpu")
    assert not wrong.identical and wrong.first_different_frame >= 1 and "part from frame" in str(wrong)
    assert wrong.max_box_difference > 0


def test_a_failing_or_misshapen_function_is_one_clear_error_and_the_package_function_comes_back(shipped):
    _, sequence = shipped
    original = particle_filter.systematic_resample

    def raises(w, u):
        raise ZeroDivisionError("oops")

    with pytest.raises(PlugInError, match="your systematic_resample raised ZeroDivisionError: oops"):
        compare_plugged_in("systematic_resample", raises, sequence, device="cpu")
    assert particle_filter.systematic_resample is original
    with pytest.raises(PlugInError, match=r"must return N particle indices of shape \(300,\)"):
        with plugged_in("systematic_resample", lambda w, u: np.zeros(3, int)):
            track(create_tracker("particle_filter", device="cpu"), sequence, progress=False)
    assert particle_filter.systematic_resample is original
    with pytest.raises(PlugInError, match="plug in a function"):
        with plugged_in("correlate", 3):
            pass
