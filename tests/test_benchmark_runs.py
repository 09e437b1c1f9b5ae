"""Notebook 06's shipped benchmark runs: prefill copies only what the code here would compute, and the shipped
files are current."""
import pytest

from deeptrack_lite.course import benchmark_runs as br
from deeptrack_lite.data import synthetic_benchmark
from deeptrack_lite.evaluation import run_ope
from deeptrack_lite.evaluation.results import read_result, write_result


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


@pytest.mark.slow
def test_shipped_runs_are_what_the_code_here_computes():
    """Notebook 06 relies on them to fit a lab session; after a change to a tracker, re-make them with
    ``python -m deeptrack_lite.course.benchmark_runs --out deeptrack_lite/course/results``."""
    problems = br.check_shipped()
    assert not problems, f"{len(problems)} stale shipped runs, e.g. " + "; ".join(problems[:3])


@pytest.mark.slow
def test_a_probe_confirms_runs_only_a_code_change_made_stale_and_catches_moved_boxes(two, tmp_path):
    import copy

    longer = synthetic_benchmark(n_frames=12, names=["CatLight", "CupHide"])
    datasets = {"short": two, "long": longer}
    made = {name: {"runs": br.collect_runs(["template", "identity"], ds, tmp_path / name, progress=False)}
            for name, ds in datasets.items()}

    def shipped_by_older_code(move_a_box: bool = False, other_setting: bool = False) -> dict:
        shipped = copy.deepcopy(made)
        for record in shipped.values():
            for run in record["runs"]["template"].values():
                run["info"]["code"] = "older code"   # what a refactor of the tracker's modules does
        if move_a_box:
            shipped["short"]["runs"]["template"]["CupHide"]["boxes"][3][0] += 0.002
        if other_setting:
            shipped["long"]["runs"]["template"]["CatLight"]["info"]["frames"] = 99
        return shipped

    shipped = shipped_by_older_code()
    outcome = br.confirm_by_probe(["template", "identity"], shipped, "short", datasets, tmp_path / "p1", progress=False)
    assert list(outcome.confirmed) == ["template"] and not outcome.differ and not outcome.other
    for name, ds in datasets.items():   # every file's runs of the tracker now carry the code here, and say why
        for seq in ds:
            run = shipped[name]["runs"]["template"][seq.name]
            assert br._misfit(run, br.tracker_specs("template")[0], seq) is None
            assert "identical on every run of short" in run["info"]["code_confirmed_by_probe"]
    assert "code_confirmed_by_probe" not in shipped["short"]["runs"]["identity"]["CatLight"]["info"]

    moved = br.confirm_by_probe(["template"], shipped_by_older_code(move_a_box=True), "short", datasets,
                                tmp_path / "p2", progress=False)
    assert not moved.confirmed and "template on CupHide of short" in moved.differ["template"]
    other = br.confirm_by_probe(["template"], shipped_by_older_code(other_setting=True), "short", datasets,
                                tmp_path / "p3", progress=False)
    assert other.other == ["template"] and not other.confirmed


def test_the_command_with_probe_confirms_instead_of_re_making(tmp_path, monkeypatch, capsys):
    tiny = {20: synthetic_benchmark(n_frames=6, names=["CatLight", "CupHide"]),
            100: synthetic_benchmark(n_frames=9, names=["CatLight", "CupHide"])}
    monkeypatch.setattr(br, "benchmark_datasets", lambda frames, long_term_frames: [tiny[n] for n in frames])
    monkeypatch.setattr(br, "benchmark_trackers", lambda: ["identity", "template"])
    args = ["--out", str(tmp_path / "out"), "--work", str(tmp_path / "work"), "--frames", "100,20",
            "--long-term-frames", ""]
    assert br.main(args) == 0
    files = sorted((tmp_path / "out").glob("*.json.gz"))
    assert [f.name for f in files] == ["benchmark-synthetic-6f.json.gz", "benchmark-synthetic-9f.json.gz"]
    for path in files:   # as after a refactor of template's modules
        record = br.load_runs(path)
        for run in record["runs"]["template"].values():
            run["info"]["code"] = "older code"
        br.write_runs(path, record["runs"], dataset_name=record["dataset"], n_frames=record["frames"], command="x")
    capsys.readouterr()
    assert br.main([*args, "--probe"]) == 0
    assert "confirmed by the probe on benchmark-synthetic-6f.json.gz: template" in capsys.readouterr().out
    for path, bench in zip(files, [tiny[20], tiny[100]]):
        record = br.load_runs(path)
        assert record["provenance"]["confirmed_by_probe"] == ["template"]
        assert record["provenance"]["runs_kept_from"]["command"] == "x"   # the earlier file's, whose times stay
        assert list(record["runs"]) == ["identity", "template"]
        assert not br.check_shipped(tmp_path / "out", [bench])
