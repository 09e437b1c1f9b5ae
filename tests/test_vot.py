"""VOT's supervised protocol: resets, accuracy with burn-in, failures, EAO, bounded and polygon overlaps,
the toolkit's file layout, resuming and rescoring."""
import json

import numpy as np
import pytest

from deeptrack_lite.cli import main
from deeptrack_lite.data import ArrayFrames, Dataset, Sequence, synthetic_benchmark
from deeptrack_lite.evaluation.vot import (FAILURE, INITIALIZATION, SKIPPED, SupervisedRun, accuracy, eao_curve,
                                           eao_interval, eao_score, eao_segments, evaluate_vot, read_trajectory,
                                           region_overlap, run_overlaps, run_supervised, run_vot, trajectory_path,
                                           write_trajectory)
from deeptrack_lite.trackers import Tracker

N = 30
GT = np.array([[20.0 + t, 20.0, 20.0, 20.0] for t in range(N)])


class Scripted(Tracker):
    """Answers the ground truth shifted by ``script[frame]`` box widths (0: exact; >= 1: no overlap)."""

    name = "scripted"

    def __init__(self, script):
        super().__init__(device="cpu")
        self.script = script
        self.inits = []

    def _init(self, image, box):
        self.frame = int(image[0, 0, 0])
        self.inits.append(self.frame)

    def _update(self, image):
        self.frame = int(image[0, 0, 0])
        shift = self.script.get(self.frame, 0.0)
        return GT[self.frame] + np.array([shift * 20.0, 0, 0, 0])


def sequence(n=N):
    frames = np.zeros((n, 80, 100, 3), np.uint8)
    frames[:, 0, 0, 0] = np.arange(n)  # each frame says its index, so the scripted tracker knows where it is
    return Sequence("Scripted", ArrayFrames(frames), GT[:n].copy())


def test_a_failure_skips_five_frames_then_reinitialises_from_the_ground_truth():
    tracker = Scripted({4: 2.0, 16: 1.5})  # no overlap at frames 4 and 16
    run = run_supervised(tracker, sequence())
    codes = run.codes.tolist()
    assert codes[0] == INITIALIZATION and codes[1:4] == [-1, -1, -1] and codes[4] == FAILURE
    assert codes[5:9] == [SKIPPED] * 4 and codes[9] == INITIALIZATION  # re-initialised 5 frames after the failure
    assert codes[16] == FAILURE and codes[17:21] == [SKIPPED] * 4 and codes[21] == INITIALIZATION
    assert tracker.inits == [0, 9, 21] and run.failures == 2


def test_accuracy_leaves_out_burn_in_failures_and_skipped_frames():
    # overlap 0.6 on frames 2 and 12 (shifted by 5 of 20 pixels: 15 x 20 common pixels of 25 x 20), 1 elsewhere
    run = run_supervised(Scripted({2: 0.25, 4: 2.0, 12: 0.25}), sequence())
    overlaps = run_overlaps(run, sequence())
    assert overlaps[2] == pytest.approx(0.6) and overlaps[12] == pytest.approx(0.6)
    # burn-in 3: frames 0-2 and 9-11 are not scored; failure 4 and skipped 5-8 neither
    acc, n = accuracy(run, overlaps, burnin=3)
    scored = [3] + list(range(12, N))
    assert n == len(scored) and acc == pytest.approx((len(scored) - 1 + 0.6) / len(scored))
    acc0, n0 = accuracy(run, overlaps, burnin=0)  # no burn-in: the initialisation frames are still not scored
    assert n0 == N - 2 - 1 - 4 and acc0 == pytest.approx((n0 - 2 + 1.2) / n0)


def test_eao_curve_by_hand():
    failed = (np.array([0.0, 1.0, 0.5]), False)       # zeros after its failure, at every length
    finished = (np.array([0.0, 0.8, 0.6, 0.4]), True)  # counts only up to its own length
    curve = eao_curve([failed, finished], max_length=5)
    assert curve[1] == pytest.approx((1.0 + 0.8) / 2)
    assert curve[2] == pytest.approx((0.75 + 0.7) / 2)
    assert curve[3] == pytest.approx((0.5 + 0.6) / 2)
    assert curve[4] == pytest.approx(1.5 / 4)  # only the failed segment still counts
    assert eao_score(curve, 1, 3) == pytest.approx(np.mean(curve[1:4]))


