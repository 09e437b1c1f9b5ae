"""Presence: every tracker with a natural confidence reports last_info["score"] and ["present"], thresholds come from
the shipped calibration, runs keep the scores, and the long-term measures read them."""
import json
import math

import numpy as np
import pytest

from conftest import slow_for

from deeptrack_lite.cli import main as cli
from deeptrack_lite.data import long_term_benchmark, synthetic_benchmark, synthetic_sequence
from deeptrack_lite.errors import AnnotationError, DataError, TrackerError
from deeptrack_lite.evaluation import run_ope
from deeptrack_lite.evaluation.longterm import (calibrate_presence, evaluate_presence, long_term_scores, presence_at,
                                                presence_frames, presence_sequences)
from deeptrack_lite.evaluation.results import read_result, write_result
from deeptrack_lite.trackers import available_trackers, create_tracker, track, tracker_class
from deeptrack_lite.trackers.presence import PRESENCE_FILE, calibrated_thresholds, is_present, presence_threshold

SCORED = [n for n in available_trackers() if tracker_class(n).SCORE and not n.startswith("test")]
NO_SCORE = {"identity", "recurrent"}  # no natural confidence: they never say "absent"


def test_every_tracker_but_the_test_doubles_has_a_score():
    assert {n for n in available_trackers() if not n.startswith("test")} - set(SCORED) == NO_SCORE
    assert all(len(tracker_class(n).SCORE) > 20 for n in SCORED)  # says what the score is


@pytest.mark.parametrize("name", ["template", "kcf", "meanshift", "cv_camshift", "ivt"])
def test_score_and_decision_on_every_update(name, small_sequence):
    t = create_tracker(name)
    run = track(t, small_sequence.subsequence(0, 4), progress=False)
    assert math.isnan(run.scores[0]) and np.isfinite(run.scores[1:]).all()
    assert t.last_info["present"] == (t.last_info["score"] >= t.presence_threshold)
    assert run.present[1:].tolist() == [bool(s >= t.presence_threshold) for s in run.scores[1:]]


def test_a_tracker_without_a_score_never_says_absent(small_sequence):
    t = create_tracker("identity")
    run = track(t, small_sequence.subsequence(0, 3), progress=False)
    assert np.isnan(run.scores).all() and run.present.all() and t.presence_threshold is None
    assert "never says 'absent'" in t.help()


def test_thresholds_come_from_the_shipped_calibration_and_can_be_given():
    table = calibrated_thresholds()
    record = json.loads(PRESENCE_FILE.read_text())
    assert set(table) == set(SCORED) and "calibrate-presence" in record["provenance"]["command"]
    for name in SCORED:
        expected = -math.inf if table[name] is None else table[name]
        assert create_tracker(name).presence_threshold == expected
        assert "presence score" in tracker_class(name).help()
    assert create_tracker("template", presence_threshold=0.9).presence_threshold == 0.9
    with pytest.raises(TrackerError, match="presence_threshold"):
        create_tracker("template", presence_threshold="high")
    assert presence_threshold("no-such-tracker", default=0.25, path=PRESENCE_FILE) == 0.25
    assert not is_present(float("nan"), 0.0) and is_present(0.0, 0.0) and not is_present(-0.1, 0.0)


def test_a_broken_calibration_file_is_a_clear_error(tmp_path):
    bad = tmp_path / "presence.json"
    bad.write_text("{not json")
    with pytest.raises(DataError, match="calibrate-presence"):
        calibrated_thresholds(bad)


def test_long_term_sequences_leave_the_view_and_come_back():
    ds = long_term_benchmark(n_frames=40)
    assert len(ds) == 4 and all("OV" in s.attributes for s in ds)
    for s in ds:
        visible = s.target_visible
        absent = np.nonzero(~visible)[0]
        assert visible[0] and visible[-1] and 4 <= len(absent) <= 20
        assert np.all(np.diff(absent) == 1)  # one stretch away
        assert s.frame(int(absent[0])).shape == s.frame(0).shape
    other = long_term_benchmark(n_frames=40, variant=1)
    assert other[0].name == "ShuttleGone-v1" and not np.array_equal(other[0].ground_truth, ds[0].ground_truth,
                                                                     equal_nan=True)
    assert synthetic_sequence("x", n_frames=40, absence=1.0, seed=3).attributes == {"OV"}
    # the knob is new: the benchmark's sequences are what they were (no absent frame anywhere)
    assert all(s.target_visible.all() for s in synthetic_benchmark(n_frames=40))


