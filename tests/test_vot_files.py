"""VOT result files read strictly: a damaged trajectory is a DataError naming the file and line, is never scored
as if it were a run, and is run again on resume; a folder without VOT results is refused."""
import json

import numpy as np
import pytest

from deeptrack_lite.cli import main
from deeptrack_lite.data import synthetic_benchmark
from deeptrack_lite.errors import DataError, DeepTrackError
from deeptrack_lite.evaluation import write_result
from deeptrack_lite.evaluation.results import trajectory_path
from deeptrack_lite.evaluation.vot import evaluate_vot, read_trajectory, run_vot, score_vot_run

BOX = "20.0000,20.0000,20.0000,20.0000"
VALID = ["1"] + [BOX] * 9  # a run without failures: every line but the first is a region


def trajectory(tmp_path, lines, times=None):
    path = tmp_path / "t_001.txt"
    path.write_bytes(lines if isinstance(lines, bytes) else ("\n".join(lines) + "\n").encode())
    if times is not None:
        (tmp_path / "t_001_time.txt").write_bytes(times)
    return path


@pytest.mark.parametrize("lines,line,pattern", [
    (["1", BOX, "7", BOX], 3, "not a frame code"),
    (["1", BOX, "-1", BOX], 3, "not a frame code"),
    (["1", BOX, "1.5", BOX], 3, "not a frame code"),
    (["1", "twenty,20,20,20"], 2, "not a VOT region"),
    (["1", "nan,20,20,20"], 2, "not a finite number"),
    (["1", "20,inf,20,20"], 2, "not a finite number"),
    (["1", "20,20,-20,20"], 2, "negative width or height"),
    (["1", "20,20,20"], 2, "3 numbers are not a VOT region"),
    (["1", "1,2,3,4,5,6,7"], 2, "7 numbers"),
    ([BOX, BOX], 1, "out of VOT's order"),                       # does not start with 1
    (["1", BOX, "2", BOX, BOX], 4, "out of VOT's order"),         # a failure, then regions without a restart
    (["1", BOX, "0", BOX], 3, "out of VOT's order"),              # skipped in the middle of tracking
    (["1", BOX, "1", BOX], 3, "out of VOT's order"),              # a restart without a failure
    (["1", BOX, "2", "0", "2"], 5, "out of VOT's order"),
])
def test_malformed_trajectory_lines_are_data_errors_naming_file_and_line(tmp_path, lines, line, pattern):
    path = trajectory(tmp_path, lines)
    with pytest.raises(DataError, match=pattern) as err:
        read_trajectory(path)
    assert f"{path}, line {line}" in str(err.value)


def test_binary_empty_and_never_initialised_trajectories_and_damaged_times(tmp_path):
    with pytest.raises(DataError, match="not a text file"):
        read_trajectory(trajectory(tmp_path, b"\x89PNG\r\n\x1a\n\xff\xfe\x00"))
    with pytest.raises(DataError, match="empty trajectory"):
        read_trajectory(trajectory(tmp_path, b"\n\n"))
    with pytest.raises(DataError, match="never initialises"):
        read_trajectory(trajectory(tmp_path, ["0", "0"]))
    with pytest.raises(DataError, match="frame times must be numbers"):
        read_trajectory(trajectory(tmp_path, VALID, times=b"0.1\nfast\n"))
    with pytest.raises(DataError, match="not a text file"):
        read_trajectory(trajectory(tmp_path, VALID, times=b"\xff\xfe\x00\x01"))
    with pytest.raises(DataError, match="cannot read"):
        read_trajectory(tmp_path / "missing_001.txt")


def test_the_toolkit_s_orders_are_read(tmp_path):
    ends_failed = read_trajectory(trajectory(tmp_path, ["1", BOX, "2", "0", "0"]))   # failed near the end
    assert ends_failed.codes.tolist() == [1, -1, 2, 0, 0]
    restarted = read_trajectory(trajectory(tmp_path, ["1", "2", "0", "0", "0", "0", "1", BOX, "1,1,9,1,9,9"]))
    assert restarted.failures == 1 and restarted.initializations.tolist() == [0, 6]
    assert np.allclose(restarted.boxes[8], [1, 1, 8, 8])                                # a polygon's bounds
    late = read_trajectory(trajectory(tmp_path, ["0", "0", "1", BOX]))                 # the target absent at first
    assert late.initializations.tolist() == [2]