def test_the_eao_curve_ends_with_the_longest_segment_as_the_toolkit_s():
    failed = (np.array([0.0, 1.0, 0.5]), False)
    finished = (np.array([0.0, 0.8, 0.6, 0.4]), True)
    curve = eao_curve([failed, finished])  # the toolkit's: lengths 0..3, the longest segment
    assert len(curve) == 4 and curve[3] == pytest.approx((0.5 + 0.6) / 2)
    # an interval that runs past the curve's end averages the part that exists; one that starts past it is NaN
    assert eao_score(curve, 2, 10) == pytest.approx((curve[2] + curve[3]) / 2)
    assert np.isnan(eao_score(curve, 4, 10))
    # the legacy extent runs on to the longest sequence: only failed segments count there, as zeros
    longer = eao_curve([failed, finished], max_length=8)
    assert longer[7] == pytest.approx(1.5 / 7) and np.allclose(longer[:4], curve)


def test_a_run_without_failures_is_one_segment_from_frame_0():
    codes = np.array([0, 0, 1, -1, -1, -1])  # the target appeared on frame 2: frames 0-1 skipped, absent
    run = SupervisedRun(codes, np.zeros((6, 4)), np.zeros(6))
    overlaps = np.array([1.0, 1.0, 0.0, 0.5, 0.5, 0.5])  # two empty regions overlap 1 (run_overlaps)
    (segment, reached_end), = eao_segments(run, overlaps)
    assert reached_end and segment.tolist() == overlaps.tolist()  # the toolkit takes the whole trajectory


def test_special_frames_and_absent_targets_are_empty_regions():
    seq = sequence(10)
    seq.ground_truth[6:8] = np.nan  # the target is out of view on frames 6 and 7
    codes = np.array([1, -1, -1, 2, 0, 0, 0, 0, 1, -1])  # frame 6 skipped while absent, 7 a box while absent
    codes[7] = -1
    boxes = np.where(codes[:, None] == -1, np.asarray(seq.ground_truth), np.nan)
    boxes[7] = [10, 10, 20, 20]
    overlaps = run_overlaps(SupervisedRun(codes, boxes, np.zeros(10)), seq)
    assert overlaps[0] == 0.0 and overlaps[3] == 0.0 and overlaps[4] == 0.0  # a special frame, the target there
    assert overlaps[6] == 1.0  # skipped and absent: two empty regions, the toolkit's 1
    assert overlaps[7] == 0.0  # a box where the target is absent
    assert overlaps[1] == 1.0 and overlaps[9] == 1.0
    # the box on the absent frame is scored (0), as the toolkit's compute_accuracy scores it; burn-in 1
    acc, n = accuracy(SupervisedRun(codes, boxes, np.zeros(10)), overlaps, burnin=1)
    assert n == 4 and acc == pytest.approx(3 / 4)
    assert region_overlap(None, None, (100, 100)) == 1.0 and region_overlap([np.nan] * 4, None, (100, 100)) == 1.0


def test_averages_over_sequences_are_weighted_by_length_as_the_toolkit_s():
    from deeptrack_lite.evaluation.vot import VOTSequenceScore, summarize_vot

    short = VOTSequenceScore("short", 100, 4, 0.8, 50, [(np.array([0.0, 0.5]), False)])
    long = VOTSequenceScore("long", 300, 2, 0.4, 250, [(np.array([0.0, 0.5, 0.5]), True)])
    s = summarize_vot([short, long], interval=(1, 2))
    assert s["accuracy"] == pytest.approx((0.8 * 100 + 0.4 * 300) / 400)  # 0.5, not the plain mean 0.6
    assert s["accuracy_unweighted"] == pytest.approx(0.6)
    assert s["robustness"] == pytest.approx((4 * 100 + 2 * 300) / 400)  # 2.5 failures per sequence
    assert s["reliability"] == pytest.approx(np.exp(-30 * 2.5 / 200))  # not exp(-30 * 6 / 400)
    assert s["failures"] == 6 and s["failure_rate"] == pytest.approx(1.5)
    assert s["eao_interval"] == [1, 2] and s["eao_interval_source"] == "given"


