"""Every kind of bad input gets one of the package's own errors, naming the file and line."""
import numpy as np
import pytest

from conftest import write_frames
from deeptrack_lite.data import load_dataset, load_sequence, read_boxes
from deeptrack_lite.errors import AnnotationError, BoxError, DataError, DeepTrackError, FrameError, ImageError


def annotation(tmp_path, text):
    f = tmp_path / "groundtruth_rect.txt"
    f.write_text(text)
    return f


@pytest.mark.parametrize("text,line,pattern", [
    ("1,2,3,4\n1,2,x,4\n", 2, "cannot read"),
    ("1,2,3,4\n1,2,3\n", 2, "expected 4 values"),
    ("1,2,3,4\n1,2,-3,4\n", 2, "positive"),
    ("1,2,3,4\n1,2,0,4\n", 2, "positive"),
    ("1,2,3,4\n1,nan,3,4\n", 2, "NaN"),
    ("NaN,NaN,NaN,NaN\n1,2,3,4\n", 1, "first frame"),
    ("1,2,3,4\n\n1,2,3,4\n", 2, "blank line"),
])
def test_malformed_annotation_lines_name_file_and_line(tmp_path, text, line, pattern):
    f = annotation(tmp_path, text)
    with pytest.raises(AnnotationError, match=pattern) as err:
        read_boxes(f)
    assert f"{f}, line {line}" in str(err.value)


def test_empty_and_missing_annotation(tmp_path):
    with pytest.raises(AnnotationError, match="empty"):
        read_boxes(annotation(tmp_path, "\n\n"))
    with pytest.raises(AnnotationError, match="missing"):
        read_boxes(tmp_path / "nope.txt")


def test_short_annotation(tmp_path):
    seq = tmp_path / "Short"
    write_frames(seq / "img", 5)
    (seq / "groundtruth_rect.txt").write_text("1,1,5,5\n1,1,5,5\n")
    with pytest.raises(AnnotationError, match="short annotation: 2 boxes for the 5 frames"):
        load_sequence(seq)


def test_missing_frames_in_numbering(tmp_path):
    seq = tmp_path / "Gappy"
    write_frames(seq / "img", 5)
    (seq / "img" / "0003.jpg").unlink()
    (seq / "groundtruth_rect.txt").write_text("1,1,5,5\n" * 5)
    with pytest.raises(FrameError, match="missing from the numbering: 3"):
        load_sequence(seq)


def test_fewer_frames_than_boxes(tmp_path):
    seq = tmp_path / "Few"
    write_frames(seq / "img", 2)
    (seq / "groundtruth_rect.txt").write_text("1,1,5,5\n" * 4)
    with pytest.raises(FrameError, match="frames are missing"):
        load_sequence(seq)


def test_unreadable_frame_names_the_file(otb_folder):
    bad = otb_folder / "img" / "0002.jpg"
    bad.write_bytes(b"not a jpeg at all")
    s = load_sequence(otb_folder)
    with pytest.raises(FrameError, match="0002.jpg"):
        s.frame(1)


def test_empty_folder_and_missing_path(tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(DataError, match="empty folder"):
        load_sequence(tmp_path / "empty")
    with pytest.raises(DataError, match="no sequence"):
        load_sequence(tmp_path / "does-not-exist")
    with pytest.raises(DataError, match="no sequences"):
        load_dataset(tmp_path / "empty")


def test_otb_folder_without_frames(tmp_path):
    seq = tmp_path / "NoFrames"
    (seq / "img").mkdir(parents=True)
    (seq / "groundtruth_rect.txt").write_text("1,1,5,5\n")
    with pytest.raises(FrameError, match="no frames"):
        load_sequence(seq)


def test_broken_sequence_in_dataset_is_named_or_skipped(tmp_path, otb_folder):
    bad = otb_folder.parent / "Broken"
    write_frames(bad / "img", 2)
    (bad / "groundtruth_rect.txt").write_text("1,1,5\n1,1,5,5\n")
    with pytest.raises(AnnotationError, match="'Broken'"):
        load_dataset(otb_folder.parent)
    ds = load_dataset(otb_folder.parent, skip_broken=True)
    assert ds.names == ["Toy"] and "Broken" in ds.skipped


@pytest.mark.parametrize("box,pattern", [([0, 0, 0, 10], "zero or negative"), ([1000, 1000, 5, 5], "outside"),
                                         ([np.nan, 1, 5, 5], "NaN"), ([1, 2, 3], "four numbers")])
def test_trackers_reject_bad_initial_boxes(box, pattern):
    from deeptrack_lite.trackers import create_tracker

    with pytest.raises(BoxError, match=pattern):
        create_tracker("kcf").init(np.zeros((50, 60, 3), np.uint8), box)


def test_trackers_reject_non_images():
    from deeptrack_lite.trackers import create_tracker

    with pytest.raises(ImageError):
        create_tracker("identity").init(np.zeros((5, 5, 7), np.uint8), [0, 0, 2, 2])


def test_frame_error_during_tracking_keeps_what_was_computed(otb_folder):
    from deeptrack_lite.trackers import track

    (otb_folder / "img" / "0004.jpg").write_bytes(b"")
    s = load_sequence(otb_folder)
    with pytest.raises(FrameError) as err:
        track("identity", s, progress=False)
    partial = err.value.partial_result
    assert len(partial.boxes) == 3 and np.all(np.isfinite(partial.boxes))


def test_all_errors_share_the_base_class():
    for cls in (AnnotationError, BoxError, DataError, FrameError, ImageError):
        assert issubclass(cls, DeepTrackError)


def test_cli_reports_bad_input_in_one_line(tmp_path, capsys):
    from deeptrack_lite.cli import main

    assert main(["write-synthetic", "--out", str(tmp_path), "--sequences", "NoSuch"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error:") and "Traceback" not in err
