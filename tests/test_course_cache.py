"""The notebooks' results cache is per user (under the data folder) and a changed tracker is run again."""
import json
import tempfile
from pathlib import Path

from deeptrack_lite import course
from deeptrack_lite.data import synthetic_benchmark
from deeptrack_lite.evaluation import run_ope


def test_the_cache_lives_under_the_users_data_folder(tmp_path, monkeypatch):
    monkeypatch.setenv("DEEPTRACK_DATA", str(tmp_path / "mine"))
    folder = course.results_cache("synthetic-8f")
    assert folder == tmp_path / "mine" / "results-cache" / "synthetic-8f"
    assert not folder.is_relative_to(Path(tempfile.gettempdir()) / "deeptrack_lite_results")
    folder.mkdir(parents=True)
    course.cache.clear_results_cache()
    assert not course.results_cache().exists()


def test_a_changed_tracker_parameter_is_run_again_not_read_from_the_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("DEEPTRACK_DATA", str(tmp_path))
    bench = synthetic_benchmark(n_frames=8, names=["CatLight", "CupHide"])
    cache = course.results_cache("synthetic-8f")

    def stored():
        return {p.name: p.read_text() for p in sorted((cache / "template").glob("*.txt"))}

    def info():
        return json.loads((cache / "template" / "info" / "CupHide.json").read_text())

    # the notebook's way to change a parameter: the same label, other settings
    run_ope({"template": ("template", {"update_rate": 0.0})}, bench, cache, progress=False)
    first, first_info = stored(), info()
    run_ope({"template": ("template", {"update_rate": 0.0})}, bench, cache, progress=False)
    assert stored() == first and info() == first_info  # same settings: read back
    report = run_ope({"template": ("template", {"update_rate": 0.9})}, bench, cache, progress=False)
    assert info() != first_info and "0.9" in json.dumps(info())
    assert set(report.recomputed) and all(label == "template" for label, _, _ in report.recomputed)