def test_presence_frames_by_hand():
    gt = np.array([[0, 0, 10, 10], [0, 0, 10, 10], [np.nan] * 4, [0, 0, 10, 10]], dtype=float)
    boxes = np.array([[0, 0, 10, 10], [0, 0, 10, 5], [0, 0, 10, 10], [20, 20, 5, 5]], dtype=float)
    scores = [np.nan, 0.9, 0.2, 0.4]
    # Lukezic et al.'s plain IoU on frames 1..3 (frame 0 is the given box)
    ov, s, vis = presence_frames(boxes, scores, gt, definition="lukezic")
    assert ov.tolist() == [0.5, 0.0, 0.0] and s.tolist() == [0.9, 0.2, 0.4] and vis.tolist() == [True, False, True]
    ov, s, _ = presence_frames(boxes, None, gt, definition="lukezic")
    assert s.tolist() == [1.0, 1.0, 1.0]
    # at 0.3 frames 1 and 3 are called present: Pr = (0.5 + 0) / 2, Re = 0.5 / 2 visible frames
    at = presence_at([presence_frames(boxes, scores, gt, definition="lukezic")], 0.3)
    assert at["precision"] == pytest.approx(0.25) and at["recall"] == pytest.approx(0.25)
    assert at["f_score"] == pytest.approx(0.25)
    everything = presence_at([presence_frames(boxes, scores, gt, definition="lukezic")], None)
    assert everything["precision"] == pytest.approx(0.5 / 3) and everything["recall"] == pytest.approx(0.25)
    # VOT-LT's (the default): frame 0 is kept as the initialisation, overlap 0, a visible frame never called
    # present (its score is NaN); overlaps in whole pixels inside the image
    ov, s, vis = presence_frames(boxes, scores, gt, (100, 100))
    assert ov.tolist() == [0.0, 0.5, 0.0, 0.0] and vis.tolist() == [True, True, False, True] and np.isnan(s[0])
    at = presence_at([presence_frames(boxes, scores, gt, (100, 100))], 0.3)
    assert at["precision"] == pytest.approx(0.25) and at["recall"] == pytest.approx(0.5 / 3)  # 3 visible frames
    assert at["f_score"] == pytest.approx(0.2)
    # where the target is partly outside the image, only its part inside counts
    half_out = np.array([[0, 0, 10, 10], [-10, 0, 20, 10]], dtype=float)
    assert presence_frames(np.array([[0, 0, 10, 10], [0, 0, 10, 10]], dtype=float), None, half_out, (100, 100),
                           )[0][1] == 1.0
    assert presence_frames(np.array([[0, 0, 10, 10], [0, 0, 10, 10]], dtype=float), None, half_out,
                           definition="lukezic")[0][0] == pytest.approx(0.5)
    with pytest.raises(DataError):
        presence_frames(boxes[:3], None, gt, (100, 100))
    with pytest.raises(DataError, match="frame size"):
        presence_frames(boxes, None, gt)
    with pytest.raises(DataError, match="definition"):
        presence_frames(boxes, None, gt, (100, 100), definition="lasot")


