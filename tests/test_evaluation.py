"""One-pass evaluation: results layout, resuming, re-scoring other toolkits' results, seeds, reports."""
import json

import numpy as np
import pytest

from deeptrack_lite.data import Dataset, synthetic_benchmark
from deeptrack_lite.errors import AnnotationError, DataError, TrackerError
from deeptrack_lite.evaluation import (evaluate_ope, plot_attributes, plot_ope, plot_overlap_timeline, run_ope,
                                       show_worst_frames, success_curve, tracker_specs, write_result)
from deeptrack_lite.trackers import Tracker, register_tracker


@register_tracker("test_jitter", "test double: ground-truth-free jitter around the initial box, from its own rng")
class JitterTracker(Tracker):
    PARAMS = {"sigma": (3.0, "pixels of random jitter", "float >= 0")}

    def _init(self, image, box):
        self._box = box.copy()

    def _update(self, image):
        return self._box + np.r_[self.rng.normal(0, self.params["sigma"], 2), 0, 0]


@register_tracker("test_crash", "test double: fails on the third frame")
class CrashTracker(Tracker):
    def _init(self, image, box):
        self.n = 0

    def _update(self, image):
        self.n += 1
        if self.n == 2:
            raise RuntimeError("boom")
        return [1, 1, 5, 5]


@pytest.fixture(scope="module")
def tiny():
    return synthetic_benchmark(n_frames=8, names=["CatLight", "CupHide", "FaceTwins"])


def test_results_layout_and_resume(tiny, tmp_path):
    report = run_ope(["identity", "kcf"], tiny, tmp_path, progress=False)
    for label in ("identity", "kcf"):
        for seq in tiny:
            boxes = np.loadtxt(tmp_path / label / f"{seq.name}.txt", delimiter=",")
            assert boxes.shape == (len(seq), 4)
            times = np.loadtxt(tmp_path / label / "times" / f"{seq.name}_time.txt")
            assert times.shape == (len(seq),)
            info = json.loads((tmp_path / label / "info" / f"{seq.name}.json").read_text())
            assert info["device"].startswith(("cpu", "cuda", "mps"))
    assert not list(tmp_path.rglob(".*"))  # no temporary files left behind
    again = run_ope(["identity", "kcf"], tiny, tmp_path, progress=False)
    assert again.skipped_runs == 6
    assert again.table() == report.table()  # scores and stored times read back unchanged


def test_interrupted_run_resumes_without_losing_results(tiny, tmp_path):
    run_ope(["identity"], tiny, tmp_path, progress=False)
    (tmp_path / "identity" / "CupHide.txt").unlink()  # as if the run stopped before this sequence
    kept = (tmp_path / "identity" / "CatLight.txt").stat().st_mtime_ns
    report = run_ope(["identity"], tiny, tmp_path, progress=False)
    assert report.skipped_runs == 2
    assert (tmp_path / "identity" / "CatLight.txt").stat().st_mtime_ns == kept
    assert (tmp_path / "identity" / "CupHide.txt").is_file()


def test_dataset_curves_average_sequences_with_equal_weight(tiny, tmp_path):
    report = run_ope(["identity"], tiny, tmp_path, progress=False)
    per_seq = [success_curve(report.scores[("identity", s.name, None)].boxes, s.ground_truth) for s in tiny]
    assert report.curves("identity")["success"] == pytest.approx(np.mean(per_seq, axis=0))
    row = report.summary()[0]
    assert row["success_auc"] == pytest.approx(np.mean(np.mean(per_seq, axis=0)))
    assert row["precision_20px"] == pytest.approx(report.curves("identity")["precision"][20])


def test_rescoring_another_toolkits_results(tiny, tmp_path):
    # pytracking style: tab-separated boxes, times beside them, no info files
    folder = tmp_path / "other" / "ECO"
    folder.mkdir(parents=True)
    for seq in tiny:
        np.savetxt(folder / f"{seq.name}.txt", seq.ground_truth, delimiter="\t", fmt="%d")
        np.savetxt(folder / f"{seq.name}_time.txt", np.full(len(seq), 0.01))
    report = evaluate_ope(tmp_path / "other", tiny)
    row = report.summary()[0]
    assert row["tracker"] == "ECO" and row["precision_20px"] == 1.0
    assert row["fps"] == pytest.approx(100.0)
    assert row["device"] == "unknown"


