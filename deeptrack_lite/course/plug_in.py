"""A student's function inside the package's real tracker: the plug-in points of the exercises.

An exercise has the student write one mechanism (systematic resampling, DLT's update rule, MDNet's hard
negatives and box deltas, SiamFC's correlation) and :mod:`.exercises` checks it on small inputs. This module
then runs the real tracker with the student's function in place of the package's, beside the package's own
run on the same sequence and seed:

    comparison = dtl.course.compare_plugged_in("systematic_resample", my_resample, sequence)
    comparison            # the two runs' success AUC, and how far the boxes moved

Each plug-in point names the package function that the tracker looks up by its module's name at call time
(``PLUG_POINTS[name].module`` and ``.attribute``); :func:`plugged_in` puts an adapter around the student's
function there for the length of a ``with`` block and always restores the original. The adapter converts
between the exercise's signature (NumPy arrays, one item) and the package's (tensors, batches), so the
package's reference solution plugged in gives exactly the boxes the package gives (a test checks it against
the shipped benchmark runs), and any other function changes them. An exception in the student's function, or
a result of the wrong shape, stops the run with one :class:`PlugInError` saying which.
"""
from __future__ import annotations

import importlib
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Callable

import numpy as np
import torch

from ..errors import DeepTrackError, TrackerError


class PlugInError(DeepTrackError, ValueError):
    """A student's function failed inside the tracker, or returned something the tracker cannot use."""


@dataclass(frozen=True)
class PlugPoint:
    """Where a tracker calls a mechanism an exercise implements."""

    name: str           # the exercise's function name (course.exercises.EXERCISES)
    notebook: str
    module: str         # the module whose global the tracker calls...
    attribute: str      # ...and its name there
    signature: str      # the exercise's signature
    tracker: str        # the registered tracker the notebook runs it in
    adapt: Callable     # (student's fn) -> a drop-in replacement for module.attribute
    broken: str         # what a wrong function does to the tracker, said in the notebook


class NotWrittenYet(PlugInError):
    """The student's function still raises ``NotImplementedError``: the exercise is not done."""


def _call(name: str, fn, *args):
    try:
        return fn(*args)
    except NotImplementedError:
        raise NotWrittenYet(f"your {name} is not written yet (it raises NotImplementedError): write it in the "
                            "exercise above, check it, then run this cell again") from None
    except Exception as exc:  # the student's code: any error, said in one line with where it ran
        raise PlugInError(f"your {name} raised {exc.__class__.__name__}: {exc} (inside the tracker; run the "
                          "exercise's check first)") from None


def _array(name: str, value, shape: tuple, what: str) -> np.ndarray:
    try:
        out = np.asarray(value.detach().cpu() if hasattr(value, "detach") else value)
    except (TypeError, ValueError):
        out = None
    if out is None or out.shape != shape:
        got = "nothing" if value is None else f"shape {getattr(out, 'shape', None)}"
        raise PlugInError(f"your {name} must return {what} of shape {shape}; it returned {got}")
    return np.ascontiguousarray(out)  # e.g. argsort(...)[::-1]: torch takes no negative strides


def _indices(name: str, value, count: int, n: int, what: str, in_range: bool = True) -> np.ndarray:
    """The student's ``count`` whole-number indices into ``n`` items; ``in_range=False`` leaves the range to
    the caller (resampling clamps, since a cumulative sum that rounds below 1 can give index ``n``)."""
    idx = _array(name, value, (count,), what)
    if idx.dtype.kind not in "iu" or (in_range and count and (idx.min() < 0 or idx.max() >= n)):
        raise PlugInError(f"your {name} must return whole-number indices from 0 to {n - 1}; it returned "
                          f"{idx.dtype} values" + (f" from {idx.min()} to {idx.max()}" if count else ""))
    return idx


