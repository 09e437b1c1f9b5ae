"""The shipped record of the trackers on real video (notebook 06): current with the code, complete, and remade by
its command; the synthetic-against-real comparison."""
import json

import pytest

from deeptrack_lite.course import real_video
from deeptrack_lite.errors import DataError


def test_the_shipped_record_is_current_and_never_measured_where_it_was_tuned():
    record = real_video.load_record()
    assert real_video.stale_trackers(record) == {}, "re-make it: python -m deeptrack_lite.course.real_video (see its docstring)"
    assert set(record["trackers"]) == set(real_video.TRACKERS)
    assert record["tuned_on"] and not set(record["tuned_on"]) & set(record["sequences"])
    for name, run in record["trackers"].items():
        per_seq = run["sequences"]
        assert set(per_seq) == set(record["sequences"]), name
        assert all(per_seq[s]["frames"] == n for s, n in record["sequences"].items())
        # OTB averages the success curves over sequences, and the AUC of a mean curve is the mean of the AUCs
        assert run["success_auc"] == pytest.approx(sum(v["success_auc"] for v in per_seq.values()) / len(per_seq))
    assert "python -m deeptrack_lite.course.real_video" in record["provenance"]["command"]


@pytest.mark.slow
def test_the_command_writes_a_record_and_refuses_to_measure_where_it_tuned(three_video_folder, tmp_path, capsys):
    out = tmp_path / "out"
    argv = ["--dataset", str(three_video_folder), "--sequences", "CupHide,FaceBlur", "--tuned-on", "CatLight",
            "--trackers", "identity,template", "--out", str(out), "--work", str(tmp_path / "work")]
    assert real_video.main(argv) == 0
    record = real_video.load_record(out / "real-video.json")
    assert record["sequences"] == {"CupHide": 20, "FaceBlur": 20} and record["tuned_on"] == ["CatLight"]
    assert set(record["trackers"]) == {"identity", "template"} and real_video.stale_trackers(record) == {}
    assert record["trackers"]["template"]["success_auc"] > record["trackers"]["identity"]["success_auc"]
    capsys.readouterr()
    argv[5] = "FaceBlur"  # --tuned-on a measured sequence
    assert real_video.main(argv) == 1
    assert "measured and tuned on the same sequences: FaceBlur" in capsys.readouterr().err


def test_a_changed_tracker_makes_the_record_stale(tmp_path):
    record = {"trackers": {"kcf": {"code": "0" * 16}, "template": {"code": real_video.tracker_code("template")},
                           "no-such-tracker": {"code": "x"}}}
    stale = real_video.stale_trackers(record)
    assert set(stale) == {"kcf", "no-such-tracker"} and "code fingerprint" in stale["kcf"]
    (tmp_path / "bad.json").write_text(json.dumps([1, 2]))
    with pytest.raises(DataError, match="not a real-video record"):
        real_video.load_record(tmp_path / "bad.json")


def test_compare_ranks_both_benchmarks_and_groups_the_trackers_trained_on_synthetic_scenes():
    assert real_video.trained_on_synthetic_scenes("siamfc") and real_video.trained_on_synthetic_scenes("mdnet")
    assert not real_video.trained_on_synthetic_scenes("dlt")  # scikit-image pictures' patches, not the scenes
    assert not real_video.trained_on_synthetic_scenes("kcf") and real_video.training_data("kcf") is None
    synthetic = {"siamfc": 0.9, "mdnet": 0.8, "kcf": 0.5, "dlt": 0.4}
    real = {"trackers": {"siamfc": {"success_auc": 0.3}, "mdnet": {"success_auc": 0.7}, "kcf": {"success_auc": 0.6},
                         "dlt": {"success_auc": 0.2}}}
    gap = real_video.compare(synthetic, real)
    assert [r[0] for r in gap["rows"]] == ["mdnet", "kcf", "siamfc", "dlt"]  # by real rank
    # siamfc 1 -> 3, mdnet 2 -> 1; kcf 3 -> 2, dlt 4 -> 4
    assert gap["rank_change"] == {"trained on the generator's scenes": 0.5, "not": -0.5}
    assert gap["spearman"] == pytest.approx(0.4)
    same = real_video.compare(synthetic, {"trackers": {t: {"success_auc": v} for t, v in synthetic.items()}})
    assert same["spearman"] == pytest.approx(1.0)
    with pytest.raises(DataError, match="at least 3"):
        real_video.compare({"kcf": 0.5}, real)