def test_result_with_wrong_length_is_a_clear_error(tiny, tmp_path):
    write_result(tmp_path / "short", "CatLight", np.ones((3, 4)))
    with pytest.raises(AnnotationError, match="3 boxes for the 8 frames"):
        evaluate_ope(tmp_path, tiny.subset(["CatLight"]), trackers=["short"])


def test_missing_results_are_reported(tiny, tmp_path):
    run_ope(["identity"], tiny.subset(["CatLight"]), tmp_path, progress=False)
    report = evaluate_ope(tmp_path, tiny)
    assert ("identity", "CupHide", None) in report.missing
    assert "only 1 seq." in report.table()


def test_seeds_give_mean_and_spread(tiny, tmp_path):
    report = run_ope({"jitter": ("test_jitter", {"sigma": 4.0})}, tiny, tmp_path, seeds=[0, 1, 2], progress=False)
    row = report.summary()[0]
    assert row["success_auc_std"] > 0 and "±" in report.table()
    assert (tmp_path / "jitter" / "seed2" / "CatLight.txt").is_file()
    again = run_ope({"jitter": ("test_jitter", {"sigma": 4.0})}, tiny, tmp_path / "again", seeds=[0, 1, 2], progress=False)
    assert again.summary()[0]["success_auc"] == pytest.approx(row["success_auc"])  # seeded: reproducible


def test_a_failing_tracker_does_not_stop_the_benchmark(tiny, tmp_path):
    report = run_ope(["test_crash", "identity"], tiny, tmp_path, progress=False)
    assert len(report.failures) == 3 and "boom" in next(iter(report.failures.values()))
    assert [r["tracker"] for r in report.summary()] == ["identity"]


def test_tracker_specs_forms():
    assert [s.label for s in tracker_specs("kcf, csrt")] == ["kcf", "csrt"]
    specs = tracker_specs({"fast": ("kcf", {"interp_factor": 0.1}), "slow": {"name": "csrt"}})
    assert specs[0].params == {"interp_factor": 0.1} and specs[1].name == "csrt"
    with pytest.raises(TrackerError):
        tracker_specs(["kcf", "kcf"])


def test_attribute_tables_and_plots(tiny, tmp_path):
    report = run_ope(["identity", "kcf"], tiny, tmp_path, progress=False)
    attrs = report.attribute_summary()
    assert set(attrs) == {"IV", "OCC", "DIS"}
    assert "OCC (2)" in report.attribute_table()
    assert report.ranked("precision_20px")[0]["precision_20px"] >= report.ranked("precision_20px")[-1]["precision_20px"]
    fig = plot_ope(report)
    legend = [t.get_text() for t in fig.axes[1].get_legend().get_texts()]
    assert all("[" in t for t in legend)  # score in every legend entry, as OTB plots do
    plot_attributes(report)
    plot_overlap_timeline(report, "CupHide")
    show_worst_frames(report, "CupHide", k=2)
    assert len(report.worst_frames("CupHide", k=3)) == 3
    summary = json.loads(report.save_json(tmp_path / "s.json").read_text())
    assert summary["ranking"][0]["tracker"] in ("identity", "kcf") and len(summary["curves"]["kcf"]["success"]) == 21
    with pytest.raises(DataError):
        report.summary(["NoSuchSequence"])


@pytest.mark.slow
def test_cli_benchmark_and_track(tmp_path, capsys):
    from deeptrack_lite.cli import main

    assert main(["benchmark", "--trackers", "identity,mosse", "--sequences", "CatLight,CupHide", "--frames", "6",
                 "--out", str(tmp_path / "b")]) == 0
    out = capsys.readouterr().out
    assert "success AUC" in out and "mosse" in out
    for name in ("ope.png", "summary.json", "table.md", "attributes.png"):
        assert (tmp_path / "b" / name).is_file()
    assert main(["benchmark", "--dataset", "synthetic", "--sequences", "CatLight,CupHide", "--frames", "6",
                 "--rescore", str(tmp_path / "b" / "results"), "--out", str(tmp_path / "c")]) == 0
    assert main(["track", "--tracker", "kcf", "--sequence", "synthetic:CupHide", "--frames", "5",
                 "--out", str(tmp_path / "v.mp4")]) == 0
    import cv2
    cap = cv2.VideoCapture(str(tmp_path / "v.mp4"))
    assert int(cap.get(cv2.CAP_PROP_FRAME_COUNT)) == 5


