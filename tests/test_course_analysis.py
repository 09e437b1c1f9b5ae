"""Course-side measurements: representation separability, the ablation studies and their shipped records."""
import json

import numpy as np
import pytest

from deeptrack_lite.course import representation, studies
from deeptrack_lite.errors import DataError, DeepTrackError


def ring_data(n_pos=60, n_neg=180, seed=0):
    # positives in a small blob, negatives on a ring around it: same centroid, perfectly separable
    rng = np.random.default_rng(seed)
    pos = rng.normal(0, 0.2, (n_pos, 2))
    a = rng.uniform(0, 2 * np.pi, n_neg)
    neg = np.c_[np.cos(a), np.sin(a)] * 2 + rng.normal(0, 0.1, (n_neg, 2))
    return np.vstack([pos, neg]), np.r_[np.ones(n_pos), np.zeros(n_neg)]


def test_knn_sees_a_ring_that_a_centroid_rule_cannot():
    x, y = ring_data()
    assert representation.knn_balanced_accuracy(x, y) > 0.97
    c1, c0 = x[y == 1].mean(0), x[y == 0].mean(0)
    centroid = ((np.linalg.norm(x - c1, axis=1) < np.linalg.norm(x - c0, axis=1)) == (y == 1))
    balanced_centroid = np.mean([centroid[y == c].mean() for c in (0, 1)])
    assert balanced_centroid < 0.75


def test_a_line_cannot_cut_a_ring_but_cuts_two_blobs():
    x, y = ring_data()
    assert representation.linear_balanced_accuracy(x, y) < 0.8  # a line cuts off one side of the ring at best: 0.75
    rng = np.random.default_rng(3)
    blobs = np.vstack([rng.normal(0, 0.3, (50, 2)), rng.normal(3, 0.3, (150, 2))])
    labels = np.r_[np.ones(50), np.zeros(150)]
    assert representation.linear_balanced_accuracy(blobs, labels) == 1.0
    assert representation.linear_balanced_accuracy(blobs, 1 - labels) == 1.0
    with pytest.raises(DeepTrackError):
        representation.linear_balanced_accuracy(blobs, np.ones(200))


def test_knn_balanced_accuracy_is_at_chance_on_random_labels_whatever_the_class_ratio():
    rng = np.random.default_rng(1)
    x = rng.normal(size=(800, 5))
    y = (rng.random(800) < 0.25).astype(int)
    assert abs(representation.knn_balanced_accuracy(x, y) - 0.5) < 0.06


def test_knn_leaves_each_sample_out_and_refuses_bad_input():
    x = np.array([[0.0], [0.0], [10.0], [10.0]])
    assert representation.knn_balanced_accuracy(x, [1, 1, 0, 0], k=1) == 1.0
    assert representation.knn_balanced_accuracy(x, [1, 0, 1, 0], k=1) == 0.0  # its twin has the other label
    with pytest.raises(DeepTrackError):
        representation.knn_balanced_accuracy(x, [1, 1, 1, 1])
    with pytest.raises(DeepTrackError):
        representation.knn_balanced_accuracy(x, [1, 0, 1, 0], k=4)


def test_pca_2d_keeps_the_two_largest_directions():
    rng = np.random.default_rng(2)
    x = rng.normal(size=(300, 3)) * [5.0, 2.0, 0.01]
    z = representation.pca_2d(x)
    assert z.shape == (300, 2)
    assert np.allclose(np.abs(np.corrcoef(z[:, 0], x[:, 0])[0, 1]), 1, atol=1e-3)


def test_a_study_runs_resumes_and_writes_its_record(tmp_path, monkeypatch):
    import deeptrack_lite as dtl

    cheap = studies.Study("cheap", "00_welcome", "is KCF better than standing still", ("identity", ("identity", {})),
                          {"kcf": ("kcf", {})})
    monkeypatch.setitem(studies.STUDIES, "cheap", cheap)
    names = ["CatLight", "CupHide", "CoinDash", "FaceBlur", "RocketZoom"]
    bench = dtl.data.synthetic_benchmark(n_frames=6, names=names)
    record = studies.run_study("cheap", bench, tmp_path / "runs")
    assert record["sequences"] == bench.names and sorted(names) == sorted(bench.names) and record["frames"] == 6
    assert set(record["success_auc"]) == {"identity", "kcf"} and len(record["success_auc"]["kcf"]) == 5
    c = record["comparisons"]["kcf"]
    assert c["n_sequences"] == 5 and c["low"] <= c["mean"] <= c["high"]
    assert c["verdict"] in ("helps", "hurts", "tie")
    path = studies.write_study(record, tmp_path / "out", "python -m deeptrack_lite.course.studies --test")
    saved = json.loads(path.read_text())
    assert saved["provenance"]["command"].endswith("--test") and saved["mean_auc"] == record["mean_auc"]
    assert "identity" in studies.study_table(saved) and "[" in studies.study_table(saved)
    assert studies.run_study("cheap", bench, tmp_path / "runs") == record  # resumed from the stored runs


