import numpy as np
import pytest

from deeptrack_lite.boxes import iou
from deeptrack_lite.errors import TrackerError
from deeptrack_lite.trackers import Tracker, available_trackers, create_tracker, describe_trackers, track

BASELINES = ["kcf", "csrt", "mil", "mosse"]


def test_registry_lists_the_baselines():
    names = available_trackers()
    assert set(BASELINES + ["identity"]) <= set(names)
    assert all(n == n.lower() for n in names)
    assert all(describe_trackers()[n] for n in names)


def test_unknown_tracker_and_parameter_are_clear_errors():
    with pytest.raises(TrackerError, match="available"):
        create_tracker("nope")
    with pytest.raises(TrackerError, match="unknown parameter"):
        create_tracker("kcf", detect_treshold=0.1)
    with pytest.raises(TrackerError, match="init"):
        create_tracker("identity").update(np.zeros((10, 10, 3), np.uint8))


def test_names_are_case_insensitive_and_params_reach_opencv():
    t = create_tracker("KCF", interp_factor=0.02)
    assert t.name == "kcf" and t.params["detect_thresh"] == 0.0 and t.params["interp_factor"] == 0.02
    assert "detect_thresh" in t.help()


@pytest.mark.parametrize("name", BASELINES)
def test_baselines_follow_an_easy_target(name, small_sequence):
    run = track(name, small_sequence, progress=False)
    assert run.boxes.shape == (len(small_sequence), 4) and run.boxes.dtype == np.float64
    assert run.boxes[0] == pytest.approx(small_sequence.ground_truth[0])
    assert iou(run.boxes, small_sequence.ground_truth).mean() > 0.5
    assert run.fps > 0 and run.device.startswith("cpu") or run.device.startswith("cuda")


@pytest.mark.parametrize("name", BASELINES + ["identity"])
def test_trackers_never_raise_on_hard_frames(name, small_sequence):
    t = create_tracker(name)
    t.init(small_sequence.frame(0), small_sequence.ground_truth[0])
    for frame in (np.zeros_like(small_sequence.frame(0)), np.full_like(small_sequence.frame(0), 255),
                  small_sequence.frame(0)[:, :, 0]):  # black, white, and a grayscale frame
        box = t.update(frame)
        assert box.shape == (4,) and np.all(np.isfinite(box)) and box[2] > 0 and box[3] > 0


def test_init_box_partly_outside_the_image_is_accepted(small_sequence):
    t = create_tracker("kcf")
    x, y, w, h = small_sequence.ground_truth[0]
    t.init(small_sequence.frame(0), [-w / 2, y, w, h])
    assert t.update(small_sequence.frame(1)).shape == (4,)


def test_identity_tracker_returns_the_initial_box(small_sequence):
    run = track("identity", small_sequence, progress=False)
    assert np.all(run.boxes == small_sequence.ground_truth[0])


def test_invalid_output_falls_back_to_the_last_box():
    class Broken(Tracker):
        name = "broken"

        def _init(self, image, box):
            pass

        def _update(self, image):
            return [np.nan, 0, 0, 0]

    t = Broken()
    img = np.zeros((20, 20, 3), np.uint8)
    t.init(img, [1, 1, 5, 5])
    assert t.update(img).tolist() == [1, 1, 5, 5] and "fallback" in t.last_info


def test_tracking_run_times_and_fps(small_sequence):
    run = track("identity", small_sequence, progress=False, keep_info=True)
    assert len(run.times) == len(small_sequence) and np.all(run.times >= 0)
    assert run.fps == pytest.approx(len(run.times) / run.times.sum())
    assert len(run.infos) == len(small_sequence)