def test_folder_dataset_with_attribute_file(tmp_path):
    from deeptrack_lite.data import load_dataset, write_dataset_otb

    root = write_dataset_otb(synthetic_benchmark(n_frames=3, names=["CatLight", "CupHide"]), tmp_path / "d")
    (root / "attributes.txt").write_text("# OTB-style tags\nCatLight: SV, LR\n")
    ds = load_dataset(root)
    assert ds["CatLight"].attributes == {"IV", "SV", "LR"}
    (root / "attributes.txt").write_text("CatLight SV\n")
    with pytest.raises(AnnotationError, match="line 1"):
        load_dataset(root)


def test_results_are_ordinary_files(tiny, tmp_path):
    import os
    import stat

    run_ope(["identity"], tiny.subset(["CatLight"]), tmp_path, progress=False)
    mode = stat.S_IMODE(os.stat(tmp_path / "identity" / "CatLight.txt").st_mode)
    mask = os.umask(0)
    os.umask(mask)
    assert mode == 0o666 & ~mask


def test_tracker_specs_on_the_command_line_carry_labels_and_settings():
    from deeptrack_lite.evaluation import parse_tracker_spec, tracker_specs

    specs = tracker_specs("KCF, dlt-random=dlt:pretrained=false:threshold=0.5, ivt:patch=24:match=ssd")
    assert [(s.label, s.name) for s in specs] == [("kcf", "kcf"), ("dlt-random", "dlt"), ("ivt", "ivt")]
    assert specs[1].params == {"pretrained": False, "threshold": 0.5} and specs[2].params == {"patch": 24, "match": "ssd"}
    with pytest.raises(TrackerError, match="key=value"):
        parse_tracker_spec("dlt:pretrained")
    with pytest.raises(TrackerError, match="unique"):
        tracker_specs("dlt,dlt:threshold=0.5")


def test_a_record_that_must_hold_every_run_names_each_failed_one():
    from deeptrack_lite.errors import DataError, DeepTrackError
    from deeptrack_lite.evaluation.report import OPEReport

    whole = OPEReport(dataset=None, trackers=["kcf"], seeds=[0], scores={})
    assert whole.require_complete("the benchmark") is whole
    gaps = OPEReport(dataset=None, trackers=["kcf", "mil"], seeds=[0], scores={},
                     failures={("mil", "CupHide", 0): "TrackerError: lost", ("kcf", "CatLight", 0): "timed out"})
    with pytest.raises(DataError, match="presence calibration is incomplete: mil on CupHide: TrackerError: lost; kcf on CatLight"):
        gaps.require_complete("presence calibration")
    with pytest.raises(DeepTrackError, match="the benchmark is incomplete"):
        gaps.require_complete("the benchmark", DeepTrackError)


def test_the_old_name_evaluate_still_scores_and_says_it_is_now_evaluate_ope(tmp_path):
    from deeptrack_lite.evaluation import evaluate

    tiny = synthetic_benchmark(n_frames=6, names=["CatLight"])
    run_ope(["template"], tiny, tmp_path, progress=False)
    with pytest.warns(DeprecationWarning, match="evaluate_ope"):
        old = evaluate(tmp_path, tiny)
    assert old.summary() == evaluate_ope(tmp_path, tiny).summary()


def test_one_resolver_names_every_dataset_for_commands_and_notebooks(tmp_path):
    from deeptrack_lite.data import resolve_dataset, write_dataset_otb

    assert resolve_dataset("synthetic:CatLight,CupHide", frames=5).names == ["CatLight", "CupHide"]
    assert resolve_dataset("synthetic", frames=5, sequences=["CupHide"]).names == ["CupHide"]
    assert len(resolve_dataset("synthetic", frames=5)[0]) == 5
    assert all((~s.target_visible).any() for s in resolve_dataset("synthetic-longterm", frames=40))
    folder = write_dataset_otb(synthetic_benchmark(n_frames=8, names=["CatLight", "CupHide"]), tmp_path / "otb")
    assert resolve_dataset(str(folder), frames=3, sequences="CupHide").names == ["CupHide"]
    assert len(resolve_dataset(folder, frames=3)[0]) == 3
    with pytest.raises(DataError, match="name a dataset"):
        resolve_dataset("  ")


def test_tracker_labels_read_the_command_lines_list():
    from deeptrack_lite.evaluation import tracker_labels

    assert tracker_labels(" KCF, dlt-random ,") == ["kcf", "dlt-random"]
    assert tracker_labels("") is None and tracker_labels(None) is None
