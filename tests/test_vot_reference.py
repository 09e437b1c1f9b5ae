"""The VOT measures against vot-toolkit 0.9.0 itself, not against our reading of it.

A throwaway virtual environment gets the toolkit from the package index (it needs plain ``opencv-python``, so it
cannot live beside this package's contrib build; ``attributee`` 0.1.10 fails to import on Python 3.11, hence the
pin), and the toolkit's own functions score the same inputs as this package:

- ``calculate_overlap`` against :func:`~deeptrack_lite.evaluation.vot.region_overlap`: boxes with fractional and
  half-pixel corners, rotated boxes clipped at the image border (where OpenCV's convex intersection used to
  return areas above the union), regions outside the image, one-pixel-thin ones. Equal, not close: both count
  whole pixels.
- the supervised analyses (``AccuracyRobustness``, ``AverageAccuracyRobustness``, ``EAOCurve``, ``EAOScore``)
  against :func:`~deeptrack_lite.evaluation.vot.score_vot_run` and ``summarize_vot``: trajectories with failures
  inside the burn-in, sequences of different lengths, polygon and absent ground truth, intervals inside and
  beyond the curve's end. Equal up to float32 rounding (the toolkit's EAO curve is float32).
- the long-term chain (``determine_thresholds``, ``PrecisionRecallCurves``, ``PrecisionRecallCurve``,
  ``FScoreCurve``, ``PrecisionRecall``) against :mod:`~deeptrack_lite.evaluation.longterm`: targets that leave
  the view and the image, frame 0 kept.

Skipped, and says so, where the package index is unreachable.
"""
from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

from deeptrack_lite.data import ArrayFrames, Sequence
from deeptrack_lite.evaluation.longterm import long_term_scores, presence_frames
from deeptrack_lite.evaluation.vot import SupervisedRun, region_overlap, score_vot_run, summarize_vot

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
    done = subprocess.run([str(python), "-m", "pip", "install", "-q", "--no-compile", *TOOLKIT], capture_output=True,
                          text=True)
    assert done.returncode == 0, done.stderr[-3000:]
    return python


def _toolkit(python, script: str, cases, tmp_path):
    """What ``script``, run by the toolkit's Python on ``cases`` (as JSON), writes as JSON."""
    path = tmp_path / "cases.json"
    path.write_text(json.dumps(cases))
    done = subprocess.run([str(python), "-c", script, str(path)], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout)


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
    theirs = _toolkit(toolkit_python, SCORE, cases, tmp_path)
    ours = [region_overlap(c["a"], c["b"], c["size"]) for c in cases]
    differ = [(c, o, t) for c, o, t in zip(cases, ours, theirs) if o != t]
    assert not differ, f"{len(differ)} of {len(cases)} pairs differ from vot-toolkit 0.9.0, e.g. {differ[:3]}"
    # the cases reach what they are there for: partial overlaps, polygons cut by the border, both kinds of zero
    assert sum(0 < t < 1 for t in theirs) > 300 and theirs.count(0.0) > 20 and max(theirs) <= 1.0


