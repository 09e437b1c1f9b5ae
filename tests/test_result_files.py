"""OPE results read strictly: a damaged stored result is never reused on resume (it runs again) and never scored
on rescore (a DeepTrackError naming the file); a full disk is one clear error that says how to resume."""
import errno
import json
import os

import numpy as np
import pytest

from deeptrack_lite.cli import main
from deeptrack_lite.data import synthetic_benchmark
from deeptrack_lite.errors import AnnotationError, DeepTrackError, OutputError
from deeptrack_lite.evaluation import evaluate_ope, run_ope, write_result
from deeptrack_lite.outputs import write_text

N = 6


@pytest.fixture(scope="module")
def data():
    return synthetic_benchmark(n_frames=N, names=["CatLight"])


def stored(tmp_path, data):
    first = run_ope(["identity"], data, tmp_path, progress=False)
    return first, tmp_path / "identity" / "CatLight.txt"


BAD_LINES = ["nan,nan,nan,nan", "0,0,0,0", "10,10,-5,20", "10,10,20,-1", "10,nan,20,20", "inf,1,2,3", "1,2,0,4"]


@pytest.mark.parametrize("line", BAD_LINES)
def test_a_damaged_box_of_ours_runs_again_on_resume_and_is_refused_on_rescore(tmp_path, data, line):
    first, path = stored(tmp_path, data)
    good = path.read_text()
    lines = good.splitlines()
    lines[2] = line
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(AnnotationError, match="line 3.*damaged result"):
        evaluate_ope(tmp_path, data)
    again = run_ope(["identity"], data, tmp_path, progress=False)
    assert "damaged" in again.recomputed[("identity", "CatLight", None)]
    assert path.read_text() == good
    assert again.scores[("identity", "CatLight", None)].success.tolist() == first.scores[("identity", "CatLight", None)].success.tolist()


@pytest.mark.parametrize("info,pattern", [("[1, 2]", "not an info record"), ("null", "not an info record"),
                                          ("7", "not an info record"), ("{broken", "not a JSON info file"),
                                          (b"\xff\xfe\x00", "not a JSON info file")])
def test_an_info_file_that_is_not_a_record_is_named_on_rescore_and_run_again_on_resume(tmp_path, data, info, pattern):
    stored(tmp_path, data)
    info_path = tmp_path / "identity" / "info" / "CatLight.json"
    info_path.write_bytes(info if isinstance(info, bytes) else info.encode())
    with pytest.raises(AnnotationError, match=pattern):
        evaluate_ope(tmp_path, data)
    again = run_ope(["identity"], data, tmp_path, progress=False)
    assert pattern in again.recomputed[("identity", "CatLight", None)]
    assert json.loads(info_path.read_text())["tracker"] == "identity"


def test_an_info_folder_is_a_clear_error(tmp_path, data):
    stored(tmp_path, data)
    info_path = tmp_path / "identity" / "info" / "CatLight.json"
    info_path.unlink()
    info_path.mkdir()
    with pytest.raises(AnnotationError, match="not a JSON info file"):
        evaluate_ope(tmp_path, data)
    with pytest.raises(OutputError, match="is a folder, where a file belongs"):
        run_ope(["identity"], data, tmp_path, progress=False)


def test_another_toolkit_s_lost_frames_are_scored_but_its_damaged_boxes_are_not(tmp_path, data):
    gt = data[0].ground_truth.copy()
    boxes = gt.copy()
    boxes[2] = np.nan        # a lost target, as some toolkits write it: scored as no overlap
    boxes[3] = 0
    write_result(tmp_path / "theirs", "CatLight", boxes)
    report = evaluate_ope(tmp_path, data)
    assert report.scores[("theirs", "CatLight", None)].overlaps[2:4].tolist() == [0, 0]
    boxes[4] = [1, 2, -3, 4]
    write_result(tmp_path / "theirs", "CatLight", boxes)
    with pytest.raises(AnnotationError, match="line 5"):
        evaluate_ope(tmp_path, data)


def test_rescoring_tracker_folders_without_results_is_refused(tmp_path, capsys):
    (tmp_path / "r" / "kcf").mkdir(parents=True)
    assert main(["benchmark", "--frames", "3", "--sequences", "CatLight", "--rescore", str(tmp_path / "r"),
                 "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert "holds no results for the sequences" in err and "Traceback" not in err


def full_disk(monkeypatch, when=lambda path: True):
    real = os.replace

    def replace(src, dst, *a, **k):
        if when(str(dst)):
            raise OSError(errno.ENOSPC, "No space left on device")
        return real(src, dst, *a, **k)

    monkeypatch.setattr("deeptrack_lite.fileio.os.replace", replace)


def test_a_full_disk_says_where_and_how_to_resume_and_keeps_the_previous_file(tmp_path, monkeypatch):
    target = tmp_path / "kept.txt"
    target.write_text("before")
    full_disk(monkeypatch)
    with pytest.raises(OutputError, match=f"disk full at {target}; free space and run the same command again"):
        write_text(target, "after")
    assert target.read_text() == "before" and sorted(p.name for p in tmp_path.iterdir()) == ["kept.txt"]


@pytest.mark.parametrize("where", ["CatLight.txt", "ope.png"])
def test_the_benchmark_on_a_full_disk_is_one_line_and_resumes(tmp_path, monkeypatch, capsys, where):
    full_disk(monkeypatch, when=lambda path: path.endswith(where))
    argv = ["benchmark", "--trackers", "identity", "--frames", "4", "--sequences", "CatLight", "--out", str(tmp_path)]
    assert main(argv) == 2
    err = capsys.readouterr().err
    last = err.strip().splitlines()[-1]   # after the progress bar
    assert last.startswith("error: disk full at") and where in last and "Traceback" not in err
    monkeypatch.undo()
    assert main(argv) == 0 and (tmp_path / "ope.png").is_file()


def test_every_error_here_is_the_package_s():
    assert issubclass(OutputError, DeepTrackError) and issubclass(AnnotationError, DeepTrackError)