def test_eao_intervals_are_the_published_stacks_unless_named_otherwise():
    from deeptrack_lite.errors import DataError
    from deeptrack_lite.evaluation.vot import resolve_eao_interval

    lengths = [100, 110, 120, 130, 140, 400]
    assert resolve_eao_interval(None, lengths, "vot2015")[:2] == (108, 371)
    assert resolve_eao_interval(None, lengths, "VOT2016")[:2] == (108, 371)
    assert resolve_eao_interval(None, lengths, "vot2017")[:2] == (100, 356)
    assert resolve_eao_interval("vot2018", lengths)[:2] == (100, 356)
    low, high, source = resolve_eao_interval(None, lengths, "my-videos")
    assert (low, high) == eao_interval(lengths) and "estimated" in source
    assert resolve_eao_interval((20, 40), lengths)[:2] == (20, 40)
    for bad in ("vot2099", (40, 20), "20-40x"):
        with pytest.raises(DataError):
            resolve_eao_interval(bad, lengths)


def test_segments_pair_initialisations_with_their_failures():
    codes = np.array([1, -1, 2, 0, 1, -1, -1, 2, 1, -1])
    run = SupervisedRun(codes, np.zeros((10, 4)), np.zeros(10))
    overlaps = np.arange(10) / 10
    segs = eao_segments(run, overlaps)
    assert [s[0].tolist() for s in segs] == [[0.0, 0.1], [0.4, 0.5, 0.6], [0.8, 0.9]]
    assert [s[1] for s in segs] == [False, False, True]


def test_eao_interval_is_the_dense_half_of_the_lengths():
    assert eao_interval([150]) == (149, 149)  # the curve of 150-frame sequences ends at length 149
    low, high = eao_interval([100, 110, 120, 130, 140, 400])
    assert low < 120 < high < 400  # around the cluster; the outlier at 400 stays outside


def test_box_overlap_counts_whole_pixels_inside_the_image_as_the_toolkit_does():
    from deeptrack_lite.evaluation.vot import raster_overlap

    assert raster_overlap([10, 10, 20, 20], [15, 10, 20, 20], (100, 100)) == pytest.approx(15 / 25)
    # 10.4 rounds to 10 and 14.6 to 15: whole pixels, not areas
    assert raster_overlap([10.4, 10, 20, 20], [14.6, 10, 20, 20], (100, 100)) == pytest.approx(15 / 25)
    assert raster_overlap([10, 10, 4, 4], [30, 30, 4, 4], (100, 100)) == 0.0
    # the part outside the image does not count
    assert raster_overlap([-10, 0, 20, 10], [0, 0, 10, 10], (100, 100)) == pytest.approx(1.0)
    assert raster_overlap([200, 200, 10, 10], [210, 200, 10, 10], (100, 100)) == 0.0


def test_bounded_and_polygon_overlaps():
    assert region_overlap([10, 10, 20, 20], [10, 10, 20, 20], (100, 100)) == pytest.approx(1.0)
    # half of the prediction lies outside the image: clipped first, so it overlaps the clipped truth fully
    assert region_overlap([-20, 0, 40, 20], [0, 0, 20, 20], (100, 100)) == pytest.approx(1.0)
    diamond = [30, 10, 50, 30, 30, 50, 10, 30]  # a square turned 45 degrees, inside the box (10, 10, 40, 40)
    # by area 0.5; rasterised, the diamond's edge pixels count whole, as in the toolkit (tests/test_vot_reference.py)
    assert region_overlap([10, 10, 40, 40], diamond, (100, 100)) == pytest.approx(0.5, abs=0.03)
    assert region_overlap([60, 60, 10, 10], diamond, (100, 100)) == 0.0


def test_a_rotated_box_cut_by_the_image_border_overlaps_at_most_fully():
    # both regions leave the image at its bottom edge: OpenCV's convex intersection of the clipped polygons gave
    # 1.117 here; pixels inside the image cannot
    box, rotated = [-1.6, 72.6, 24.6, 52.3], [38.7, 82.6, 43.1, 106.9, -8.4, 116.3, -12.8, 92.0]
    assert 0.0 < region_overlap(box, rotated, (100, 100)) < 1.0
    rng = np.random.default_rng(1)
    for _ in range(500):
        c, (w, h), angle = rng.uniform(-10, 110, 2), rng.uniform(5, 60, 2), rng.uniform(0, np.pi)
        co, si = np.cos(angle), np.sin(angle)
        corners = [v for dx, dy in ((-w / 2, -h / 2), (w / 2, -h / 2), (w / 2, h / 2), (-w / 2, h / 2))
                   for v in (c[0] + co * dx - si * dy, c[1] + si * dx + co * dy)]
        box = [c[0] - w / 2 + rng.normal(0, 3), c[1] - h / 2 + rng.normal(0, 3), w, h]
        assert 0.0 <= region_overlap(box, corners, (100, 100)) <= 1.0


