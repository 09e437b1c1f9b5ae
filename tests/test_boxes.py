import numpy as np
import pytest

from deeptrack_lite import boxes
from deeptrack_lite.errors import BoxError


def test_iou_hand_computed_cases():
    a = np.array([0, 0, 10, 10.0])
    assert boxes.iou(a, a) == pytest.approx(1.0)
    assert boxes.iou(a, [5, 0, 10, 10]) == pytest.approx(50 / 150)
    assert boxes.iou(a, [10, 0, 10, 10]) == 0.0  # touching edges do not overlap
    assert boxes.iou(a, [20, 20, 5, 5]) == 0.0
    assert boxes.iou(a, [0, 0, 0, 0]) == 0.0  # zero area
    assert boxes.iou([0, 0, 0, 0], [0, 0, 0, 0]) == 0.0
    assert boxes.iou(a, [2, 2, 4, 4]) == pytest.approx(16 / 100)


def test_iou_broadcasts():
    out = boxes.iou(np.array([[0, 0, 10, 10], [0, 0, 4, 4.0]]), np.array([0, 0, 10, 10.0]))
    assert out == pytest.approx([1.0, 0.16])


def test_center_follows_otb():
    assert boxes.box_center([10, 20, 5, 7]) == pytest.approx([12.0, 23.0])


def test_polygon_to_box_is_min_max():
    poly = [291.827, 203.603, 396.382, 264.289, 442.173, 185.397, 337.618, 124.711]
    assert boxes.polygon_to_box(poly) == pytest.approx([291.827, 124.711, 150.346, 139.578])


def test_format_round_trip():
    b = np.array([[1, 2, 3, 4.0]])
    assert boxes.xyxy_to_xywh(boxes.xywh_to_xyxy(b)) == pytest.approx(b)


def test_clip_box():
    assert boxes.clip_box([-5, -5, 20, 20], (10, 12)) == pytest.approx([0, 0, 12, 10])
    assert boxes.clip_box([50, 50, 5, 5], (10, 10))[2] == 0


@pytest.mark.parametrize("bad", [[1, 2, 3], [1, 2, 0, 4], [1, 2, 3, -1], [np.nan, 0, 1, 1], "abc", [1, 2, 3, np.inf]])
def test_as_box_rejects_bad_boxes(bad):
    with pytest.raises(BoxError):
        boxes.as_box(bad)


def test_box_outside_image_is_rejected():
    with pytest.raises(BoxError, match="outside"):
        boxes.check_box_in_image([100, 100, 10, 10], (50, 50, 3))
    assert boxes.check_box_in_image([-5, -5, 10, 10], (50, 50, 3)) is not None  # partly inside is fine
