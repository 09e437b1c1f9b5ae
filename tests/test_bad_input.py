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


# ------------------------------------------------------------------ raw errors that used to reach users
def test_an_empty_field_is_not_merged_away(tmp_path):
    with pytest.raises(AnnotationError, match="line 2: an empty value"):
        read_boxes(annotation(tmp_path, "20,15,20,15\n20,,15,20,15\n"))
    assert read_boxes(annotation(tmp_path, "20, 15,\t20 ,15\n20\t15\t20\t15\n20 15 20 15\n")).shape == (3, 4)


def test_a_wrong_length_absence_label_is_an_error(tmp_path):
    seq = tmp_path / "Got"
    write_frames(seq, 4, digits=8)
    (seq / "groundtruth.txt").write_text("1,1,5,5\n" * 4)
    (seq / "absence.label").write_text("0\n0\n1\n")
    with pytest.raises(AnnotationError, match="3 flags for the 4 boxes"):
        load_sequence(seq)
    (seq / "absence.label").write_text("0\n0\n1\n0\n")
    assert np.isnan(load_sequence(seq).ground_truth[2]).all()


def test_a_frame_in_two_files_is_named(tmp_path, otb_folder):
    write_frames(otb_folder / "img", 1, suffix=".png", start=3)
    with pytest.raises(FrameError, match=r"0003\.jpg, 0003\.png"):
        load_sequence(otb_folder)


def test_a_binary_attributes_file_is_an_annotation_error(tmp_path, otb_folder):
    (otb_folder / "attributes.txt").write_bytes(b"\xff\xfe\x00\x81IV")
    with pytest.raises(AnnotationError, match="attributes.txt"):
        load_sequence(otb_folder)
    good = otb_folder.parent / "Good"
    write_frames(good / "img", 2)
    (good / "groundtruth_rect.txt").write_text("1,1,5,5\n" * 2)
    assert load_dataset(otb_folder.parent, skip_broken=True).names == ["Good"]


def test_signed_16_bit_frames_are_a_frame_error(tmp_path):
    import tifffile

    from deeptrack_lite.images import imread_rgb

    tifffile.imwrite(tmp_path / "f.tif", np.full((8, 8, 3), -3, np.int16), photometric="rgb")
    with pytest.raises(FrameError, match="int16"):
        imread_rgb(tmp_path / "f.tif")


@pytest.mark.parametrize("argv,pattern", [
    (["--sequences", "NoSuch"], "unknown benchmark sequence"),
    (["--dataset", "{folder}", "--sequences", "NoSuch"], "has no sequence 'NoSuch'"),
    (["--out", "{file}/below"], "is a file, not a folder"),
])
def test_cli_bad_arguments_are_one_line(tmp_path, capsys, otb_folder, argv, pattern):
    from deeptrack_lite.cli import main

    (tmp_path / "plain").write_text("x")
    argv = [a.format(folder=otb_folder, file=tmp_path / "plain") for a in argv]
    if "--out" not in argv:
        argv += ["--out", str(tmp_path / "o")]
    assert main(["benchmark", "--trackers", "identity", "--frames", "3", *argv]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error:") and pattern in err and "Traceback" not in err


@pytest.mark.parametrize("argv,pattern", [(["--seeds", "a,b"], "comma-separated whole numbers"),
                                          (["--frames", "-5"], "must be 1 or more"),
                                          (["--time-limit", "soon"], "number of seconds")])
def test_cli_bad_numbers_are_usage_errors(tmp_path, capsys, argv, pattern):
    from deeptrack_lite.cli import main

    with pytest.raises(SystemExit) as exit_:
        main(["benchmark", "--out", str(tmp_path), *argv])
    assert exit_.value.code == 2 and pattern in capsys.readouterr().err


def test_rescore_with_a_non_numeric_times_file(tmp_path, capsys):
    from deeptrack_lite.cli import main
    from deeptrack_lite.data import synthetic_benchmark
    from deeptrack_lite.evaluation import write_result

    seq = synthetic_benchmark(n_frames=3, names=["CatLight"])[0]
    write_result(tmp_path / "r" / "t", "CatLight", seq.ground_truth)
    (tmp_path / "r" / "t" / "times").mkdir()
    (tmp_path / "r" / "t" / "times" / "CatLight_time.txt").write_text("0.1\nfast\n0.1\n")
    assert main(["benchmark", "--frames", "3", "--sequences", "CatLight", "--rescore", str(tmp_path / "r"),
                 "--out", str(tmp_path / "o")]) == 2
    assert "CatLight_time.txt: the per-frame times must be numbers" in capsys.readouterr().err


def test_zero_byte_and_foreign_weight_files_are_data_errors(tmp_path):
    import torch

    from deeptrack_lite.features import backbone
    from deeptrack_lite.fileio import load_checkpoint
    from deeptrack_lite.models.mdnet import load_mdnet
    from deeptrack_lite.models.sdae import load_sdae

    empty = tmp_path / "empty.pt"
    empty.write_bytes(b"")
    for load in (load_sdae, load_mdnet, lambda p: backbone("efficientnet_lite0", weights=p)):
        with pytest.raises(DataError, match="empty.pt"):
            load(empty)
    torch.save([1, 2, 3], tmp_path / "list.pt")
    with pytest.raises(DataError, match="not a training checkpoint"):
        load_checkpoint(tmp_path / "list.pt", "cpu", "settings")
    with pytest.raises(DataError, match="not MDNet weights"):
        load_mdnet(tmp_path / "list.pt")


def test_damaged_shipped_weights_are_refused(tmp_path):
    import shutil

    from deeptrack_lite.fileio import sha256_of
    from deeptrack_lite.models.mdnet import default_mdnet_weights, load_mdnet
    from deeptrack_lite.models.sdae import DEFAULT_SDAE, load_sdae, sdae_provenance

    for shipped, load in ((DEFAULT_SDAE, load_sdae), (default_mdnet_weights(), load_mdnet)):
        assert sdae_provenance(shipped)["sha256"] == sha256_of(shipped)  # the provenance names the file's hash
        copy = tmp_path / shipped.name
        shutil.copy(shipped, copy)
        shutil.copy(shipped.with_suffix(".json"), copy.with_suffix(".json"))
        load(copy)
        data = bytearray(copy.read_bytes())
        data[1000:1064] = bytes(64)  # 64 zeroed bytes used to load silently
        copy.write_bytes(bytes(data))
        with pytest.raises(DataError, match="SHA-256"):
            load(copy)