def test_trajectory_files_round_trip_in_the_toolkit_layout(tmp_path):
    run = run_supervised(Scripted({4: 2.0}), sequence())
    path = write_trajectory(trajectory_path(tmp_path, "scripted", "Scripted"), run)
    assert path.relative_to(tmp_path).as_posix() == "scripted/baseline/Scripted/Scripted_001.txt"
    lines = path.read_text().splitlines()
    assert lines[0] == "1" and lines[4] == "2" and lines[5] == "0" and lines[1].count(",") == 3
    back = read_trajectory(path)
    assert np.array_equal(back.codes, run.codes) and np.allclose(back.times, run.times, atol=1e-6)
    ok = run.codes == -1
    assert np.allclose(back.boxes[ok], run.boxes[ok], atol=1e-3)


def test_run_vot_resumes_and_rescoring_equals_the_live_run(tmp_path, monkeypatch):
    data = synthetic_benchmark(n_frames=20, names=["CatLight", "CoinDash"])
    live = run_vot(["kcf", "identity"], data, tmp_path, progress=False)
    assert set(live.summaries) == {"kcf", "identity"} and not live.failed
    assert live.summaries["identity"]["failures"] >= live.summaries["kcf"]["failures"]
    calls = []
    import deeptrack_lite.evaluation.vot as vot
    monkeypatch.setattr(vot, "run_supervised", lambda *a, **k: calls.append(a) or None)
    again = run_vot(["kcf", "identity"], data, tmp_path, progress=False)
    same = lambda s: json.dumps(s, sort_keys=True)  # an EAO may be NaN (no segment reaches the interval), and NaN != NaN
    assert calls == [] and same(again.summaries) == same(live.summaries)
    assert same(evaluate_vot(tmp_path, data).summaries) == same(live.summaries)
    assert "EAO" in live.table() and json.dumps(live.to_dict())


def test_benchmark_command_with_the_vot_protocol(tmp_path, capsys):
    assert main(["benchmark", "--protocol", "vot", "--trackers", "kcf", "--frames", "20", "--sequences", "CatLight",
                 "--out", str(tmp_path)]) == 0
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["protocol"] == "vot-supervised" and "eao" in summary["trackers"]["kcf"]
    assert {"failures", "accuracy"} <= set(summary["trackers"]["kcf"]["per_sequence"]["CatLight"])
    assert (tmp_path / "results" / "kcf" / "baseline" / "CatLight" / "CatLight_001.txt").is_file()
    assert "EAO" in capsys.readouterr().out


def test_vot_folders_keep_their_polygons_and_the_overlap_uses_them(tmp_path):
    import cv2

    from deeptrack_lite.data import load_sequence
    from deeptrack_lite.evaluation.vot import ground_truth_regions

    folder = tmp_path / "diamond"
    folder.mkdir()
    for i in range(3):
        cv2.imwrite(str(folder / f"{i + 1:08d}.jpg"), np.zeros((60, 60, 3), np.uint8))
    (folder / "groundtruth.txt").write_text("30,10,50,30,30,50,10,30\n31,10,51,30,31,50,11,30\n20,20,10,10\n")
    seq = load_sequence(folder)
    assert seq.ground_truth[0].tolist() == [10, 10, 40, 40]  # the bounding box, for OPE
    regions = ground_truth_regions(seq)
    assert regions[0].shape == (4, 2) and regions[2].tolist() == [20, 20, 10, 10]
    assert ground_truth_regions(seq.subsequence(1))[0][0].tolist() == [31, 10]
    # the diamond against its bounding box: half by area, a little more in whole pixels (its edges count)
    assert region_overlap(seq.ground_truth[0], regions[0], seq.frame_size) == pytest.approx(0.5, abs=0.03)
