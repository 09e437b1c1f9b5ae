import numpy as np
import pytest

from conftest import write_frames
from deeptrack_lite.data import (Dataset, detect_layout, load_dataset, load_sequence, read_boxes, write_dataset_otb,
                                 write_otb)


@pytest.mark.parametrize("sep", [",", "\t", " ", ", "])
def test_otb_annotation_separators(tmp_path, sep):
    seq = tmp_path / "Sep"
    write_frames(seq / "img", 3)
    (seq / "groundtruth_rect.txt").write_text("\n".join(sep.join(["1", "2", "30", "40"]) for _ in range(3)) + "\n")
    s = load_sequence(seq)
    assert len(s) == 3 and s.ground_truth[2].tolist() == [1, 2, 30, 40]
    assert s.meta["layout"] == "otb"


def test_otb_sequence_reads_frames_lazily_as_rgb(otb_folder):
    s = load_sequence(otb_folder)
    assert s.name == "Toy" and len(s) == 5
    f = s.frame(4)
    assert f.shape == (48, 64, 3) and f.dtype == np.uint8
    assert s[-1].shape == f.shape
    assert s.init_box.tolist() == [10, 12, 20, 16]
    with pytest.raises(IndexError):
        s.frame(5)


def test_otb_multiple_targets_become_several_sequences(tmp_path):
    root = tmp_path / "otb"
    seq = root / "Jogging"
    write_frames(seq / "img", 3)
    for k in (1, 2):
        (seq / f"groundtruth_rect.{k}.txt").write_text("\n".join(f"{k},{k},5,5" for _ in range(3)))
    ds = load_dataset(root)
    assert ds.names == ["Jogging.1", "Jogging.2"]
    assert ds["Jogging.2"].ground_truth[0, 0] == 2


def test_otb_known_partial_annotation(tmp_path):
    seq = tmp_path / "Football1"  # OTB annotates frames 1..74 of 81
    write_frames(seq / "img", 81, size=(16, 16))
    (seq / "groundtruth_rect.txt").write_text("\n".join("1,1,5,5" for _ in range(74)))
    s = load_sequence(seq)
    assert len(s) == 74 and s.frames.paths[-1].name == "0074.jpg"


def test_vot_polygons_and_tags(tmp_path):
    seq = tmp_path / "bag"
    write_frames(seq / "color", 3, digits=8)
    poly = "291.827,203.603,396.382,264.289,442.173,185.397,337.618,124.711"
    (seq / "groundtruth.txt").write_text("\n".join([poly, "10,10,5,6", poly]))
    (seq / "occlusion.tag").write_text("0\n1\n0\n")
    s = load_sequence(seq)
    assert detect_layout(seq) == "vot"
    assert s.ground_truth[0] == pytest.approx([291.827, 124.711, 150.346, 139.578])
    assert s.ground_truth[1].tolist() == [10, 10, 5, 6]
    assert "OCC" in s.attributes


def test_vot_flat_frames(tmp_path):
    seq = tmp_path / "flat"
    write_frames(seq, 2, digits=8)
    (seq / "groundtruth.txt").write_text("1,1,5,5\n2,2,5,5\n")
    assert len(load_sequence(seq)) == 2


def test_got10k_absence_and_first_frame_only(tmp_path):
    seq = tmp_path / "GOT-10k_Val_000001"
    write_frames(seq, 4, digits=8)
    (seq / "groundtruth.txt").write_text("1,1,5,5\n2,2,5,5\n3,3,5,5\n4,4,5,5\n")
    (seq / "absence.label").write_text("0\n0\n1\n0\n")
    s = load_sequence(seq)
    assert s.meta["layout"] == "got10k"
    assert s.target_visible.tolist() == [True, True, False, True]
    test_seq = tmp_path / "GOT-10k_Test_000001"
    write_frames(test_seq, 3, digits=8)
    (test_seq / "groundtruth.txt").write_text("1,1,5,5\n")
    (test_seq / "meta_info.ini").write_text("[METAINFO]\n")
    t = load_sequence(test_seq)
    assert len(t) == 3 and t.target_visible.tolist() == [True, False, False]


def test_nan_rows_mark_absent_targets(tmp_path):
    f = tmp_path / "gt.txt"
    f.write_text("1,1,5,5\nNaN,NaN,NaN,NaN\n0,0,0,0\n2,2,5,5\n")
    b = read_boxes(f)
    assert np.isnan(b[1]).all() and np.isnan(b[2]).all() and b[3].tolist() == [2, 2, 5, 5]


def test_video_plus_box_file(tmp_path):
    import cv2

    video = tmp_path / "clip.avi"
    writer = cv2.VideoWriter(str(video), cv2.VideoWriter_fourcc(*"MJPG"), 10, (64, 48))
    for i in range(6):
        writer.write(np.full((48, 64, 3), 40 * i, np.uint8))
    writer.release()
    (tmp_path / "clip.txt").write_text("\n".join("5,5,10,10" for _ in range(6)))
    s = load_sequence(video)
    assert len(s) == 6 and s.meta["layout"] == "video"
    assert s.frame(3).shape == (48, 64, 3)
    assert abs(int(s.frame(5).mean()) - 200) < 10 and abs(int(s.frame(1).mean()) - 40) < 10  # seeks correctly


def test_write_otb_round_trip(tmp_path, small_sequence):
    folder = write_otb(small_sequence, tmp_path / "out" / "Small", image_format="png")
    back = load_sequence(folder)
    assert len(back) == len(small_sequence)
    assert back.ground_truth == pytest.approx(small_sequence.ground_truth, abs=0.005)
    assert back.attributes == small_sequence.attributes
    assert np.array_equal(back.frame(3), small_sequence.frame(3))  # png is lossless
    assert not list((tmp_path / "out").glob(".Small.*"))  # no temporary folder left behind


def test_write_dataset_and_load_it_back(tmp_path):
    from deeptrack_lite.data import synthetic_benchmark

    ds = synthetic_benchmark(n_frames=3, names=["CatLight", "CupHide"])
    root = write_dataset_otb(ds, tmp_path / "bench")
    back = load_dataset(root)
    assert isinstance(back, Dataset) and back.names == ["CatLight", "CupHide"]
    assert back["CupHide"].attributes == {"OCC"}


def test_single_sequence_folder_loads_as_dataset(otb_folder):
    assert load_dataset(otb_folder).names == ["Toy"]


def test_grayscale_and_rgba_frames_are_converted(tmp_path):
    import cv2

    seq = tmp_path / "Mixed"
    (seq / "img").mkdir(parents=True)
    cv2.imwrite(str(seq / "img" / "0001.png"), np.full((20, 30), 77, np.uint8))
    cv2.imwrite(str(seq / "img" / "0002.png"), np.full((20, 30, 4), 99, np.uint8))
    (seq / "groundtruth_rect.txt").write_text("1,1,5,5\n1,1,5,5\n")
    s = load_sequence(seq)
    assert s.frame(0).shape == (20, 30, 3) and s.frame(0)[0, 0].tolist() == [77, 77, 77]
    assert s.frame(1).shape == (20, 30, 3)


def test_dataset_attribute_table():
    from deeptrack_lite.data import synthetic_benchmark

    ds = synthetic_benchmark(n_frames=3)
    table = ds.attribute_table()
    assert set(table["OCC"]) == {s.name for s in ds if "OCC" in s.attributes}
    with pytest.raises(KeyError):
        ds["NoSuchSequence"]