def test_a_late_first_start_is_refused_where_the_target_is_visible():
    seq = synthetic_benchmark(n_frames=4, names=["CatLight"])[0]
    from deeptrack_lite.evaluation.vot import SupervisedRun

    run = SupervisedRun(np.array([0, 1, -1, -1]), np.tile(seq.ground_truth[:1], (4, 1)), np.zeros(4))
    with pytest.raises(DataError, match="visible from frame 1"):
        score_vot_run(run, seq)


JUNK = ["7", "-1", "1.5", "abc", "nan,1,2,3", "1,2,-3,4", "inf,0,1,1", "1,2,3", "1,2,3,4,5", "0", "1", "2",
        "1;2;3", "", "1,,2,3", "0x10", "1e999,1,1,1", "\u00e9t\u00e9"]


@pytest.mark.parametrize("junk", JUNK)
def test_every_one_line_damage_of_a_valid_trajectory_is_refused(tmp_path, junk):
    """Any line of a run without failures replaced by ``junk``: read and scored, it must raise DataError (a blank
    line is dropped and then the file is one frame short of its sequence)."""
    seq = synthetic_benchmark(n_frames=len(VALID), names=["CatLight"])[0]
    for i in range(len(VALID)):
        if junk == VALID[i] or (i, junk) == (len(VALID) - 1, "2"):  # unchanged, or a failure on the last frame
            continue
        lines = list(VALID)
        lines[i] = junk
        with pytest.raises(DataError):
            score_vot_run(read_trajectory(trajectory(tmp_path, lines)), seq)


def test_a_damaged_stored_trajectory_is_run_again_on_resume_and_not_scored_on_rescore(tmp_path, capsys):
    data = synthetic_benchmark(n_frames=15, names=["CatLight", "CoinDash"])
    first = run_vot(["identity"], data, tmp_path, progress=False)
    path = trajectory_path(tmp_path, "identity", "CatLight")
    good = path.read_text()
    lines = good.splitlines()
    lines[3] = "nan,nan,nan,nan"
    path.write_text("\n".join(lines) + "\n")

    rescored = evaluate_vot(tmp_path, data)   # scored: the intact sequence; the damaged one is named, not scored
    assert "not scored" in rescored.failed[("identity", "CatLight")] and "line 4" in rescored.failed[("identity", "CatLight")]

    again = run_vot(["identity"], data, tmp_path, progress=False)
    assert list(again.recomputed) == [("identity", "CatLight")] and "damaged" in again.recomputed[("identity", "CatLight")]
    assert "running it again" in capsys.readouterr().err
    assert path.read_text() == good and not again.failed
    same = lambda s: json.dumps(s, sort_keys=True)
    assert same(again.summaries) == same(first.summaries)
    path.with_name(path.stem + "_info.json").write_text("[1, 2]")   # a settings record that is not one
    assert "not a settings record" in run_vot(["identity"], data, tmp_path, progress=False).recomputed[("identity", "CatLight")]


def test_rescoring_a_folder_without_vot_results_is_refused(tmp_path, capsys):
    data = synthetic_benchmark(n_frames=5, names=["CatLight"])
    with pytest.raises(DataError, match="no results folder"):
        evaluate_vot(tmp_path / "missing", data)
    (tmp_path / "empty").mkdir()
    with pytest.raises(DataError, match="holds no VOT results"):
        evaluate_vot(tmp_path / "empty", data)
    write_result(tmp_path / "otb" / "kcf", "CatLight", data[0].ground_truth)   # an OTB-layout results folder
    with pytest.raises(DataError, match="scored with --protocol ope"):
        evaluate_vot(tmp_path / "otb", data)
    for folder in ("missing", "empty", "otb"):
        assert main(["benchmark", "--protocol", "vot", "--frames", "5", "--sequences", "CatLight",
                     "--rescore", str(tmp_path / folder), "--out", str(tmp_path / "o")]) == 2
        err = capsys.readouterr().err
        assert err.startswith("error:") and "Traceback" not in err


def test_the_vot_protocol_refuses_seeds_instead_of_ignoring_them(tmp_path, capsys):
    assert main(["benchmark", "--protocol", "vot", "--trackers", "identity", "--seeds", "0,1", "--frames", "5",
                 "--sequences", "CatLight", "--out", str(tmp_path)]) == 2
    assert "--seeds is for --protocol ope" in capsys.readouterr().err
    assert not (tmp_path / "results").exists()


def test_every_error_here_is_the_package_s():
    assert issubclass(DataError, DeepTrackError)
