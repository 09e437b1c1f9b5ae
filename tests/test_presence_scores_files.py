"""Seeds the random generators cannot take are refused by the command line, and a label's presence scores are never
left behind by another tracker run under the same label."""
import numpy as np
import pytest

from deeptrack_lite.cli import main
from deeptrack_lite.data import long_term_benchmark, synthetic_benchmark
from deeptrack_lite.evaluation import run_ope
from deeptrack_lite.evaluation.longterm import evaluate_presence
from deeptrack_lite.evaluation.results import read_scores


@pytest.mark.parametrize("seeds", ["-1", "0,-2", str(2 ** 70)])
def test_the_cli_refuses_seeds_the_generators_cannot_take(tmp_path, capsys, seeds):
    with pytest.raises(SystemExit) as exit_:
        main(["benchmark", "--out", str(tmp_path), "--seeds", seeds])
    assert exit_.value.code == 2 and "from 0 to 2**63 - 1" in capsys.readouterr().err


def test_a_label_run_again_with_another_tracker_keeps_none_of_the_old_scores(tmp_path):
    data = long_term_benchmark(n_frames=30)
    data = type(data)(data.name, list(data)[:1])
    run_ope({"t": "template"}, data, tmp_path, progress=False)
    score_file = tmp_path / "t" / "scores" / f"{data[0].name}_score.txt"
    assert score_file.is_file()
    run_ope({"t": "identity"}, data, tmp_path, progress=False)   # the label now names a tracker without scores
    assert not score_file.exists() and read_scores(tmp_path / "t", data[0]) is None
    clean = tmp_path / "clean"
    run_ope({"t": "identity"}, data, clean, progress=False)
    reused, fresh = evaluate_presence(tmp_path, data, ["t"])["t"], evaluate_presence(clean, data, ["t"])["t"]
    assert reused.f_score == fresh.f_score and np.array_equal(reused.precision, fresh.precision)


def test_a_tracker_with_scores_still_writes_them(tmp_path):
    data = synthetic_benchmark(n_frames=5, names=["CatLight"])
    run_ope(["template"], data, tmp_path, progress=False)
    assert (tmp_path / "template" / "scores" / "CatLight_score.txt").is_file()
