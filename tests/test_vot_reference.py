"""The VOT overlaps against vot-toolkit 0.9.0 itself, not against our reading of it.

A throwaway virtual environment gets the toolkit from the package index (it needs plain ``opencv-python``, so it
cannot live beside this package's contrib build; ``attributee`` 0.1.10 fails to import on Python 3.11, hence the
pin), and its own ``vot.region.raster.calculate_overlap`` scores the same pairs of regions as
:func:`deeptrack_lite.evaluation.vot.region_overlap`: boxes with fractional and half-pixel corners, rotated boxes
clipped at the image border (where OpenCV's convex intersection used to return areas above the union), regions
outside the image, and one-pixel-thin ones. The values must be equal, not close: both count whole pixels.
Skipped, and says so, where the package index is unreachable.
"""
from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

from deeptrack_lite.evaluation.vot import region_overlap

pytestmark = pytest.mark.vot_toolkit

TOOLKIT = ["vot-toolkit==0.9.0", "attributee==0.1.9"]
SCORE = """
import json, sys
from vot.region.raster import calculate_overlap
from vot.region.shapes import Polygon, Rectangle

def region(r):
    return Rectangle(*r) if len(r) == 4 else Polygon([(r[i], r[i + 1]) for i in range(0, len(r), 2)])

cases = json.load(open(sys.argv[1]))
json.dump([calculate_overlap(region(c["a"]), region(c["b"]), bounds=tuple(c["size"])) for c in cases], sys.stdout)
"""


@pytest.fixture(scope="module")
def toolkit_python(tmp_path_factory, package_index):
    venv = tmp_path_factory.mktemp("vot-toolkit") / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    python = venv / "bin" / "python"
    done = subprocess.run([str(python), "-m", "pip", "install", "-q", *TOOLKIT], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-3000:]
    return python


def _rotated(rng, size) -> list:
    """A rotated box as VOT's polygon ground truth, centred anywhere from just inside to just outside the image."""
    W, H = size
    cx, cy = rng.uniform(-0.1, 1.1) * W, rng.uniform(-0.1, 1.1) * H
    w, h, angle = rng.uniform(4, 0.6 * W), rng.uniform(4, 0.6 * H), rng.uniform(0, np.pi)
    c, s = np.cos(angle), np.sin(angle)
    corners = [(cx + c * dx - s * dy, cy + s * dx + c * dy) for dx, dy in
               ((-w / 2, -h / 2), (w / 2, -h / 2), (w / 2, h / 2), (-w / 2, h / 2))]
    return [float(v) for p in corners for v in p]


def _box(rng, size, half_pixels=False) -> list:
    W, H = size
    box = [rng.uniform(-0.2, 1.0) * W, rng.uniform(-0.2, 1.0) * H, rng.uniform(1, 0.6 * W), rng.uniform(1, 0.6 * H)]
    return [round(v * 2) / 2 for v in box] if half_pixels else box


def _near(rng, region, spread) -> list:
    """Another region near ``region`` (most random pairs would not overlap at all)."""
    r = np.asarray(region, dtype=np.float64)
    if len(r) == 4:
        return [float(v) for v in r + rng.normal(0, spread, 4) * [1, 1, 0.5, 0.5]]
    return [float(v) for v in r + np.tile(rng.normal(0, spread, 2), len(r) // 2) + rng.normal(0, spread / 4, len(r))]


def _cases() -> list:
    rng = np.random.default_rng(35)
    cases = []
    for _ in range(600):
        size = (int(rng.integers(40, 400)), int(rng.integers(40, 400)))
        kind = rng.integers(4)
        a = _rotated(rng, size) if kind < 2 else _box(rng, size, half_pixels=kind == 3)
        b = _near(rng, a, 0.1 * min(size)) if rng.random() < 0.7 else (_rotated(rng, size) if kind % 2 else _box(rng, size))
        if rng.random() < 0.3:  # the tracker's answer is always a box
            a = _box(rng, size) if rng.random() < 0.5 else _near(rng, a[:4] if len(a) == 4 else [min(a[0::2]), min(a[1::2]), 20, 20], 5)
        cases.append({"a": a, "b": b, "size": list(size)})
    hand = [  # both clipped at the same image edge: the case OpenCV's intersectConvexConvex got wrong
        {"a": [90, 20, 30, 30], "b": [95, 20, 125, 35, 110, 65, 80, 50], "size": [100, 100]},
        {"a": [-15, 40, 30, 20], "b": [-20, 50, 5, 35, 15, 55, -5, 70], "size": [100, 100]},
        {"a": [10, 10, 40, 40], "b": [30, 10, 50, 30, 30, 50, 10, 30], "size": [100, 100]},  # a diamond in a box
        {"a": [200, 200, 10, 10], "b": [205, 200, 215, 205, 210, 215, 200, 205], "size": [100, 100]},  # outside
        {"a": [10, 10, 1, 30], "b": [10, 10, 1, 30], "size": [100, 100]},  # one column: the toolkit's "empty"
        {"a": [10.5, 11.5, 20.5, 9.5], "b": [12.5, 10.5, 20, 10], "size": [64, 48]},  # halves round to even
        {"a": [0, 0, 100, 100], "b": [-50, 50, 50, -50, 150, 50, 50, 150], "size": [100, 100]},  # corners cut off
    ]
    return cases + hand


def test_region_overlaps_equal_the_toolkit_s(toolkit_python, tmp_path):
    cases = _cases()
    path = tmp_path / "cases.json"
    path.write_text(json.dumps(cases))
    done = subprocess.run([str(toolkit_python), "-c", SCORE, str(path)], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-3000:]
    theirs = json.loads(done.stdout)
    ours = [region_overlap(c["a"], c["b"], c["size"]) for c in cases]
    differ = [(c, o, t) for c, o, t in zip(cases, ours, theirs) if o != t]
    assert not differ, f"{len(differ)} of {len(cases)} pairs differ from vot-toolkit 0.9.0, e.g. {differ[:3]}"
    # the cases reach what they are there for: partial overlaps, polygons cut by the border, both kinds of zero
    assert sum(0 < t < 1 for t in theirs) > 300 and theirs.count(0.0) > 20 and max(theirs) <= 1.0