# ------------------------------------------------------------------------------------ trajectories and analyses
ANALYSE = """
import json, math, sys
from vot.region import Special
from vot.region.shapes import Polygon, Rectangle
from vot.tracker import Trajectory
from vot.utilities.data import Grid
from vot.analysis.supervised import AccuracyRobustness, AverageAccuracyRobustness, EAOCurve, EAOScore
from vot.analysis.longterm import (determine_thresholds, FScoreCurve, PrecisionRecall, PrecisionRecallCurve,
                                   PrecisionRecallCurves)

def region(r):
    if r is None:
        return Special(0)  # what the toolkit reads for an absent target ("nan,nan,nan,nan")
    if isinstance(r, int):
        return Special(r)
    return Rectangle(*r) if len(r) == 4 else Polygon([(r[i], r[i + 1]) for i in range(0, len(r), 2)])

class Seq:  # what the analyses read of a sequence
    def __init__(self, c):
        self.name, self.size, self._gt = c["name"], tuple(c["size"]), [region(g) for g in c["gt"]]
    def groundtruth(self, frame=None):
        return self._gt if frame is None else self._gt[frame]
    def object(self, name):
        return None
    def __len__(self):
        return len(self._gt)

class Experiment:  # one trajectory per sequence, as gather() would read it from a results folder
    def __init__(self, trajectories):
        self.trajectories = trajectories
    def gather(self, tracker, sequence):
        return [self.trajectories[sequence.name]]

def trajectory(c):
    t = Trajectory(len(c["traj"]))
    for i, r in enumerate(c["traj"]):
        t.set(i, region(r), {"confidence": c["conf"][i]} if "conf" in c else None)
    return t

def grid(value):
    g = Grid(1, 1)
    g[0, 0] = value
    return g

def nan_free(v):
    return None if isinstance(v, float) and math.isnan(v) else v

out = {"supervised": [], "longterm": []}
cases = json.load(open(sys.argv[1]))
for case in cases["supervised"]:
    seqs = [Seq(c) for c in case["sequences"]]
    exp = Experiment({c["name"]: trajectory(c) for c in case["sequences"]})
    ar = AccuracyRobustness()
    per = [ar.subcompute(exp, None, s, []) for s in seqs]
    average = AverageAccuracyRobustness().aggregate(None, seqs, per)
    curve = EAOCurve().subcompute(exp, None, seqs, [])
    score = EAOScore(low=case["low"], high=case["high"]).compute(exp, [None], seqs, [grid(curve)])[0, 0][0]
    out["supervised"].append({"accuracy": [float(p[0]) for p in per], "failures": [float(p[1]) for p in per],
                              "average": [float(average[0]), float(average[1]), float(average[2][0])],
                              "curve": [nan_free(float(v)) for v in curve[0]], "eao": nan_free(float(score))})
for case in cases["longterm"]:
    seqs = [Seq(c) for c in case["sequences"]]
    exp = Experiment({c["name"]: trajectory(c) for c in case["sequences"]})
    thresholds = determine_thresholds([v for c in case["sequences"] for v in c["conf"]], 100)
    curves = [PrecisionRecallCurves().subcompute(exp, None, s, grid(((thresholds,),))) for s in seqs]
    pr = PrecisionRecallCurve().aggregate(None, seqs, curves)
    f = FScoreCurve().compute(exp, [None], seqs, [grid(pr)])
    best = PrecisionRecall().compute(exp, [None], seqs, [grid(pr), f])[0, 0]
    out["longterm"].append({"thresholds": [nan_free(v) if math.isfinite(v) else str(v) for v in thresholds],
                            "recall": [float(p[0]) for p in pr[0]], "precision": [float(p[1]) for p in pr[0]],
                            "best": [float(v) for v in best]})
json.dump(out, sys.stdout)
"""


def _track(rng, gt, visible, size, polygon):
    """A plausible tracker's boxes near a ground truth (rectangles: trackers answer boxes)."""
    out = []
    for g, v in zip(gt, visible):
        if not v:
            out.append([float(x) for x in (rng.uniform(0, size[0]), rng.uniform(0, size[1]), 20, 20)])
            continue
        x, y, w, h = g if not polygon else (min(g[0::2]), min(g[1::2]), np.ptp(g[0::2]), np.ptp(g[1::2]))
        out.append([float(v) for v in (x + rng.normal(0, 0.1 * w), y + rng.normal(0, 0.1 * h),
                                       w * rng.uniform(0.7, 1.3), h * rng.uniform(0.7, 1.3))])
    return out