def _resample_adapter(fn):
    def systematic_resample(weights: torch.Tensor, generator=None) -> torch.Tensor:
        # the package's own draw of the offset, so one seed gives both runs the same u
        n = weights.shape[0]
        u = torch.rand(1, generator=generator, device=weights.device, dtype=weights.dtype) / n
        w = (weights / weights.sum()).cpu().numpy()
        idx = _indices("systematic_resample", _call("systematic_resample", fn, w, float(u)), n, n,
                       "N particle indices", in_range=False)
        return torch.as_tensor(idx, dtype=torch.long, device=weights.device).clamp(0, n - 1)
    return systematic_resample


def _update_adapter(fn):
    def needs_update(confidences, threshold) -> bool:
        return bool(_call("should_update", fn, np.asarray(confidences).copy(), threshold))
    return needs_update


def _hard_negatives_adapter(fn):
    def hard_negative_mining(score, negatives: torch.Tensor, n_hard: int) -> torch.Tensor:
        with torch.no_grad():
            s = score(negatives).reshape(-1)
        k = min(int(n_hard), len(s))
        idx = _indices("hard_negatives", _call("hard_negatives", fn, s.cpu().numpy(), k), k, len(s), f"{k} indices")
        return torch.as_tensor(idx, dtype=torch.long, device=negatives.device)
    return hard_negative_mining


def _box_deltas_adapter(fn):
    def box_deltas(boxes, targets) -> np.ndarray:
        p = np.asarray(boxes, dtype=np.float64).reshape(-1, 4)
        g = np.broadcast_to(np.asarray(targets, dtype=np.float64).reshape(-1, 4), p.shape)
        rows = [_array("box_deltas", _call("box_deltas", fn, b.copy(), t.copy()), (4,), "four numbers")
                for b, t in zip(p, g)]
        return np.asarray(rows, dtype=np.float64).reshape(-1, 4)
    return box_deltas


def _correlation_adapter(fn):
    def cross_correlation(exemplar: torch.Tensor, search: torch.Tensor) -> torch.Tensor:
        n, _, H, W = search.shape
        h, w = exemplar.shape[-2:]
        z = [exemplar[i if exemplar.shape[0] > 1 else 0].detach().cpu().numpy() for i in range(n)]
        maps = [_array("correlate", _call("correlate", fn, z[i], search[i].detach().cpu().numpy()),
                       (H - h + 1, W - w + 1), "a response map") for i in range(n)]
        return torch.as_tensor(np.stack(maps), dtype=search.dtype, device=search.device)[:, None]
    return cross_correlation


PLUG_POINTS = {p.name: p for p in (
    PlugPoint("systematic_resample", "02_motion_models", "deeptrack_lite.motion.particle_filter",
              "systematic_resample", "fn(weights, u) -> indices", "particle_filter", _resample_adapter,
              "indices that ignore the weights keep unlikely particles alive, so the estimate can wander off the target"),
    PlugPoint("should_update", "03_dlt", "deeptrack_lite.trackers.dlt", "needs_update",
              "fn(confidences, threshold) -> bool", "dlt", _update_adapter,
              "a rule that fine-tunes too often, or never, changes which frames the network learns from"),
    PlugPoint("hard_negatives", "05_mdnet", "deeptrack_lite.online", "hard_negative_mining",
              "fn(scores, n) -> indices", "mdnet", _hard_negatives_adapter,
              "easy negatives teach the classifier little it does not know already, so look-alikes can win"),
    PlugPoint("box_deltas", "05_mdnet", "deeptrack_lite.models.box_regression", "box_deltas",
              "fn(box, target) -> (dx, dy, dw, dh)", "mdnet", _box_deltas_adapter,
              "wrong targets teach the regressor to move the refined boxes the wrong way"),
    PlugPoint("correlate", "07_where_next", "deeptrack_lite.models.siamfc", "cross_correlation",
              "fn(exemplar, search) -> response", "siamfc", _correlation_adapter,
              "a flipped or shifted response puts the peak, and so the box, in the wrong place"),
)}


def plug_point(name: str) -> PlugPoint:
    if name not in PLUG_POINTS:
        raise TrackerError(f"no plug-in point {name!r}; there are: {', '.join(PLUG_POINTS)}")
    return PLUG_POINTS[name]


