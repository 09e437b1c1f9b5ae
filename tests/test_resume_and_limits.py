"""Resume never reuses a result made otherwise; a run that hangs or kills its process cannot stop a benchmark."""
import json
import time

import numpy as np
import pytest

from deeptrack_lite.cli import main
from deeptrack_lite.data import synthetic_benchmark
from deeptrack_lite.evaluation import run_ope
from deeptrack_lite.evaluation.results import read_result
from doubles import HangTracker, RaisingTracker, SuicideTracker  # noqa: F401 - registers test_hang, test_suicide, test_raise


@pytest.fixture(scope="module")
def two():
    return synthetic_benchmark(n_frames=10, names=["CatLight", "CupHide"])


def test_another_tracker_under_the_same_label_is_run_again(two, tmp_path):
    run_ope({"t": "identity"}, two, tmp_path, progress=False)
    report = run_ope({"t": "kcf"}, two, tmp_path, progress=False)
    assert len(report.recomputed) == 2 and "tracker = 'identity'" in next(iter(report.recomputed.values()))
    assert read_result(tmp_path / "t", two["CupHide"])["info"]["tracker"] == "kcf"
    again = run_ope({"t": "kcf"}, two, tmp_path, progress=False)
    assert again.skipped_runs == 2 and not again.recomputed


def test_other_settings_are_run_again(two, tmp_path):
    run_ope(["kcf"], two, tmp_path, progress=False)
    report = run_ope({"kcf": ("kcf", {"detect_thresh": 0.9})}, two, tmp_path, progress=False)
    assert len(report.recomputed) == 2 and "params" in next(iter(report.recomputed.values()))


def test_fewer_frames_do_not_replace_results_silently_and_are_not_reused(two, tmp_path, capsys):
    run_ope(["identity"], two, tmp_path, progress=False)
    short = synthetic_benchmark(n_frames=5, names=["CatLight", "CupHide"])
    report = run_ope(["identity"], short, tmp_path, progress=False)
    assert len(report.recomputed) == 2 and "boxes for the 5 frames" in next(iter(report.recomputed.values()))
    assert "not reused" in capsys.readouterr().err
    # the same number of frames from another range (other ground truth) is not reused either
    shifted = synthetic_benchmark(n_frames=10, names=["CatLight", "CupHide"])
    from deeptrack_lite.data import Dataset
    other = Dataset("shifted", [s.subsequence(5, 15) for s in synthetic_benchmark(n_frames=15, names=["CatLight", "CupHide"])])
    run_ope(["identity"], shifted, tmp_path / "r", progress=False)
    report = run_ope(["identity"], other, tmp_path / "r", progress=False)
    assert any("ground_truth_sha1" in why for why in report.recomputed.values())


def test_another_seed_or_package_version_is_run_again(two, tmp_path):
    run_ope(["particle_filter"], two, tmp_path, seeds=[0], progress=False)
    info_file = tmp_path / "particle_filter" / "seed0" / "info" / "CatLight.json"
    info = json.loads(info_file.read_text())
    info["deeptrack_lite"] = "0.0.1"
    info_file.write_text(json.dumps(info))
    report = run_ope(["particle_filter"], two, tmp_path, seeds=[0], progress=False)
    assert list(report.recomputed) == [("particle_filter", "CatLight", 0)]
    info["seed"] = 5
    info["deeptrack_lite"] = json.loads((tmp_path / "particle_filter" / "seed0" / "info" / "CupHide.json").read_text())["deeptrack_lite"]
    info_file.write_text(json.dumps(info))
    report = run_ope(["particle_filter"], two, tmp_path, seeds=[0], progress=False)
    assert "seed" in report.recomputed[("particle_filter", "CatLight", 0)]


@pytest.mark.slow
def test_a_hanging_run_and_a_dying_run_are_failures_and_the_others_finish(two, tmp_path):
    start = time.perf_counter()
    report = run_ope(["test_hang", "test_suicide", "identity"], two, tmp_path, progress=False, job_timeout=3)
    assert time.perf_counter() - start < 60
    hang = report.failures[("test_hang", "CatLight", None)]
    died = report.failures[("test_suicide", "CupHide", None)]
    assert "time limit" in hang and "3 s" in hang
    assert "died" in died
    assert [r["tracker"] for r in report.summary()] == ["identity"] and len(report.scores) == 2
    # an isolated run writes its result; one that raises is reported with its message, as in-process runs are
    report = run_ope(["mil"], synthetic_benchmark(n_frames=4, names=["CatLight"]), tmp_path / "x", progress=False,
                     job_timeout=30)
    assert not report.failures and (tmp_path / "x" / "mil" / "CatLight.txt").is_file()
    report = run_ope(["test_raise"], synthetic_benchmark(n_frames=4, names=["CatLight"]), tmp_path / "y",
                     progress=False, job_timeout=30)
    assert next(iter(report.failures.values())) == "RuntimeError: boom"