@pytest.mark.slow
def test_runs_keep_the_scores_and_the_long_term_table_reads_them(tmp_path):
    ds = long_term_benchmark(n_frames=30)
    ds = type(ds)(ds.name, [ds[0], ds[2]])
    run_ope(["template", "identity"], ds, tmp_path, progress=False)
    stored = read_result(tmp_path / "template", ds[0])
    assert stored["scores"] is not None and math.isnan(stored["scores"][0]) and len(stored["scores"]) == 30
    assert read_result(tmp_path / "identity", ds[0])["scores"] is None
    table = evaluate_presence(tmp_path, ds)
    assert set(table) == {"identity", "template"}
    ident = presence_at(presence_sequences(tmp_path, ds, "identity"), None)
    assert table["identity"].f_score == pytest.approx(ident["f_score"])  # one decision: always present
    assert table["template"].f_score >= presence_at(presence_sequences(tmp_path, ds, "template"), None)["f_score"] - 1e-9
    # at its own threshold too: the calibrated one, and "always present" for a tracker without a score
    tau = tracker_class("template").default_presence_threshold()
    assert table.calibrated["template"] == presence_at(presence_sequences(tmp_path, ds, "template"), tau)
    assert table.calibrated["identity"]["threshold"] is None
    assert "template" in table.table() and set(table.to_dict()["template"]) == {"best", "calibrated"}

    (tmp_path / "template" / "scores" / f"{ds[0].name}_score.txt").write_text("0.5\n" * 3)
    with pytest.raises(AnnotationError, match="3 scores"):
        read_result(tmp_path / "template", ds[0])
    write_result(tmp_path / "x", ds[0].name, stored["boxes"], scores=[np.nan] * 30)  # no finite score: no file
    assert not (tmp_path / "x" / "scores").exists()


@pytest.mark.slow
def test_calibration_picks_the_best_threshold_and_needs_absent_frames(tmp_path):
    ds = long_term_benchmark(n_frames=30, variant=1)
    ds = type(ds)(ds.name, [ds[0], ds[1]])
    table = calibrate_presence(["template", "identity"], ds, tmp_path, progress=False)
    assert set(table) == {"template"}  # identity has no score to threshold
    best = long_term_scores(presence_sequences(tmp_path, ds, "template"))
    assert table["template"]["f_score"] == pytest.approx(best.f_score)
    tau = table["template"]["threshold"]
    assert presence_at(presence_sequences(tmp_path, ds, "template"), tau)["f_score"] == pytest.approx(best.f_score)
    with pytest.raises(DataError, match="no sequence has an absent frame"):
        calibrate_presence(["template"], synthetic_benchmark(n_frames=10, names=["CatLight"]), tmp_path / "b",
                           progress=False)


def test_benchmark_command_prints_the_presence_table(tmp_path, capsys):
    out = tmp_path / "out"
    assert cli(["benchmark", "--dataset", "synthetic-longterm", "--frames", "30", "--sequences", "ShuttleGone",
                "--trackers", "template,identity", "--out", str(out)]) == 0
    text = capsys.readouterr().out
    assert "presence (long-term measures" in text and "always" in text
    rows = json.loads((out / "presence.json").read_text())
    assert set(rows) == {"template", "identity"} and rows["identity"]["calibrated"]["threshold"] is None


@pytest.mark.slow
def test_calibrate_presence_command_writes_thresholds_with_provenance(tmp_path, capsys):
    path = tmp_path / "presence.json"
    assert cli(["calibrate-presence", "--out", str(path), "--trackers", "template", "--frames", "24",
                "--work", str(tmp_path / "work")]) == 0
    record = json.loads(path.read_text())
    assert set(record["thresholds"]) == {"template"} and record["provenance"]["variant"] == 1
    assert calibrated_thresholds(path)["template"] == record["thresholds"]["template"]["threshold"]
    assert "wrote" in capsys.readouterr().out


@pytest.mark.parametrize("name", slow_for(["template", "sodlt", "mdnet"], {"sodlt", "mdnet"}))
def test_the_score_falls_while_the_target_is_gone(name):
    seq = long_term_benchmark(n_frames=40)["ShuttleGone"]
    run = track(create_tracker(name), seq, progress=False)
    visible = seq.target_visible
    visible[0] = False  # frame 0 has no score
    absent = ~seq.target_visible
    assert np.mean(run.scores[absent]) < np.mean(run.scores[visible])
    # and saying "absent" below the calibrated threshold scores better than never saying it
    frames = [presence_frames(run.boxes, run.scores, seq.ground_truth, seq.frame_size)]
    tau = create_tracker(name).presence_threshold
    assert presence_at(frames, tau)["f_score"] > presence_at(frames, None)["f_score"]