def _ground_truth(rng, n, size, polygon, absent):
    """A target drifting across (and sometimes partly out of) the image; ``absent``: a stretch with no target."""
    W, H = size
    w, h = rng.uniform(10, 0.4 * W), rng.uniform(10, 0.4 * H)
    start, end = rng.uniform([-0.2 * W, -0.2 * H], [W, H]), rng.uniform([-0.2 * W, -0.2 * H], [W, H])
    gone = set(range(int(rng.integers(5, n // 2)), int(rng.integers(n // 2, n - 2)))) if absent else set()
    out = []
    for i in range(n):
        x, y = start + (end - start) * i / max(n - 1, 1) + rng.normal(0, 2, 2)
        if i in gone:
            out.append(None)
        elif polygon:
            angle = rng.uniform(0, 0.5)
            c, sn = np.cos(angle), np.sin(angle)
            cx, cy = x + w / 2, y + h / 2
            out.append([float(v) for dx, dy in ((-w / 2, -h / 2), (w / 2, -h / 2), (w / 2, h / 2), (-w / 2, h / 2))
                        for v in (cx + c * dx - sn * dy, cy + sn * dx + c * dy)])
        else:
            out.append([float(x), float(y), float(w), float(h)])
    return out


def _supervised_sequence(rng, name) -> dict:
    n, size = int(rng.integers(25, 420)), (int(rng.integers(80, 400)), int(rng.integers(80, 400)))
    polygon, absent = rng.random() < 0.3, rng.random() < 0.25
    gt = _ground_truth(rng, n, size, polygon, absent)
    boxes = _track(rng, gt, [g is not None for g in gt], size, polygon)
    fail = rng.choice([0.0, 0.01, 0.05, 0.2])  # 0.2: failures inside the burn-in too
    traj, i = [], 0
    while i < n:
        while i < n and gt[i] is None:  # a restart waits for the target, as run_supervised does
            traj.append(0)
            i += 1
        if i >= n:
            break
        traj.append(1)
        i += 1
        while i < n:
            if rng.random() < fail:
                traj.append(2)
                skipped = min(4, n - i - 1)
                traj.extend([0] * skipped)
                i += 1 + skipped
                break
            traj.append(boxes[i])
            i += 1
    return {"name": name, "size": list(size), "gt": gt, "traj": traj[:n]}


def _longterm_sequence(rng, name) -> dict:
    n, size = int(rng.integers(40, 300)), (int(rng.integers(80, 400)), int(rng.integers(80, 400)))
    gt = _ground_truth(rng, n, size, False, rng.random() < 0.8)
    visible = np.array([g is not None for g in gt])
    boxes = _track(rng, gt, visible, size, False)
    conf = np.where(visible, rng.normal(0.7, 0.2, n), rng.normal(0.4, 0.2, n))
    if rng.random() < 0.2:
        conf[:] = 1.0  # a tracker without a score: "present" everywhere
    conf = [float("nan"), *map(float, conf[1:])]  # frame 0 has no decision
    return {"name": name, "size": list(size), "gt": gt, "traj": [1, *boxes[1:]], "conf": conf}


def _analysis_cases() -> dict:
    rng = np.random.default_rng(350)
    intervals = [(108, 371), (100, 356), (20, 140), (5, 30), (300, 500), (2, 2)]
    supervised = []
    for k in range(40):
        low, high = intervals[k % len(intervals)]
        sequences = [_supervised_sequence(rng, f"s{k}_{j}") for j in range(int(rng.integers(1, 7)))]
        supervised.append({"sequences": sequences, "low": low, "high": high})
    longterm = [{"sequences": [_longterm_sequence(rng, f"l{k}_{j}") for j in range(int(rng.integers(1, 5)))]}
                for k in range(20)]
    return {"supervised": supervised, "longterm": longterm}


def _sequence(case) -> Sequence:
    """The package's sequence for a case: blank frames of the case's size (only the size is read), the ground
    truth as boxes (NaN where absent) and the polygons where the case has them."""
    W, H = case["size"]
    n = len(case["gt"])
    frames = ArrayFrames(np.broadcast_to(np.zeros((1, H, W, 3), np.uint8), (n, H, W, 3)))
    boxes, polygons = [], []
    for g in case["gt"]:
        if g is None:
            boxes.append([np.nan] * 4)
            polygons.append(None)
        elif len(g) == 4:
            boxes.append(g)
            polygons.append(None)
        else:
            boxes.append([min(g[0::2]), min(g[1::2]), np.ptp(g[0::2]), np.ptp(g[1::2])])
            polygons.append(np.asarray(g, dtype=np.float64).reshape(-1, 2))
    meta = {"polygons": polygons} if any(p is not None for p in polygons) else {}
    return Sequence(case["name"], frames, np.array(boxes, dtype=np.float64), meta=meta)


def _run(case) -> SupervisedRun:
    codes = np.array([r if isinstance(r, int) else -1 for r in case["traj"]], dtype=np.int64)
    boxes = np.array([[np.nan] * 4 if isinstance(r, int) else r for r in case["traj"]], dtype=np.float64)
    return SupervisedRun(codes, boxes, np.zeros(len(codes)))


def _same(a, b, tol=1e-6) -> bool:
    a = np.nan if a is None else float(a)
    b = np.nan if b is None else float(b)
    return (np.isnan(a) and np.isnan(b)) or abs(a - b) <= tol


def test_supervised_and_long_term_analyses_equal_the_toolkit_s(toolkit_python, tmp_path):
    cases = _analysis_cases()
    theirs = _toolkit(toolkit_python, ANALYSE, cases, tmp_path)
    differ = []
    for k, (case, ref) in enumerate(zip(cases["supervised"], theirs["supervised"])):
        scores = [score_vot_run(_run(c), _sequence(c)) for c in case["sequences"]]
        for s, acc, fails in zip(scores, ref["accuracy"], ref["failures"]):
            if not (_same(s.accuracy, acc, 1e-12) and s.failures == fails):
                differ.append((k, s.sequence, "accuracy/failures", (s.accuracy, s.failures), (acc, fails)))
        ours = summarize_vot(scores, interval=(case["low"], case["high"]))
        for key, value in zip(("accuracy", "robustness", "reliability"), ref["average"]):
            if not _same(ours[key], value, 1e-12):
                differ.append((k, key, ours[key], value))
        curve = ours["eao_curve"]
        if len(curve) != len(ref["curve"]) or not all(_same(a, b) for a, b in zip(curve, ref["curve"])):
            differ.append((k, "EAO curve", len(curve), len(ref["curve"])))
        if not _same(ours["eao"], ref["eao"]):
            differ.append((k, "EAO", ours["eao"], ref["eao"]))
    for k, (case, ref) in enumerate(zip(cases["longterm"], theirs["longterm"])):
        triples = [presence_frames(np.array([[np.nan] * 4, *c["traj"][1:]], dtype=np.float64), c["conf"],
                                   _sequence(c).ground_truth, tuple(c["size"])) for c in case["sequences"]]
        ours = long_term_scores(triples)
        thresholds = [float(v) for v in ref["thresholds"]]
        if len(thresholds) != len(ours.thresholds) or not np.array_equal(ours.thresholds, thresholds):
            differ.append((k, "thresholds"))
        elif not (np.allclose(ours.precision, ref["precision"], atol=1e-12, rtol=0)
                  and np.allclose(ours.recall, ref["recall"], atol=1e-12, rtol=0)):
            differ.append((k, "precision/recall curves"))
        best = ours.to_dict()
        if not all(_same(best[key], v, 1e-12) for key, v in zip(("precision", "recall", "f_score"), ref["best"])):
            differ.append((k, "best point", best, ref["best"]))
    assert not differ, f"{len(differ)} differences from vot-toolkit 0.9.0, e.g. {differ[:4]}"
    # the cases reach what they are there for: NaN EAO (interval past the curve), failures, absent targets
    assert any(r["eao"] is None for r in theirs["supervised"]) and any(r["eao"] is not None for r in theirs["supervised"])
    assert sum(sum(r["failures"]) for r in theirs["supervised"]) > 50
    assert any(any(g is None for g in c["gt"]) for case in cases["supervised"] for c in case["sequences"])