@contextmanager
def plugged_in(name: str, fn: Callable):
    """Within the block, the package's trackers call ``fn`` (the exercise's signature, adapted) wherever they
    call the plug-in point ``name``; the package's own function is back afterwards, whatever happens."""
    point = plug_point(name)
    if not callable(fn):
        raise PlugInError(f"plug in a function {point.signature}, not a {type(fn).__name__}")
    module = importlib.import_module(point.module)
    original = getattr(module, point.attribute)
    setattr(module, point.attribute, point.adapt(fn))
    try:
        yield point
    finally:
        setattr(module, point.attribute, original)


@dataclass
class PlugInComparison:
    """The package's run and the run with the student's function, same tracker, sequence and seed."""

    point: PlugPoint
    sequence: str
    reference: object   # TrackingRun
    yours: object       # TrackingRun; None while the student's function is not written yet
    reference_auc: float
    your_auc: float
    not_written: str = ""

    @property
    def identical(self) -> bool:
        return self.yours is not None and bool(np.array_equal(self.reference.boxes, self.yours.boxes))

    @property
    def max_box_difference(self) -> float:
        """The largest difference of any box coordinate between the two runs, in pixels."""
        return float(np.max(np.abs(self.reference.boxes - self.yours.boxes)))

    @property
    def first_different_frame(self) -> int | None:
        diff = np.flatnonzero(np.any(self.reference.boxes != self.yours.boxes, axis=1))
        return int(diff[0]) if len(diff) else None

    def __str__(self) -> str:
        if self.yours is None:
            return f"{self.not_written}. The package's {self.point.tracker} scores {self.reference_auc:.3f} on {self.sequence}."
        head = (f"{self.point.tracker} on {self.sequence} with your {self.point.name}: success AUC "
                f"{self.your_auc:.3f}, the package's {self.reference_auc:.3f}. ")
        if self.identical:
            return head + "Every box is the same as the package's: your function is the tracker's."
        return head + (f"The boxes part from frame {self.first_different_frame} on, by up to "
                       f"{self.max_box_difference:.1f} px. A wrong {self.point.name}: {self.point.broken}.")

    def _repr_html_(self) -> str:
        import html

        colour = "#1a7f37" if self.identical else "#b35900"
        return f'<p style="color:{colour}">{html.escape(str(self))}</p>'


def compare_plugged_in(name: str, fn: Callable, sequence, *, device="auto", seed: int = 0,
                       **params) -> PlugInComparison:
    """Run the plug-in point's tracker (``params`` override its defaults) on ``sequence`` twice with the same
    seed, with the package's function and with ``fn``, and compare them."""
    from ..evaluation import sequence_auc
    from ..trackers import create_tracker, track

    point = plug_point(name)

    def run():
        return track(create_tracker(point.tracker, device=device, seed=seed, **params), sequence, progress=False)

    # the package's run once per tracker, sequence and settings: a notebook compares several functions with it
    key = (point.tracker, id(sequence), seed, str(device), repr(sorted(params.items())))
    if key not in _REFERENCE_RUNS:
        _REFERENCE_RUNS.clear()
        _REFERENCE_RUNS[key] = (sequence, run())
    reference = _REFERENCE_RUNS[key][1]
    auc = lambda r: sequence_auc(r.boxes, sequence.ground_truth)
    try:
        with plugged_in(name, fn):
            yours = run()
    except NotWrittenYet as exc:
        return PlugInComparison(point, sequence.name, reference, None, auc(reference), float("nan"), str(exc))
    return PlugInComparison(point, sequence.name, reference, yours, auc(reference), auc(yours))


_REFERENCE_RUNS: dict = {}  # one entry; the sequence is kept with it so that its id is not reused


__all__ = ["NotWrittenYet", "PLUG_POINTS", "PlugInComparison", "PlugInError", "PlugPoint", "compare_plugged_in", "plug_point",
           "plugged_in"]