def test_the_study_command_keeps_its_runs_in_the_data_folder(tmp_path, monkeypatch, capsys):
    """Not the system's temp folder, which every user of a shared lab machine writes to."""
    cheap = studies.Study("cheap", "00_welcome", "is KCF better than standing still", ("identity", ("identity", {})),
                          {"kcf": ("kcf", {})})
    monkeypatch.setitem(studies.STUDIES, "cheap", cheap)
    monkeypatch.setenv("DEEPTRACK_DATA", str(tmp_path / "data"))
    assert studies.study_runs_dir() == tmp_path / "data" / "study-runs"
    assert studies.main(["--out", str(tmp_path / "out"), "--studies", "cheap", "--frames", "6",
                         "--sequences", "CatLight,CupHide,CoinDash,FaceBlur,RocketZoom"]) == 0
    assert (tmp_path / "out" / "cheap.json").is_file() and "identity" in capsys.readouterr().out
    assert sorted(p.name for p in (tmp_path / "data" / "study-runs" / "synthetic-6f").iterdir()) == ["identity", "kcf"]


def test_study_command_refuses_unknown_studies(capsys):
    assert studies.main(["--out", "/tmp/never", "--studies", "nope"]) == 2
    assert "no study called 'nope'" in capsys.readouterr().err
    with pytest.raises(DeepTrackError):
        studies.shipped_study("nope")


@pytest.mark.parametrize("name", sorted(studies.STUDIES))
def test_shipped_study_records_match_their_definitions(name):
    try:
        record = studies.shipped_study(name)
    except DataError as exc:
        pytest.fail(str(exc))
    study = studies.STUDIES[name]
    assert record["baseline"] == study.baseline[0]
    assert {k: (v["tracker"], v["params"]) for k, v in record["settings"].items()} == \
        {k: (t, p) for k, (t, p) in study.trackers().items()}
    assert record["provenance"]["command"].startswith("python -m deeptrack_lite.course.studies")
    n = len(record["sequences"])
    assert n >= 5 and all(len(v) == n for v in record["success_auc"].values())
    # the verdicts are what the stored numbers give: recompute them
    again = studies.summarize_study(study, record["sequences"], record["success_auc"], seeds=record["seeds"],
                                    frames=record["frames"])
    assert again["comparisons"] == record["comparisons"]


def _texts(ax):
    return " ".join(t.get_text() for t in ax.texts)


def test_survey_diagrams_show_the_sizes_they_are_given():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from deeptrack_lite.course import figures

    assert "1024 - 700 - 60" in _texts(figures.dlt_diagram(sizes=(1024, 700, 60), threshold=0.8))
    assert "< 0.8" in _texts(figures.dlt_diagram(threshold=0.8))
    t = _texts(figures.fcnt_diagram(low="stride16", maps_low=112, select_low=48, backbone="Lite0"))
    assert "stride16\n112 maps" in t and "keep 48" in t and "Lite0" in t
    t = _texts(figures.mdnet_diagram(n_domains=7, fc_units=256))
    assert "fc6^7" in t and "fc4\n256" in t and "fc6^8" not in t
    plt.close("all")


def test_features_by_layer_reads_every_stage_at_its_stride():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import skimage.data

    from deeptrack_lite.course import figures

    feats = figures.stage_features(skimage.data.chelsea())
    for name, (_, stride) in figures.STAGES.items():
        maps, s = feats[name]
        assert s == stride and maps.shape[-1] == 224 // stride
    assert int(feats["logits"].argmax()) in (281, 282, 285)  # a cat, from the bundled ImageNet weights
    fig = figures.features_by_layer(skimage.data.chelsea(), maps_per_stage=2)
    assert len(fig.axes) == 2 * (len(figures.STAGES) + 2)
    plt.close("all")


def test_observation3_summary_and_verdict_follow_the_trials():
    rng = np.random.default_rng(0)
    n = 10
    a = np.full(n, 2.0)
    test = {"low": {"target": a, "same_category": a * rng.uniform(0.4, 0.6, n), "other_category": a * 0.9, "picks_target": 1.0},
            "high": {"target": a, "same_category": a * rng.uniform(0.85, 0.95, n), "other_category": a * 0.3, "picks_target": 0.6}}
    record = studies.summarize_observation3(test, steps=5, backbone_name="x", taps={"low": "l", "high": "h"})
    c = record["high_minus_low_b_over_a"]
    assert c["verdict"] == "helps" and c["n_trials"] == n and 0.3 < c["mean"] < 0.5
    assert "LOW layer" in studies.observation3_verdict(c)
    flipped = studies.summarize_observation3({"low": test["high"], "high": test["low"]}, steps=5, backbone_name="x",
                                             taps={"low": "l", "high": "h"})
    assert "HIGH layer" in studies.observation3_verdict(flipped["high_minus_low_b_over_a"])