@pytest.mark.slow
def test_mil_refuses_a_box_it_would_hang_on():
    """OpenCV's MIL loops forever at init on a 4 x 4 box: the package refuses it first (in a child process,
    so that a regression fails this test instead of hanging the test run)."""
    import subprocess
    import sys

    code = ("import numpy as np; from deeptrack_lite.trackers import create_tracker\n"
            "from deeptrack_lite.errors import TrackerError\n"
            "t = create_tracker('mil')\n"
            "try:\n    t.init(np.zeros((60, 80, 3), np.uint8), [20, 20, 4, 4])\nexcept TrackerError as e:\n    print('refused:', e)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert "refused: mil needs an initial box of at least 5 x 5 pixels" in out.stdout


def test_opencv_errors_at_init_become_tracker_errors(small_sequence, monkeypatch):
    import cv2

    from deeptrack_lite.errors import TrackerError
    from deeptrack_lite.trackers import create_tracker

    class Refusing:
        def init(self, image, rect):
            raise cv2.error("OpenCV(4.x) tracker.cpp:1: error: (-215:Assertion failed) roi is empty")

    t = create_tracker("csrt")
    monkeypatch.setattr(t, "_create", lambda: Refusing())
    with pytest.raises(TrackerError, match="csrt: OpenCV cannot start on the initial box .*roi is empty"):
        t.init(small_sequence.frame(0), small_sequence.ground_truth[0])
    with pytest.raises(TrackerError, match="at least 2 x 2"):
        create_tracker("mosse").init(small_sequence.frame(0), [5, 5, 1, 30])


def test_rescore_of_a_missing_folder_is_an_error(tmp_path, capsys):
    code = main(["benchmark", "--frames", "4", "--sequences", "CatLight", "--rescore", str(tmp_path / "nothing"),
                 "--out", str(tmp_path / "o")])
    assert code == 2 and "no results folder" in capsys.readouterr().err


def test_ctrl_c_prints_one_line(tmp_path, capsys, monkeypatch):
    import deeptrack_lite.evaluation as evaluation

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(evaluation, "run_ope", interrupted)
    code = main(["benchmark", "--frames", "4", "--sequences", "CatLight", "--trackers", "identity", "--out", str(tmp_path)])
    err = capsys.readouterr().err
    assert code == 130 and err.strip() == "interrupted; run the same command again to resume"


@pytest.mark.slow
def test_isolated_runs_write_the_same_results_as_in_process_runs(two, tmp_path):
    a = run_ope(["particle_filter", "kcf"], two, tmp_path / "a", progress=False)
    b = run_ope(["particle_filter", "kcf"], two, tmp_path / "b", progress=False, job_timeout=120)
    for key, score in a.scores.items():
        assert np.array_equal(score.boxes, b.scores[key].boxes)


def test_edited_tracker_code_is_run_again(two, tmp_path, monkeypatch):
    """A stored run records its tracker's code fingerprint: editing the tracker (or code it imports) makes the
    run stale; other trackers' runs stay valid."""
    import deeptrack_lite.fingerprint as fp

    run_ope(["kcf", "particle_filter"], two, tmp_path, progress=False)
    real = fp.code_fingerprint
    edited = lambda module: "edited" if module.endswith("classic") else real(module)
    # where a stored run's settings are made, and where a job checks it runs that code
    monkeypatch.setattr("deeptrack_lite.evaluation.results.code_fingerprint", edited)
    monkeypatch.setattr("deeptrack_lite.evaluation.runner.code_fingerprint", edited)
    report = run_ope(["kcf", "particle_filter"], two, tmp_path, progress=False)
    assert sorted(report.recomputed) == [("particle_filter", "CatLight", None), ("particle_filter", "CupHide", None)]
    assert "code" in report.recomputed[("particle_filter", "CatLight", None)] and report.skipped_runs == 2


def test_code_fingerprint_follows_imports_not_package_inits(tmp_path, monkeypatch):
    import deeptrack_lite.fingerprint as fp

    closure = fp.module_closure("deeptrack_lite.trackers.mdnet")
    assert {"deeptrack_lite.models.mdnet", "deeptrack_lite.online", "deeptrack_lite.trackers.base"} <= set(closure)
    assert "deeptrack_lite.trackers.opencv" not in closure and not any(m.endswith("__init__") for m in closure)
    assert "deeptrack_lite.models.mdnet" not in fp.module_closure("deeptrack_lite.trackers.opencv")
    # a copy of the package with one edited file: the fingerprints of the modules that import it change
    import shutil
    copy = tmp_path / "deeptrack_lite"
    shutil.copytree(fp.ROOT, copy, ignore=shutil.ignore_patterns("__pycache__", "*.pt"))
    (copy / "weights").mkdir(exist_ok=True)
    monkeypatch.setattr(fp, "ROOT", copy)
    fp.module_closure.cache_clear()
    before = {m: fp.code_fingerprint(f"deeptrack_lite.trackers.{m}") for m in ("mdnet", "opencv")}
    with open(copy / "online.py", "a") as f:
        f.write("\n# a comment and a docstring change no result\n")
    commented = {m: fp.code_fingerprint(f"deeptrack_lite.trackers.{m}") for m in ("mdnet", "opencv")}
    with open(copy / "online.py", "a") as f:
        f.write("def _new():\n    return 1\n")
    after = {m: fp.code_fingerprint(f"deeptrack_lite.trackers.{m}") for m in ("mdnet", "opencv")}
    # a new weight file changes the fingerprints of the trackers that read weights, only
    (copy / "weights" / "new.pt").write_bytes(b"weights")
    with_weights = {m: fp.code_fingerprint(f"deeptrack_lite.trackers.{m}") for m in ("mdnet", "opencv")}
    fp.module_closure.cache_clear()
    assert commented == before
    assert after["mdnet"] != before["mdnet"] and after["opencv"] == before["opencv"]
    assert with_weights["mdnet"] != after["mdnet"] and with_weights["opencv"] == after["opencv"]


def test_code_fingerprint_ignores_comments_and_docstrings_not_code():
    from deeptrack_lite.fingerprint import code_of

    base = code_of("def f(x):\n    return x + 1\n")
    assert code_of('"""Module."""\n# comment\ndef f(x):  # why\n    """Doc."""\n\n    return x + 1\r\n') == base
    assert code_of("def f(x):\n    return x + 2\n") != base
    assert code_of("def f(y):\n    return y + 1\n") != base
    assert code_of('def f(x):\n    """Only a docstring."""\n') == code_of("def f(x):\n    pass\n")
