"""Automatic checks for the notebooks' exercises.

Each ``check_*`` function runs a student's function on prepared cases and returns a :class:`CheckResult`
that says what is wrong, not only that something is (a missing ``- 1``, a ``<`` for a ``<=``...).
Checks never raise, so a notebook with unfinished exercises still runs top to bottom.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass
class CheckResult:
    exercise: str
    passed: bool
    messages: list = field(default_factory=list)

    def __bool__(self) -> bool:
        return self.passed

    def __str__(self) -> str:
        mark = "passed" if self.passed else "not yet"
        lines = [f"[{mark}] {self.exercise}"] + [f"  - {m}" for m in self.messages]
        return "\n".join(lines)

    __repr__ = __str__

    def _repr_html_(self) -> str:
        color = "#1a7f37" if self.passed else "#b35900"
        mark = "&#10004; passed" if self.passed else "&#10008; not yet"
        items = "".join(f"<li>{m}</li>" for m in self.messages)
        return f"<div style='border-left:4px solid {color};padding-left:8px'><b>{mark}</b>: {self.exercise}<ul>{items}</ul></div>"


def _call(fn, *args):
    try:
        return fn(*args), None
    except NotImplementedError:
        return None, "not implemented yet: replace the `raise NotImplementedError` with your code"
    except Exception as exc:  # a student's bug: report it, do not crash the notebook
        return None, f"your function raised {type(exc).__name__}: {exc}"


def check_box_center(fn) -> CheckResult:
    """Exercise: ``fn(box) -> (cx, cy)`` for an (x, y, w, h) box, with OTB's pixel-center convention."""
    name = "box center, OTB convention"
    cases = [np.array([10.0, 20.0, 5.0, 7.0]), np.array([0.0, 0.0, 1.0, 1.0]), np.array([3.5, 2.0, 10.0, 4.0])]
    for box in cases:
        got, err = _call(fn, box.copy())
        if err:
            return CheckResult(name, False, [err])
        if got is None:
            return CheckResult(name, False, ["your function returned None: return the (cx, cy) pair"])
        got = np.asarray(got, dtype=np.float64).reshape(-1)
        want = box[:2] + (box[2:] - 1) / 2
        if got.shape != (2,):
            return CheckResult(name, False, [f"return two numbers (cx, cy); got {got.size} values"])
        if np.allclose(got, want):
            continue
        if np.allclose(got, box[:2] + box[2:] / 2):
            return CheckResult(name, False, [f"for {box.tolist()} you returned {got.tolist()}: that is x + w/2. OTB counts "
                                             "pixels, so a box of width w spans pixel centers x .. x + w - 1: use x + (w - 1)/2"])
        if np.allclose(got, box[:2] + box[2:]):
            return CheckResult(name, False, [f"you returned the bottom-right corner {got.tolist()}, not the center"])
        return CheckResult(name, False, [f"for {box.tolist()} expected {want.tolist()}, got {got.tolist()}"])
    return CheckResult(name, True, ["your centers match OTB's for all test boxes"])


def check_precision_at(fn) -> CheckResult:
    """Exercise: ``fn(center_errors, threshold) -> fraction of frames with error <= threshold``."""
    name = "precision at a threshold"
    errors = np.array([0.0, 5.0, 19.9, 20.0, 20.1, 50.0, np.inf])
    got, err = _call(fn, errors.copy(), 20)
    if err:
        return CheckResult(name, False, [err])
    if got is None:
        return CheckResult(name, False, ["your function returned None: return a fraction between 0 and 1"])
    got = float(np.asarray(got))
    want = 4 / 7
    if np.isclose(got, want):
        return CheckResult(name, True, ["4 of these 7 frames lie within 20 px: 0.571, as OTB counts"])
    if np.isclose(got, 3 / 7):
        return CheckResult(name, False, ["you got 3/7: a frame exactly 20 px off counts as precise in OTB (error <= threshold, not <)"])
    if np.isclose(got, 4):
        return CheckResult(name, False, ["you returned a count (4): divide by the number of frames"])
    if np.isclose(got, 4 / 6):
        return CheckResult(name, False, ["you left out the lost frame (infinite error): it counts as a miss, not as absent"])
    return CheckResult(name, False, [f"expected {want:.3f} for errors {errors.tolist()} at 20 px, got {got:.3f}"])


def check_success_curve(fn) -> CheckResult:
    """Exercise: ``fn(ious, thresholds) -> fraction of frames with IoU > each threshold`` (OTB: strictly)."""
    name = "success curve from per-frame IoU"
    ious = np.array([0.0, 0.2, 0.5, 0.5, 0.8, 1.0])
    thresholds = np.linspace(0, 1, 21)
    want = (ious[None, :] > thresholds[:, None]).mean(axis=1)
    got, err = _call(fn, ious.copy(), thresholds.copy())
    if err:
        return CheckResult(name, False, [err])
    if got is None:
        return CheckResult(name, False, ["your function returned None: return one fraction per threshold"])
    got = np.asarray(got, dtype=np.float64).reshape(-1)
    if got.shape != want.shape:
        return CheckResult(name, False, [f"return one value per threshold ({len(thresholds)}), got {got.size}"])
    if np.allclose(got, want):
        return CheckResult(name, True, [f"matches OTB; the AUC of this curve is {want.mean():.3f}"])
    if np.allclose(got, (ious[None, :] >= thresholds[:, None]).mean(axis=1)):
        return CheckResult(name, False, ["you used IoU >= threshold: OTB counts a frame as a success only when IoU is "
                                         "strictly greater (so a frame with IoU 0 never counts, even at threshold 0)"])
    if np.allclose(got, want * len(ious)):
        return CheckResult(name, False, ["you returned counts: divide by the number of frames"])
    if np.allclose(got, (ious[None, :] < thresholds[:, None]).mean(axis=1)) or np.allclose(got, 1 - want):
        return CheckResult(name, False, ["your curve counts failures: the success rate is the fraction *above* the threshold"])
    return CheckResult(name, False, [f"for IoUs {ious.tolist()} at threshold 0.5 expected {want[10]:.3f}, got {got[10]:.3f}"])


def check_dataset_auc(fn) -> CheckResult:
    """Exercise: ``fn(list_of_per_sequence_iou_arrays) -> dataset success AUC`` (average the curves)."""
    name = "dataset success AUC"
    thresholds = np.linspace(0, 1, 21)
    short = np.array([0.9, 0.9])  # a short sequence tracked well
    long = np.full(18, 0.1)  # a long sequence tracked badly
    curves = [(o[None, :] > thresholds[:, None]).mean(axis=1) for o in (short, long)]
    want = float(np.mean(np.mean(curves, axis=0)))
    pooled = float(np.mean((np.concatenate([short, long])[None, :] > thresholds[:, None]).mean(axis=1)))
    got, err = _call(fn, [short.copy(), long.copy()])
    if err:
        return CheckResult(name, False, [err])
    if got is None:
        return CheckResult(name, False, ["your function returned None: return one number"])
    got = float(np.asarray(got))
    if np.isclose(got, want):
        return CheckResult(name, True, [f"{want:.3f}: each sequence weighs the same, however long it is"])
    if np.isclose(got, pooled):
        return CheckResult(name, False, [f"you pooled all frames ({pooled:.3f}): long sequences then dominate. OTB averages "
                                         f"the per-sequence curves, each sequence weighing the same ({want:.3f})"])
    return CheckResult(name, False, [f"expected {want:.3f}, got {got:.3f}"])