def test_shipped_observation3_record_recomputes_to_its_verdict():
    record = studies.shipped_study("observation3")
    r = record["ratios"]
    from deeptrack_lite.evaluation import paired_bootstrap

    c = paired_bootstrap(r["high"]["same_category"], r["low"]["same_category"], unit="trials")
    assert record["high_minus_low_b_over_a"]["verdict"] == c.verdict and record["trials"] >= 20
    assert record["provenance"]["command"].startswith("python -m deeptrack_lite.course.studies")


def test_timing_durations_read_as_a_person_writes_them():
    from deeptrack_lite.course import timing

    assert timing.duration(42.4) == "42 s" and timing.duration(95) == "1 min 35 s" and timing.duration(600) == "10 min"
    entry = {"full": {"seconds": 250, "peak_mb": 900, "machine": "cpu (2 cores)", "slow_cells": {"abc": 40.0}},
             "fast": {"seconds": 50, "peak_mb": 700, "machine": "cpu (2 cores)", "slow_cells": {}}}
    header, comments = timing.expected_text({"notebooks": {"x": entry}})["x"]
    assert "full mode 4 min 10 s, peak memory 900 MB; fast mode 50 s" in header
    assert comments == {"abc": timing.cell_comment(40.0)} and "40 s" in comments["abc"]
    assert "| `x` | 4 min 10 s | 50 s | 900 MB |" in timing.readme_table({"notebooks": {"x": entry}})
    slow = {"fast": dict(entry["fast"], seconds=75, peak_mb=2500)}
    row = timing.readme_table({"notebooks": {"x": slow}})
    assert "not measured yet | 1 min 15 s (over the 1 min 00 s target) | 2500 MB (over the 2048 MB target)" in row
    assert "full mode not measured yet" in timing.header_line(slow)


def test_package_paths_in_study_settings_resolve_to_the_shipped_files():
    from pathlib import Path

    from deeptrack_lite.models.mdnet import default_mdnet_weights

    params = studies.resolve_params(studies.STUDIES["mdnet"].variants["single-domain training"][1])
    assert Path(params["weights"]) == default_mdnet_weights().with_name("mdnet_single_domain.pt")
    assert Path(params["weights"]).is_file()
    assert studies.resolve_params({"threshold": 0.5}) == {"threshold": 0.5}


def test_every_tracker_is_on_the_speed_accuracy_map_once():
    from deeptrack_lite.course import benchmark_runs, speed_accuracy

    members = [t for ts in speed_accuracy.TRACKER_FAMILIES.values() for t in ts]
    assert len(members) == len(set(members))
    assert sorted(members) == sorted(benchmark_runs.benchmark_trackers())
    assert speed_accuracy.tracker_family("hcf (three layers)") == speed_accuracy.tracker_family("hcf")
    with pytest.raises(DeepTrackError):
        speed_accuracy.tracker_family("nope")


def test_the_pareto_front_keeps_what_nothing_beats_on_both_counts():
    from deeptrack_lite.course.speed_accuracy import pareto_front, plot_speed_accuracy

    rows = [{"tracker": "kcf", "fps": 100.0, "success_auc": 0.4, "device": "cpu"},
            {"tracker": "mosse", "fps": 500.0, "success_auc": 0.3, "device": "cpu"},
            {"tracker": "csrt", "fps": 20.0, "success_auc": 0.5, "device": "cpu"},
            {"tracker": "mil", "fps": 10.0, "success_auc": 0.35, "device": "cpu"},    # beaten by kcf and csrt
            {"tracker": "hcf", "fps": 20.0, "success_auc": 0.45, "device": "cpu"}]    # as fast as csrt, worse
    assert sorted(pareto_front(rows)) == ["csrt", "kcf", "mosse"]
    import matplotlib
    matplotlib.use("Agg")
    fig = plot_speed_accuracy(rows, dataset="test")
    left, right = fig.axes
    assert left.get_xscale() == "log" and "cpu" in left.get_title()
    assert "no speed given" in right.get_title() and "0.702" in _texts(right)
    with pytest.raises(DeepTrackError):
        plot_speed_accuracy([{"tracker": "kcf", "fps": None, "success_auc": 0.4, "device": "cpu"}])
