"""Notebook 06's shipped benchmark runs: prefill copies only what the code here would compute, and the shipped
files are current."""
import pytest

from deeptrack_lite.course import benchmark_runs as br
from deeptrack_lite.data import synthetic_benchmark
from deeptrack_lite.evaluation import run_ope
from deeptrack_lite.evaluation.ope import read_result, write_result


@pytest.fixture(scope="module")
def two():
    return synthetic_benchmark(n_frames=8, names=["CatLight", "CupHide"])


def test_prefill_copies_fitting_runs_and_run_ope_reuses_them(two, tmp_path):
    runs = br.collect_runs(["kcf", "identity"], two, tmp_path / "work", progress=False)
    shipped = br.write_runs(tmp_path / "shipped.json.gz", runs, dataset_name=two.name, n_frames=8, command="test")
    assert br.load_runs(shipped)["provenance"]["command"] == "test"
    runs["kcf"]["CupHide"]["info"]["code"] = "made by other code"   # as after an edit of the tracker
    stale = br.write_runs(tmp_path / "stale.json.gz", runs, dataset_name=two.name, n_frames=8, command="test")

    done = br.prefill(tmp_path / "a", two, ["kcf", "identity"], source=shipped)
    assert done.copied == 4 and not done.stale and "4 shipped runs copied" in str(done)
    report = run_ope(["kcf", "identity"], two, tmp_path / "a", progress=False)
    assert report.skipped_runs == 4 and not report.recomputed
    assert read_result(tmp_path / "a" / "kcf", two["CatLight"])["info"]["shipped"] is True

    done = br.prefill(tmp_path / "b", two, ["kcf", "identity", "template"], source=stale)
    assert done.copied == 3 and list(done.stale) == [("kcf", "CupHide")] and "code" in done.stale[("kcf", "CupHide")]
    assert done.missing == [("template", "CatLight"), ("template", "CupHide")] and "do not fit" in str(done)
    again = br.prefill(tmp_path / "b", two, ["kcf"], source=shipped)  # a result already there is never replaced
    assert again.present == 1 and again.copied == 1
    assert "no shipped runs" in str(br.prefill(tmp_path / "c", two, source=tmp_path / "none.json.gz"))
    # a result made by older code is replaced by a shipped run that fits, instead of being computed again
    old = runs["kcf"]["CupHide"]
    write_result(tmp_path / "d" / "kcf", "CupHide", old["boxes"], old["times"], old["info"], scores=old["scores"])
    done = br.prefill(tmp_path / "d", two, ["kcf"], source=shipped)
    assert done.copied == 2 and done.replaced == 1 and "1 outdated" in str(done)
    assert read_result(tmp_path / "d" / "kcf", two["CupHide"])["info"]["code"] != "made by other code"
    assert run_ope(["kcf"], two, tmp_path / "d", progress=False).skipped_runs == 2


def test_a_broken_shipped_file_is_a_clear_error(tmp_path):
    from deeptrack_lite.errors import DataError

    bad = tmp_path / "bad.json.gz"
    bad.write_bytes(b"not gzip")
    with pytest.raises(DataError, match="not a shipped benchmark file"):
        br.load_runs(bad)


def test_shipped_runs_are_what_the_code_here_computes():
    """Notebook 06 relies on them to fit a lab session; after a change to a tracker, re-make them with
    ``python -m deeptrack_lite.course.benchmark_runs --out deeptrack_lite/course/results``."""
    problems = br.check_shipped()
    assert not problems, f"{len(problems)} stale shipped runs, e.g. " + "; ".join(problems[:3])
