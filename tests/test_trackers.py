import numpy as np
import pytest

from conftest import slow_for

from deeptrack_lite.boxes import iou
from deeptrack_lite.errors import TrackerError
from deeptrack_lite.trackers import Tracker, available_trackers, catalog_names, create_tracker, describe_trackers, track
from deeptrack_lite.trackers import CATALOG, tracker_class
from deeptrack_lite.trackers.catalog import FAMILIES

# the course's one list of its trackers (deeptrack_lite.trackers.catalog), by family
_OPENCV, _BUILT, _SURVEY, _NEXT = ("classic, OpenCV", "classic, built here (01-02)", "deep, the survey's (03-05)",
                                   "where the field went next (07)")
BASELINES = [n for n in catalog_names(_OPENCV) if not n.startswith("cv_")]
CLASSIC = [n for n in catalog_names(_BUILT) if n != "identity"] + [n for n in catalog_names(_OPENCV) if n.startswith("cv_")]
DEEP = catalog_names(_SURVEY) + catalog_names(_NEXT)
ALL = catalog_names()


def test_the_catalog_lists_every_tracker_the_package_registers_once_with_a_family():
    ours = sorted(n for n in available_trackers() if tracker_class(n).__module__.startswith("deeptrack_lite."))
    assert sorted(ALL) == ours and len(set(ALL)) == len(ALL)
    assert {e.family for e in CATALOG} == set(FAMILIES)
    assert all(tracker_class(e.name).__module__ == f"deeptrack_lite.trackers.{e.module}" for e in CATALOG)
    assert BASELINES == ["kcf", "csrt", "mil", "mosse"] and "identity" not in CLASSIC + DEEP


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


@pytest.mark.parametrize("name", slow_for(BASELINES + CLASSIC + DEEP, {"csrt", "fcnt", "mdnet", "mil", "sodlt"}))
def test_trackers_follow_an_easy_target(name, small_sequence):
    if name.startswith("cv_"):  # hue-only trackers: easy means a coloured target on a grey background
        from deeptrack_lite.data import synthetic_sequence

        small_sequence = synthetic_sequence("Hue", n_frames=12, seed=3, speed=1.5, background="camera")
    run = track(name, small_sequence, progress=False)
    assert run.boxes.shape == (len(small_sequence), 4) and run.boxes.dtype == np.float64
    assert run.boxes[0] == pytest.approx(small_sequence.ground_truth[0])
    assert iou(run.boxes, small_sequence.ground_truth).mean() > 0.5
    assert run.fps > 0 and run.device.split(" ")[0] in ("cpu", "cuda", "mps")


def test_every_registered_tracker_is_tested():
    assert set(available_trackers()) - {n for n in available_trackers() if n.startswith("test_")} == set(ALL)


@pytest.mark.parametrize("name", slow_for(ALL, {"dlt", "fcnt", "mdnet"}))
def test_trackers_never_raise_on_hard_frames(name, small_sequence):
    t = create_tracker(name)
    t.init(small_sequence.frame(0), small_sequence.ground_truth[0])
    for frame in (np.zeros_like(small_sequence.frame(0)), np.full_like(small_sequence.frame(0), 255),
                  small_sequence.frame(0)[:, :, 0]):  # black, white, and a grayscale frame
        box = t.update(frame)
        assert box.shape == (4,) and np.all(np.isfinite(box)) and box[2] > 0 and box[3] > 0


@pytest.mark.parametrize("name", slow_for(ALL, {"fcnt", "mdnet"}))
def test_init_box_partly_outside_the_image_is_accepted(name, small_sequence):
    t = create_tracker(name)
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


@pytest.mark.parametrize("name,best", [("template", "max"), ("ivt", "min"), ("discriminative", "max"), ("dlt", "max")])
def test_observation_maps_peak_at_the_target(name, best, small_sequence):
    t = create_tracker(name)
    t.init(small_sequence.frame(0), small_sequence.ground_truth[0])
    xs, ys, values, kind = t.observation_map(small_sequence.frame(0), radius=1.0, step=2)
    assert values.shape == (len(ys), len(xs)) and isinstance(kind, str)
    iy, ix = np.unravel_index(values.argmax() if best == "max" else values.argmin(), values.shape)
    x, y, w, h = small_sequence.ground_truth[0]
    assert abs(xs[ix] - (x + w / 2)) <= 4 and abs(ys[iy] - (y + h / 2)) <= 4


def test_template_match_modes():
    from deeptrack_lite.errors import TrackerError

    with pytest.raises(TrackerError):
        create_tracker("template", match="sad").init(np.zeros((40, 40, 3), np.uint8), [5, 5, 10, 10])
    t = create_tracker("template", match="ssd")
    t.init(np.zeros((40, 40, 3), np.uint8), [5, 5, 10, 10])
    assert "reconstruction error" in t.MAP_KIND


@pytest.mark.parametrize("name", ["particle_filter", "ivt", "dlt"])
def test_particle_trackers_expose_their_particles(name, small_sequence):
    t = create_tracker(name, n_particles=64)
    t.init(small_sequence.frame(0), small_sequence.ground_truth[0])
    t.update(small_sequence.frame(1))
    info = t.last_info
    assert info["particles"].shape == (64, 4) and info["weights"].sum() == pytest.approx(1.0)
    assert 1 <= info["ess"] <= 64


def test_discriminative_classifier_separates_object_from_background(small_sequence):
    t = create_tracker("discriminative")
    frame, box = small_sequence.frame(0), small_sequence.ground_truth[0]
    t.init(frame, box)
    far = np.array([[5, 5, box[2], box[3]]])
    assert float(t.scores(frame, box[None])[0]) > 0.8 > float(t.scores(frame, far)[0])


@pytest.mark.slow
def test_every_tracker_of_the_catalog_has_what_the_course_ships_for_it():
    from deeptrack_lite.course.checklist import missing_for

    gaps = [f"{what}: {how}" for name in ALL for what, how in missing_for(name)]
    assert not gaps, "run these to ship what is missing:\n" + "\n".join(gaps)


class _Newcomer(Tracker):
    """A tracker just written: registered, with a score, but nothing shipped for it yet."""
    SCORE = "a made-up confidence"

    def _init(self, image, box):
        self._box = box

    def _update(self, image):
        self.last_info["score"] = 1.0
        return self._box


def test_a_new_tracker_is_told_what_it_lacks_and_the_command_that_makes_each():
    from deeptrack_lite.course.checklist import PRESENCE_COMMAND, RUNS_COMMAND, missing_for
    from deeptrack_lite.trackers import register_tracker

    register_tracker("test_newcomer")(_Newcomer)
    missing = dict(missing_for("test_newcomer"))
    assert "test_newcomer: no row in the course's list of trackers" in missing
    assert missing["test_newcomer: no presence threshold in deeptrack_lite/trackers/presence.json"] == PRESENCE_COMMAND
    shipped = [how for what, how in missing.items() if "no shipped runs in benchmark-" in what]
    assert shipped == [RUNS_COMMAND] * 4  # the synthetic benchmark's two lengths and the long-term one's two
