"""Readers and options that used to take bad input silently or with a raw error: VOT polygons in every separator
read_boxes takes, a GOT-10k annotation cut short, and a scheduler address that is not one."""
import numpy as np
import pytest

from conftest import write_frames
from deeptrack_lite.data import load_sequence
from deeptrack_lite.errors import AnnotationError, DeepTrackError

POLY = [291.827, 203.603, 396.382, 264.289, 442.173, 185.397, 337.618, 124.711]


@pytest.mark.parametrize("sep", [",", ";", "\t", " ", "; ", " , "])
def test_vot_polygons_keep_their_corners_whatever_the_separator(tmp_path, sep):
    seq = tmp_path / "bag"
    write_frames(seq / "color", 2, digits=8)
    line = sep.join(f"{v:g}" for v in POLY)
    (seq / "groundtruth.txt").write_text(f"{line}\n{line}\n")
    s = load_sequence(seq)
    assert s.meta.get("polygons") is not None, "the boxes were read but the polygons dropped"
    assert np.allclose(s.meta["polygons"][1], np.reshape(POLY, (4, 2)))


def test_a_got10k_annotation_cut_short_is_an_error_not_a_test_split(tmp_path):
    seq = tmp_path / "GOT-10k_Val_000009"
    write_frames(seq, 5, digits=8)
    (seq / "groundtruth.txt").write_text("1,1,5,5\n")
    (seq / "absence.label").write_text("0\n0\n0\n0\n0\n")
    with pytest.raises(AnnotationError, match="cut short"):
        load_sequence(seq)
    (seq / "absence.label").write_text("0\n1\n1\n1\n1\n")   # absent after the first frame: consistent, kept
    assert load_sequence(seq).target_visible.tolist() == [True, False, False, False, False]


@pytest.mark.parametrize("address", ["nonsense", "foo://bar:1"])
def test_a_scheduler_address_that_is_not_one_is_a_clear_error(tmp_path, capsys, address):
    from deeptrack_lite.cli import main

    assert main(["benchmark", "--trackers", "identity", "--frames", "3", "--sequences", "CatLight",
                 "--scheduler", address, "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "is not a Dask scheduler's address" in err and "Traceback" not in err
    assert issubclass(AnnotationError, DeepTrackError)
