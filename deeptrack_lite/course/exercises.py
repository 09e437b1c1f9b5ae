"""Automatic checks for the notebooks' exercises.

Each ``check_*`` function runs a student's function on prepared cases and returns a :class:`CheckResult`
that says what is wrong, not only that something is (a missing ``- 1``, a ``<`` for a ``<=``...).
Checks never raise, so a notebook with unfinished exercises still runs top to bottom.
"""
from __future__ import annotations

import inspect
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..errors import DeepTrackError


# ------------------------------------ the checks' result and how they call a student's function
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


def _attempt(name: str, fn, args: tuple, expected: str):
    """Run a student's function; returns (result, None), or (None, a failed CheckResult saying why)."""
    got, err = _call(fn, *args)
    if err:
        return None, CheckResult(name, False, [err])
    if got is None:
        return None, CheckResult(name, False, [f"your function returned None: {expected}"])
    return got, None


def _copied(args: tuple):
    if isinstance(args, np.ndarray):
        return args.copy()
    if isinstance(args, (tuple, list)):
        return type(args)(_copied(a) for a in args)
    return args


def _shown(value) -> str:
    if isinstance(value, tuple):
        return "(" + ", ".join(_shown(v) for v in value) + ")"
    array = np.asarray(value)
    if array.dtype == object:
        return repr(value)
    return np.array2string(array, precision=3, separator=", ") if array.ndim else f"{float(array):.4g}"


def _varied(name: str, fn, cases, reference, agrees, describe, success: str, expected=_shown) -> CheckResult:
    """Try ``fn`` on more cases than the teaching one and compare it with ``reference`` (the package's own answer):
    ``cases`` holds argument tuples (the edge cases, then cases drawn at random), ``agrees(got, want, *args)`` says
    whether an answer is right, ``describe(*args)`` names a case in a message. A function that returns the teaching
    case's answer whatever it is given fails here. Returns the failed result of the first disagreement, or a
    passed one that adds ``success`` (what the teaching case shows) to how many cases agreed."""
    for args in cases:
        want = reference(*_copied(args))
        got, failed = _attempt(name, fn, _copied(args), "return an answer for every input")
        if failed is not None:
            failed.messages[0] = f"on {describe(*args)}: {failed.messages[0]}"
            return failed
        try:
            right = bool(agrees(got, want, *args))
        except Exception:  # an answer of the wrong kind (a shape, a type): not right
            right = False
        if not right:
            return CheckResult(name, False, [f"right on the example above, but not on {describe(*args)}: expected "
                                             f"{expected(want)}, got {_shown(got) if got is not None else None}"])
    return CheckResult(name, True, [success, f"and right on {len(cases)} further cases, edge cases among them"])


def _as_numbers(got) -> np.ndarray:
    """A student's array, NumPy or torch, as float64."""
    return np.asarray(got.detach().cpu() if hasattr(got, "detach") else got, dtype=np.float64)


def _same_number(got, want, *args) -> bool:
    return np.isclose(float(np.asarray(got)), want)


def _same_array(got, want, *args) -> bool:
    got = np.asarray(got, dtype=np.float64)
    return got.shape == np.shape(want) and np.allclose(got, want)


#: how many cases each check draws at random beyond its teaching case and edge cases; a grader passes its own seed
VARIED_CASES = 10

#: the right answers to every check's varied cases at seed 0, recorded from the instructor's reference solutions
#: (``instructor/solutions.py`` in the repository, not in this package) by ``python3 make.py release``
ANSWERS_FILE = Path(__file__).with_name("exercise_answers.json")


class ExerciseSetupError(DeepTrackError):
    """A check was asked for cases it has no answers to (another seed without the instructor's reference)."""


def _encoded(value):
    """An answer as JSON: arrays keep their dtype and shape, tuples stay tuples."""
    if isinstance(value, tuple):
        return {"tuple": [_encoded(v) for v in value]}
    if isinstance(value, (list, np.ndarray)):
        array = np.asarray(value)
        return {"array": array.tolist(), "dtype": array.dtype.str, "shape": list(array.shape)}
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        return float(value) if np.isfinite(value) else {"float": str(float(value))}
    raise TypeError(f"cannot record an answer of type {type(value).__name__}")


def _decoded(value):
    if isinstance(value, dict):
        if "tuple" in value:
            return tuple(_decoded(v) for v in value["tuple"])
        if "float" in value:
            return float(value["float"])
        return np.array(value["array"], dtype=np.dtype(value["dtype"])).reshape(value["shape"])
    return value


def encode_answers(answers: dict) -> str:
    """``{exercise: [answer, ...]}`` as the text of :data:`ANSWERS_FILE` (``make.py release`` writes it)."""
    import json

    return json.dumps({name: [_encoded(a) for a in values] for name, values in sorted(answers.items())}, indent=0) + "\n"


_RECORDED: dict = {}


def _reference(name: str, reference, seed: int):
    """What a check compares a student's answers on its varied cases with: the instructor's ``reference`` function
    when a grader passes one (any ``seed``: hidden cases), else the answers recorded for seed 0's cases, one per
    call in the order the check asks for them."""
    if reference is not None:
        return reference
    if seed != 0:
        raise ExerciseSetupError(f"seed={seed}: the package holds the answers to seed 0's cases only; a grader that "
                                 "draws other cases passes the instructor's solution as reference=")
    if not _RECORDED:
        import json

        _RECORDED.update(json.loads(ANSWERS_FILE.read_text(encoding="utf-8")))
    answers = iter([_decoded(a) for a in _RECORDED[name]])
    return lambda *args: next(answers)



# ------------------------------------------------------------------------- notebook 00: welcome
def check_box_center(fn) -> CheckResult:
    """Exercise: ``fn(box) -> (cx, cy)`` for an (x, y, w, h) box, with OTB's pixel-center convention."""
    name = "box center, OTB convention"
    cases = [np.array([10.0, 20.0, 5.0, 7.0]), np.array([0.0, 0.0, 1.0, 1.0]), np.array([3.5, 2.0, 10.0, 4.0])]
    for box in cases:
        got, failed = _attempt(name, fn, (box.copy(),), "return the (cx, cy) pair")
        if failed is not None:
            return failed
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


def _precision_cases(rng) -> list:
    cases = [(np.array([7.0]), 7), (np.array([np.inf, np.inf]), 20), (np.array([0.0, 10.0, 10.0, np.nan, 30.0]), 10)]
    for _ in range(VARIED_CASES):
        threshold = int(rng.choice([5, 10, 20, 30, 50]))
        errors = np.round(rng.exponential(threshold, int(rng.integers(1, 30))), 1)
        errors[rng.random(len(errors)) < 0.2] = threshold  # ties at the threshold
        errors[rng.random(len(errors)) < 0.1] = np.inf     # lost frames
        cases.append((errors, threshold))
    return cases


def check_precision_at(fn, *, seed: int = 0, reference=None) -> CheckResult:
    """Exercise: ``fn(center_errors, threshold) -> fraction of frames with error <= threshold``."""
    precision_at = _reference("precision_at", reference, seed)

    name = "precision at a threshold"
    errors = np.array([0.0, 5.0, 19.9, 20.0, 20.1, 50.0, np.inf])
    got, failed = _attempt(name, fn, (errors.copy(), 20), "return a fraction between 0 and 1")
    if failed is not None:
        return failed
    got = float(np.asarray(got))
    want = 4 / 7
    if np.isclose(got, want):
        cases = _precision_cases(np.random.default_rng(seed))
        return _varied(name, fn, cases, precision_at, _same_number,
                       lambda e, t: f"errors {_shown(e)} at {t} px",
                   "4 of these 7 frames lie within 20 px: 0.571, as OTB counts")
    if np.isclose(got, 3 / 7):
        return CheckResult(name, False, ["you got 3/7: a frame exactly 20 px off counts as precise in OTB (error <= threshold, not <)"])
    if np.isclose(got, 4):
        return CheckResult(name, False, ["you returned a count (4): divide by the number of frames"])
    if np.isclose(got, 4 / 6):
        return CheckResult(name, False, ["you left out the lost frame (infinite error): it counts as a miss, not as absent"])
    return CheckResult(name, False, [f"expected {want:.3f} for errors {errors.tolist()} at 20 px, got {got:.3f}"])


# --------------------------------------------------- notebook 01: generative and discriminative
def _ssd_cases(rng) -> list:
    window = rng.random((4, 5))
    cases = [(window, window.copy()), (window, window[1:2, 2:3].copy())]  # as big as the window (one value); one pixel
    for _ in range(VARIED_CASES):
        H, W = rng.integers(2, 12, 2)
        h, w = rng.integers(1, H + 1), rng.integers(1, W + 1)
        cases.append((rng.random((H, W)), rng.random((h, w))))
    return cases


def check_ssd_map(fn, *, seed: int = 0, reference=None) -> CheckResult:
    """Exercise: ``fn(window, template) -> map`` of the mean squared difference of the template at every
    position where it fits entirely inside the window (map shape (H - h + 1, W - w + 1))."""
    ssd_map = _reference("ssd_map", reference, seed)

    name = "reconstruction error (SSD) map"
    rng = np.random.default_rng(1)
    window = rng.random((9, 11))
    template = window[3:6, 4:8].copy()
    want = np.array([[np.mean((window[i:i + 3, j:j + 4] - template) ** 2) for j in range(8)] for i in range(7)])
    got, failed = _attempt(name, fn, (window.copy(), template.copy()), "return the 2-D map")
    if failed is not None:
        return failed
    got = np.asarray(got, dtype=np.float64)
    if got.shape != want.shape:
        return CheckResult(name, False, [f"the map should have one value per position where the template fits: shape "
                                         f"{want.shape} for a 9x11 window and a 3x4 template, got {got.shape}"])
    if np.allclose(got, want):
        iy, ix = np.unravel_index(np.argmin(got), got.shape)
        return _varied(name, fn, _ssd_cases(np.random.default_rng(seed)), ssd_map, _same_array,
                       lambda win, tpl: f"a {win.shape[0]}x{win.shape[1]} window and a {tpl.shape[0]}x{tpl.shape[1]} template",
                       f"its minimum (0) sits where the template was cut from: row {iy}, column {ix}")
    if np.allclose(got, want * template.size):
        return CheckResult(name, False, ["you summed the squared differences: divide by the number of pixels, so the "
                                         "error does not grow with the template's size"])
    if np.allclose(got, np.sqrt(want)):
        return CheckResult(name, False, ["you took a square root: keep the mean of the squared differences"])
    return CheckResult(name, False, [f"at row 0, column 0 expected {want[0, 0]:.4f}, got {got[0, 0]:.4f}"])


def _label_cases(rng) -> list:
    cases = [(np.array([]),), (np.array([0.3, 0.7]),), (np.array([0.0, 1.0, 0.5]),)]
    for _ in range(VARIED_CASES):
        ious = np.round(rng.random(int(rng.integers(1, 25))), 2)
        ious[rng.random(len(ious)) < 0.2] = rng.choice([0.3, 0.7])  # the bounds themselves
        cases.append((ious,))
    return cases


def check_sample_labels(fn, *, seed: int = 0, reference=None) -> CheckResult:
    """Exercise: ``fn(ious) -> labels``: 1 for IoU >= 0.7 (object), 0 for IoU <= 0.3 (background), -1 otherwise."""
    sample_labels = _reference("sample_labels", reference, seed)

    name = "labelling samples for tracking-by-detection"
    ious = np.array([0.0, 0.29, 0.3, 0.31, 0.5, 0.69, 0.7, 0.95])
    want = np.array([0, 0, 0, -1, -1, -1, 1, 1])
    got, failed = _attempt(name, fn, (ious.copy(),), "return one label per sample")
    if failed is not None:
        return failed
    got = np.asarray(got).reshape(-1)
    if got.shape != want.shape:
        return CheckResult(name, False, [f"return one label per sample ({len(ious)}), got {got.size}"])
    if np.array_equal(got, want):
        cases = _label_cases(np.random.default_rng(seed))
        return _varied(name, fn, cases, sample_labels,
                       lambda g, w, *a: np.array_equal(np.asarray(g).reshape(-1), np.asarray(w).reshape(-1)),
                       lambda ious: f"IoUs {_shown(ious)}",
                   "ambiguous samples (0.3 < IoU < 0.7) are left out of training, as MDNet and DLT do")
    wrong = [f"IoU {i:.2f}: expected {w}, got {g}" for i, w, g in zip(ious, want, got) if w != g]
    hints = []
    if got[2] != 0 or got[6] != 1:
        hints.append("the bounds are inclusive: IoU = 0.7 is a positive, IoU = 0.3 a negative")
    if np.all(got[3:6] != -1):
        hints.append("samples between 0.3 and 0.7 are neither object nor background: label them -1 (ignored)")
    return CheckResult(name, False, hints + wrong[:3])


# -------------------------------------------------- notebook 02: particle filter and mean shift
def _resample_cases(rng) -> list:
    """Weights and offsets that are multiples of a power of two: the cumulative sums and the pointers are exact, so
    a pointer on a boundary is on it in any summation order."""
    cases = [(np.array([1.0]), 0.5), (np.array([0.25, 0.25, 0.25, 0.25]), 0.0), (np.array([0.0, 1.0, 0.0, 0.0]), 0.125)]
    for _ in range(VARIED_CASES):
        n = int(2 ** rng.integers(1, 5))
        ticks = rng.multinomial(4 * n, np.full(n, 1 / n))  # weights in quarters of 1/N: zeros happen
        cases.append((ticks / (4.0 * n), int(rng.integers(0, 4)) / (4.0 * n)))
    return cases


def check_systematic_resample(fn, *, seed: int = 0, reference=None) -> CheckResult:
    """Exercise: ``fn(weights, u) -> indices`` for systematic resampling with offset ``u`` in [0, 1/N)."""
    systematic_resample = _reference("systematic_resample", reference, seed)

    name = "systematic resampling"
    weights = np.array([0.125, 0.5, 0.0625, 0.3125])  # exact in binary: no rounding at the boundaries
    u = 0.1875
    cumulative = np.cumsum(weights)
    want = np.searchsorted(cumulative, u + np.arange(4) / 4)
    got, failed = _attempt(name, fn, (weights.copy(), u), "return N particle indices")
    if failed is not None:
        return failed
    got = np.asarray(got).reshape(-1)
    if got.size != 4:
        return CheckResult(name, False, [f"return exactly N = 4 indices (one per new particle), got {got.size}"])
    if np.array_equal(np.sort(got), want):
        return _varied(name, fn, _resample_cases(np.random.default_rng(seed)), systematic_resample,
                       lambda g, w, *a: np.array_equal(np.sort(np.asarray(g).reshape(-1)), np.sort(w)),
                       lambda w, u: f"weights {_shown(w)} and u = {u}",
                       f"indices {want.tolist()}: the heavy particle 1 is copied twice, the light particle 0 is dropped")
    if np.array_equal(np.sort(got), np.searchsorted(cumulative, np.arange(4) / 4)):
        return CheckResult(name, False, ["you ignored the offset u: the points are u + k/N for k = 0..N-1"])
    if np.array_equal(np.sort(got), np.searchsorted(cumulative, u + np.arange(4) / 4, side="right")):
        return CheckResult(name, False, ["off by one at the boundaries: a point equal to a cumulative weight belongs to that particle"])
    return CheckResult(name, False, [f"for weights {weights.tolist()} and u = {u} expected {want.tolist()}, got {np.sort(got).tolist()}"])


def check_bhattacharyya(fn) -> CheckResult:
    """Exercise: ``fn(p, q) -> sum_u sqrt(p_u q_u)`` for two normalised histograms."""
    name = "Bhattacharyya coefficient"
    p = np.array([0.5, 0.5, 0.0, 0.0])
    q = np.array([0.25, 0.25, 0.25, 0.25])
    cases = [(p, p, 1.0), (p, q, float(np.sum(np.sqrt(p * q)))), (p, np.array([0, 0, 0.5, 0.5]), 0.0)]
    for a, b, want in cases:
        got, failed = _attempt(name, fn, (a.copy(), b.copy()), "return one number")
        if failed is not None:
            return failed
        got = float(np.asarray(got))
        if np.isclose(got, want):
            continue
        if np.isclose(got, np.sum(a * b)):
            return CheckResult(name, False, ["you multiplied the histograms: take the square root of each product"])
        if np.isclose(got, np.sqrt(1 - want)):
            return CheckResult(name, False, ["that is the Bhattacharyya *distance* sqrt(1 - rho): return rho itself"])
        return CheckResult(name, False, [f"for p={a.tolist()} and q={b.tolist()} expected {want:.4f}, got {got:.4f}"])
    return CheckResult(name, True, ["1 for identical histograms, 0 for disjoint ones"])


# ------------------------------------------------------------- notebook 03: DLT, DBN and SO-DLT
def _masking_cases(rng) -> list:
    """(x, level) pairs: nothing masked, everything masked, one value, then arrays of drawn shapes and levels."""
    cases = [(np.ones((3, 4)), 0.0), (np.ones((3, 4)), 1.0), (np.array([[2.0]]), 0.5)]
    for _ in range(VARIED_CASES):
        shape = tuple(int(v) for v in rng.integers(20, 80, 2))
        cases.append((rng.uniform(0.5, 2.0, shape), float(rng.choice([0.1, 0.3, 0.5, 0.7]))))
    return cases


def _masking_fault(got, x, original) -> str | None:
    """What is wrong with one corrupted copy, the share masked aside, or None: the input kept, the shape, the
    untouched values."""
    if not np.array_equal(x, original):
        return "you changed the input in place: corrupt a copy, the clean patch is the target"
    if got.shape != x.shape:
        return f"return an array of the input's shape {x.shape}, got {got.shape}"
    kept = got != 0
    if not np.allclose(got[kept], x[kept]):
        return "values that are not masked must stay exactly as they were (no scaling, no added noise)"
    return None


def _masking_varied(name, fn, cases, success) -> CheckResult:
    """Masking is random: each case is judged by its properties, and two generators must give two masks."""
    for x, level in cases:
        original = x.copy()
        got, failed = _attempt(name, fn, (x, level, np.random.default_rng(1)), "return the corrupted array")
        if failed is not None:
            return failed
        got = np.asarray(got, dtype=float)
        fault = _masking_fault(got, x, original)
        share, spread = np.mean(got == 0), 4 * np.sqrt(level * (1 - level) / x.size) + 1e-9  # within 4 sigma
        if fault is None and abs(share - level) > spread:
            fault = f"expected about {level:.0%} of the values set to 0, got {share:.1%}"
        if fault:
            return CheckResult(name, False, [f"right on the example above, but not on a {x.shape[0]}x{x.shape[1]} "
                                             f"array at level {level}: {fault}"])
        if 0 < level < 1 and x.size > 100:
            other, _ = _call(fn, x.copy(), level, np.random.default_rng(2))
            if other is not None and np.array_equal(np.asarray(other) == 0, np.asarray(got) == 0):
                return CheckResult(name, False, ["two random generators gave the same mask: draw the mask from `rng`"])
    return CheckResult(name, True, [success, f"and right on {len(cases)} further cases, edge cases among them"])


def check_masking_noise(fn, *, seed: int = 0) -> CheckResult:
    """Exercise: ``fn(x, level, rng) -> corrupted copy`` of ``x`` with a fraction ``level`` of values set to 0."""
    name = "masking noise"
    x = np.linspace(1.0, 2.0, 20000).reshape(20, 1000)  # no zeros to begin with
    original = x.copy()
    got, failed = _attempt(name, fn, (x, 0.25, np.random.default_rng(0)), "return the corrupted array")
    if failed is not None:
        return failed
    got = np.asarray(got, dtype=float)
    fault = _masking_fault(got, x, original)
    if fault:
        return CheckResult(name, False, [fault])
    frac = np.mean(got == 0)
    if abs(frac - 0.75) < 0.02:
        return CheckResult(name, False, [f"you zeroed {frac:.0%} of the values: `level` is the fraction to *mask*, not to keep"])
    if abs(frac - 0.25) > 0.02:
        return CheckResult(name, False, [f"expected about 25% of the values set to 0, got {frac:.1%}"])
    return _masking_varied(name, fn, _masking_cases(np.random.default_rng(seed)),
                           f"{frac:.1%} of the values masked; the rest untouched")


def _kl_cases(rng) -> list:
    cases = [(np.array([[0.05]]), 0.05), (np.array([[0.5, 0.5], [0.5, 0.5]]), 0.1)]  # one unit at rho: 0; a tie
    for _ in range(VARIED_CASES):
        cases.append((rng.uniform(0.01, 0.99, tuple(rng.integers(1, 12, 2))), float(rng.choice([0.01, 0.05, 0.1, 0.3]))))
    return cases


def check_kl_sparsity(fn, *, seed: int = 0, reference=None) -> CheckResult:
    """Exercise: ``fn(h, rho) -> mean over units of KL(rho || rho_hat_j)``, rho_hat_j the mean activation of unit j."""
    kl_sparsity = _reference("kl_sparsity", reference, seed)

    name = "KL sparsity penalty"
    h = np.array([[0.1, 0.9, 0.05], [0.3, 0.7, 0.05], [0.2, 0.8, 0.05]])
    rho = 0.05
    rho_hat = h.mean(axis=0)
    kl = rho * np.log(rho / rho_hat) + (1 - rho) * np.log((1 - rho) / (1 - rho_hat))
    want = kl.mean()
    got, failed = _attempt(name, fn, (h.copy(), rho), "return one number")
    if failed is not None:
        return failed
    got = float(np.asarray(got))
    if np.isclose(got, want):
        return _varied(name, fn, _kl_cases(np.random.default_rng(seed)), kl_sparsity,
                       _same_number,
                       lambda h, rho: f"a batch of {h.shape[0]} x {h.shape[1]} activations with rho = {rho}",
                       f"penalty {want:.4f}; unit 3, active exactly 5% of the time, adds nothing")
    if np.isclose(got, kl.sum()):
        return CheckResult(name, False, ["that is the sum over units: this package averages over units, so the weight does "
                                         "not depend on the layer's width"])
    if np.isclose(got, (rho * np.log(rho / rho_hat)).mean()):
        return CheckResult(name, False, ["you left out the (1 - rho) log((1 - rho) / (1 - rho_hat)) term: KL between two "
                                         "Bernoulli distributions has two terms"])
    per_sample = rho * np.log(rho / h) + (1 - rho) * np.log((1 - rho) / (1 - h))
    if np.isclose(got, per_sample.mean()):
        return CheckResult(name, False, ["average the activations over the batch first (rho_hat_j), then take the KL"])
    return CheckResult(name, False, [f"expected {want:.4f}, got {got:.4f}"])


def check_update_decision(fn) -> CheckResult:
    """Exercise: ``fn(confidences, threshold) -> bool``: DLT updates when the *best* confidence is below tau."""
    name = "DLT's limited-threshold update"
    cases = [(np.array([0.2, 0.95, 0.4]), 0.9, False), (np.array([0.2, 0.85, 0.4]), 0.9, True),
             (np.array([0.9, 0.1]), 0.9, False), (np.array([0.5, 0.5]), 0.6, True)]
    for conf, tau, want in cases:
        got, failed = _attempt(name, fn, (conf.copy(), tau), "return True or False")
        if failed is not None:
            return failed
        if bool(got) == want:
            continue
        if conf.max() == tau:
            return CheckResult(name, False, ["a best confidence equal to the threshold is not *below* it: use <"])
        if bool(conf.mean() < tau) == bool(got):
            return CheckResult(name, False, ["compare the *highest* confidence among the particles with the threshold, not "
                                             "their mean: one good candidate is enough to trust the model"])
        return CheckResult(name, False, [f"confidences {conf.tolist()}, threshold {tau}: expected {want}, got {bool(got)}"])
    return CheckResult(name, True, ["update only when even the best particle is unsure"])


def _sigmoid(x):
    return 1 / (1 + np.exp(-x))


def _cd1_cases(rng) -> list:
    """(W, b, c, v0, h0, lr): a one-sample batch, a zero learning rate, then RBMs of drawn sizes."""
    cases = []
    for n, visible, hidden, lr in [(1, 3, 2, 0.1), (2, 2, 2, 0.0)] + [
            (int(rng.integers(1, 7)), int(rng.integers(1, 8)), int(rng.integers(1, 6)), float(rng.choice([0.01, 0.1, 0.5])))
            for _ in range(VARIED_CASES)]:
        W, b, c = rng.normal(0, 0.5, (hidden, visible)), rng.normal(0, 0.2, visible), rng.normal(0, 0.2, hidden)
        v0 = (rng.random((n, visible)) < 0.5).astype(float)
        h0 = (rng.random((n, hidden)) < _sigmoid(v0 @ W.T + c)).astype(float)
        cases.append((W, b, c, v0, h0, lr))
    return cases


def check_cd1_step(fn, *, seed: int = 0, reference=None) -> CheckResult:
    """Exercise: ``fn(W, b, c, v0, h0, lr) -> (W, b, c)``: one CD-1 update of a Bernoulli RBM (W: hidden x
    visible) on the batch ``v0`` (N x visible), with ``h0`` the binary hidden sample already drawn from p(h|v0).
    Reconstruction: ``v1 = sigmoid(h0 W + b)`` (the mean), ``p1 = sigmoid(v1 W^T + c)``; statistics with
    probabilities: ``W += lr (p0^T v0 - p1^T v1) / N``, ``b += lr mean(v0 - v1)``, ``c += lr mean(p0 - p1)``."""
    name = "one step of contrastive divergence (CD-1)"
    cd1_step = _reference("cd1_step", reference, seed)
    rng = np.random.default_rng(3)
    W, b, c = rng.normal(0, 0.5, (3, 5)), rng.normal(0, 0.2, 5), rng.normal(0, 0.2, 3)
    v0 = (rng.random((4, 5)) < 0.5).astype(float)
    p0 = _sigmoid(v0 @ W.T + c)
    h0 = (rng.random(p0.shape) < p0).astype(float)
    lr = 0.1

    def update(pos_hidden, sign=1.0, scale=None):
        v1 = _sigmoid(h0 @ W + b)
        p1 = _sigmoid(v1 @ W.T + c)
        n = scale or len(v0)
        return (W + sign * lr * (pos_hidden.T @ v0 - p1.T @ v1) / n, b + sign * lr * (v0 - v1).sum(0) / n,
                c + sign * lr * (pos_hidden - p1).sum(0) / n)

    got, failed = _attempt(name, fn, (W.copy(), b.copy(), c.copy(), v0.copy(), h0.copy(), lr), "return (W, b, c)")
    if failed is not None:
        return failed
    try:
        got = tuple(np.asarray(g, dtype=float) for g in got)
        shapes_ok = len(got) == 3 and [g.shape for g in got] == [W.shape, b.shape, c.shape]
    except (TypeError, ValueError):
        shapes_ok = False
    if not shapes_ok:
        return CheckResult(name, False, [f"return a tuple (W, b, c) with the shapes {W.shape}, {b.shape}, {c.shape}"])
    close = lambda want: all(np.allclose(g, w, atol=1e-8) for g, w in zip(got, want))
    if close(update(p0)):
        def agrees(g, w, *args):
            return len(g) == 3 and all(np.allclose(np.asarray(gi, dtype=float), wi, atol=1e-8) for gi, wi in zip(g, w))
        return _varied(name, fn, _cd1_cases(np.random.default_rng(seed)), cd1_step, agrees,
                       lambda W, b, c, v0, h0, lr: f"an RBM of {W.shape[1]} visible and {W.shape[0]} hidden units, a "
                                                   f"batch of {len(v0)} and lr = {lr}",
                       "the data's statistics minus the reconstruction's: the model moves towards the data")
    if close(update(p0, sign=-1.0)):
        return CheckResult(name, False, ["the update goes the wrong way: it is <v h>_data minus <v h>_reconstruction "
                                         "(positive phase minus negative phase), times +lr"])
    if close(update(h0)):
        return CheckResult(name, False, ["the positive statistics use the binary sample h0; use the probabilities "
                                         "p(h|v0) there (less noise, as Hinton's guide recommends): h0 is only for "
                                         "the reconstruction"])
    if close(update(p0, scale=1)):
        return CheckResult(name, False, ["average the statistics over the batch: divide the sums by N"])
    v_sample_hint = np.allclose(got[1], b, atol=1e-12)
    return CheckResult(name, False, ["not the CD-1 update" + ("; b did not change: it moves by lr * mean(v0 - v1)"
                                                             if v_sample_hint else "") +
                                     ": reconstruct v1 = sigmoid(h0 W + b), then p1 = sigmoid(v1 W^T + c)"])


def _objectness_cases(rng) -> list:
    """(prob, sizes): a map of one cell, a flat map (every box ties), a box as big as the map, then drawn maps with
    an object in them."""
    cases = [(np.array([[0.8]]), [(1, 1)]), (np.full((5, 5), 0.7), [(2, 2)]), (np.full((4, 6), 0.6), [(6, 4), (2, 2)])]
    for _ in range(VARIED_CASES):
        S = int(rng.integers(6, 17))
        prob = rng.uniform(0.0, 0.3, (S, S))
        w, h = (int(v) for v in rng.integers(2, S // 2 + 2, 2))
        x, y = int(rng.integers(0, S - w + 1)), int(rng.integers(0, S - h + 1))
        prob[y:y + h, x:x + w] = rng.uniform(0.6, 1.0, (h, w))
        sizes = sorted({(w, h), (max(1, w // 2), max(1, h // 2)), (min(S, w + 2), min(S, h + 2))})
        cases.append((prob, sizes))
    return cases


def _objectness_gain(box, prob, sizes) -> float | None:
    """The sum of 2 P - 1 over a box, or None when the box is not one of the candidates."""
    try:
        x, y, w, h = (int(round(float(v))) for v in box)
    except (TypeError, ValueError):
        return None
    if (w, h) not in [tuple(size) for size in sizes] or x < 0 or y < 0 or x + w > prob.shape[1] or y + h > prob.shape[0]:
        return None
    return float((2 * prob[y:y + h, x:x + w] - 1).sum())


def check_box_from_objectness(fn, *, seed: int = 0, reference=None) -> CheckResult:
    """Exercise: ``fn(prob, sizes) -> (x, y, w, h)``: among boxes of the given (w, h) sizes (map cells) at every
    integer position inside the S x S map ``prob``, the one with the largest sum of ``2 P - 1`` over its cells
    (SO-DLT reads position *and* size from the map)."""
    name = "reading a box from an objectness map"
    box_from_objectness = _reference("box_from_objectness", reference, seed)
    prob = np.full((16, 16), 0.1)
    prob[4:10, 3:11] = 0.9   # an 8 x 6 object at x = 3, y = 4
    prob[6:8, 6:8] = 0.99    # a very confident core
    sizes = [(4, 3), (8, 6), (12, 9)]
    want = (3, 4, 8, 6)
    got, failed = _attempt(name, fn, (prob.copy(), list(sizes)), "return (x, y, w, h)")
    if failed is not None:
        return failed
    try:
        got = tuple(int(round(float(v))) for v in got)
    except (TypeError, ValueError):
        return CheckResult(name, False, ["return four numbers (x, y, w, h)"])
    if got == want:
        def agrees(g, w, prob, sizes):  # ties: any candidate with the best sum is right
            gain = _objectness_gain(g, prob, sizes)
            return gain is not None and np.isclose(gain, _objectness_gain(w, prob, sizes))
        return _varied(name, fn, _objectness_cases(np.random.default_rng(seed)), box_from_objectness, agrees,
                       lambda prob, sizes: f"a {prob.shape[0]}x{prob.shape[1]} map and the sizes {sizes}",
                       "each cell counts for as much as it is more object than background: the box covers the "
                       "object, no more, no less",
                       expected=lambda w: f"{tuple(int(v) for v in w)} (or any box of the same sum)")
    if got[2:] == (12, 9):
        return CheckResult(name, False, ["summing P alone always prefers the biggest box (every cell adds something): "
                                         "count each cell as 2 P - 1, so a cell more likely background counts against"])
    if got[2:] == (4, 3):
        return CheckResult(name, False, ["the mean of P prefers the smallest box around the most confident cells: "
                                         "score with the sum of 2 P - 1 instead"])
    if got in ((4, 3, 8, 6), (4, 3, 6, 8)):
        return CheckResult(name, False, ["x and y are swapped: x is the column (second index), y the row"])
    return CheckResult(name, False, [f"expected {want} (x, y, w, h), got {got}"])


# ---------------------------------------------------------------------------- notebook 04: FCNT
def _taylor_cases(rng) -> list:
    cases = [(np.ones((1, 1, 1)), np.ones((1, 1, 1)), np.ones((1, 1, 1)))]  # one map of one cell
    for _ in range(VARIED_CASES):
        shape = tuple(int(v) for v in rng.integers(1, 9, 3))
        f, g, h = rng.normal(size=(3, *shape))
        cases.append((f, g, np.abs(h)))
    return cases


def check_taylor_significance(fn, *, seed: int = 0, reference=None) -> CheckResult:
    """Exercise: ``fn(f, g, h) -> C significances``: FCNT's ``sum_{x,y} (-g f + 1/2 h f^2)`` per map, for
    arrays ``f`` (maps), ``g`` (gradient) and ``h`` (Hessian diagonal) of shape C x H x W."""
    taylor_significance = _reference("taylor_significance", reference, seed)

    name = "FCNT's significance of a feature map"
    rng = np.random.default_rng(0)
    f, g, h = rng.normal(size=(3, 3, 5, 6))  # three maps each
    h = np.abs(h)
    want = (-g * f + 0.5 * h * f ** 2).sum(axis=(1, 2))
    got, failed = _attempt(name, fn, (f.copy(), g.copy(), h.copy()), "return one value per map")
    if failed is not None:
        return failed
    got = np.asarray(got, dtype=float).reshape(-1)
    if got.shape != (3,):
        return CheckResult(name, False, [f"expected one value per map (3 maps), got shape {got.shape}: sum over the "
                                         "positions x, y only"])
    if np.allclose(got, want):
        return _varied(name, fn, _taylor_cases(np.random.default_rng(seed)), taylor_significance,
                       lambda g, w, *a: _same_array(np.asarray(g, dtype=float).reshape(-1), np.reshape(w, -1)),
                       lambda f, g, h: f"{f.shape[0]} maps of {f.shape[1]} x {f.shape[2]}",
                       "the second-order change of the loss when each map is switched off (f -> 0)")
    if np.allclose(got, (-g * f).sum(axis=(1, 2))):
        return CheckResult(name, False, ["you have the first-order term only; add 1/2 h f^2 (FCNT keeps the second order)"])
    if np.allclose(got, (g * f + 0.5 * h * f ** 2).sum(axis=(1, 2))):
        return CheckResult(name, False, ["sign of the first-order term: switching a map off moves it by -f, so the change "
                                         "is g * (-f)"])
    if np.allclose(got, (-g * f + h * f ** 2).sum(axis=(1, 2))):
        return CheckResult(name, False, ["the second-order Taylor term carries a factor 1/2"])
    return CheckResult(name, False, [f"expected {np.round(want, 3).tolist()}, got {np.round(got, 3).tolist()}"])


def check_distractor_share(fn) -> CheckResult:
    """Exercise: ``fn(heatmap, peak_xy, target_wh) -> share`` of the positive heat-map energy outside the
    target-sized region centred on the peak (FCNT's distractor test reads it from GNet's map)."""
    name = "distractor test: heat outside the target region"
    yy, xx = np.mgrid[0:20, 0:30]
    blob = lambda cx, cy: np.exp(-((xx - cx) ** 2 + (yy - cy) ** 2) / (2 * 1.5 ** 2))
    two = blob(8, 10) + 0.6 * blob(22, 10) - 0.2  # the target, a weaker second peak, and a negative floor
    got, failed = _attempt(name, fn, (two.copy(), (8, 10), (7, 7)), "return one number between 0 and 1")
    if failed is not None:
        return failed
    got = float(np.asarray(got))
    pos = np.clip(two, 0, None)
    inside = (np.abs(xx - 8) <= 3.5) & (np.abs(yy - 10) <= 3.5)
    want = pos[~inside].sum() / pos.sum()
    if np.isclose(got, want, atol=0.02):
        one, _ = _call(fn, np.clip(blob(8, 10) - 0.2, -1, None), (8, 10), (7, 7))
        if one is not None and float(one) > 0.1:
            return CheckResult(name, False, ["with a single peak the share outside should be near 0; check the region"])
        return CheckResult(name, True, [f"{want:.0%} of the heat lies outside the target: a second object lights up"])
    if np.isclose(got, 1 - want, atol=0.02):
        return CheckResult(name, False, ["that is the share *inside* the target region; the test needs the share outside"])
    if np.isclose(got, two[~inside].sum() / two.sum(), atol=0.02):
        return CheckResult(name, False, ["count only the positive part of the heat map (negative values are 'not the "
                                         "target', not negative energy)"])
    return CheckResult(name, False, [f"expected about {want:.2f}, got {got:.2f}"])


# --------------------------------------------------------------------------- notebook 05: MDNet
def _hard_negative_cases(rng) -> list:
    cases = [(np.array([1.0, -2.0, 0.5]), 3), (np.array([0.3, 0.9]), 0), (np.array([2.0, 1.0, 2.0, -1.0, 1.0]), 2)]
    for _ in range(VARIED_CASES):
        scores = np.round(rng.normal(0, 2, int(rng.integers(1, 40))), 1)  # rounded: ties happen
        cases.append((scores, int(rng.integers(1, len(scores) + 1))))
    return cases


def _the_hardest(got, want, scores, n) -> bool:
    """Any n distinct indices whose scores are the n highest (with ties, several answers are right)."""
    got = np.asarray(got).reshape(-1)
    if got.size != n or (n and got.dtype.kind not in "iu") or len(set(got.tolist())) != n:
        return False
    return np.array_equal(np.sort(scores[got.astype(int)]), np.sort(scores[np.asarray(want, dtype=int)]))


def check_hard_negatives(fn, *, seed: int = 0, reference=None) -> CheckResult:
    """Exercise: ``fn(scores, n) -> indices`` of the ``n`` negatives the classifier rates most object-like
    (MDNet's hard negative mining keeps the highest scores of a pool of negatives)."""
    hard_negatives = _reference("hard_negatives", reference, seed)

    name = "hard negative mining: the n most object-like negatives"
    scores = np.array([-3.0, 0.5, -0.2, 2.0, -5.0, 1.1, -1.0, 0.0])
    got, failed = _attempt(name, fn, (scores.copy(), 3), "return the indices (positions) of the chosen negatives")
    if failed is not None:
        return failed
    got = np.asarray(got).reshape(-1)
    if got.dtype.kind == "f" and np.allclose(np.sort(got), np.sort(scores)[-3:]):
        return CheckResult(name, False, ["those are the scores; return the indices of the negatives, e.g. with np.argsort"])
    chosen = set(int(i) for i in got)
    if chosen == {3, 5, 1}:
        cases = _hard_negative_cases(np.random.default_rng(seed))
        result = _varied(name, fn, cases, hard_negatives, _the_hardest, lambda s, n: f"n = {n} of the scores {_shown(s)}",
                         "negatives 3, 5 and 1 look most like the target: the ones worth training on",
                         expected=lambda w: f"{len(w)} distinct indices of the highest scores, such as {_shown(np.asarray(w))}")
        if not result.passed and "not on n = 0 " in result.messages[0]:
            result.messages.append("`[-n:]` keeps every index when n is 0 (-0 is 0): take `np.argsort(scores)[::-1][:n]`")
        return result
    if chosen == {4, 0, 6}:
        return CheckResult(name, False, ["those are the *easiest* negatives (lowest scores): the classifier already "
                                         "rejects them, training on them teaches it little"])
    return CheckResult(name, False, [f"expected the indices {{1, 3, 5}}, got {sorted(chosen)}"])


def _box_delta_cases(rng) -> list:
    cases = [(np.array([0.0, 0.0, 30.0, 20.0]), np.array([0.0, 0.0, 30.0, 20.0])),  # at the image's corner, no change
             (np.array([0.0, 5.0, 8.0, 8.0]), np.array([0.0, 0.0, 4.0, 16.0]))]     # on the border, shrunk and grown
    for _ in range(VARIED_CASES):
        box = np.r_[rng.integers(0, 200, 2), rng.integers(4, 120, 2)].astype(float)
        target = np.r_[box[:2] + rng.normal(0, 0.3, 2) * box[2:], box[2:] * np.exp(rng.normal(0, 0.3, 2))]
        cases.append((box, np.round(np.maximum(target, [0, 0, 1, 1]), 1)))
    return cases


def check_box_deltas(fn, *, seed: int = 0, reference=None) -> CheckResult:
    """Exercise: ``fn(box, target) -> (dx, dy, dw, dh)``, R-CNN's box-regression targets: centre offsets in
    units of the box's size, and log size ratios."""
    box_deltas = _reference("box_deltas", reference, seed)

    name = "box-regression targets (R-CNN parameterisation)"
    box, target = np.array([10.0, 20.0, 40.0, 20.0]), np.array([18.0, 17.0, 48.0, 30.0])
    got, failed = _attempt(name, fn, (box.copy(), target.copy()), "return four numbers (dx, dy, dw, dh)")
    if failed is not None:
        return failed
    got = np.asarray(got, dtype=float).reshape(-1)
    if got.shape != (4,):
        return CheckResult(name, False, [f"return four numbers, got {got.shape[0]}"])
    want = np.array([(42.0 - 30.0) / 40.0, (32.0 - 30.0) / 20.0, np.log(48 / 40), np.log(30 / 20)])
    if np.allclose(got, want, atol=1e-6):
        cases = _box_delta_cases(np.random.default_rng(seed))
        return _varied(name, fn, cases, box_deltas,
                       lambda g, w, *a: np.allclose(np.asarray(g, dtype=float).reshape(-1), w, atol=1e-6),
                       lambda b, tg: f"box {_shown(b)} and target {_shown(tg)}",
                   "relative offsets and log ratios: one linear regressor serves every box size")
    msgs = []
    if np.allclose(got[:2], [(18 - 10) / 40, (17 - 20) / 20]):
        msgs.append("dx, dy: compare the box *centres* (x + w/2), not the top-left corners")
    elif np.allclose(got[:2], [12.0, 2.0]):
        msgs.append("dx, dy: divide the centre offset by the box's width and height")
    elif not np.allclose(got[:2], want[:2]):
        msgs.append(f"dx, dy: expected {want[0]:.3f}, {want[1]:.3f}")
    if np.allclose(got[2:], [48 / 40, 30 / 20]):
        msgs.append("dw, dh: take the log of the size ratios")
    elif np.allclose(got[2:], [8 / 40, 10 / 20]):
        msgs.append("dw, dh: use log(target size / box size), not the relative difference")
    elif not np.allclose(got[2:], want[2:]):
        msgs.append(f"dw, dh: expected {want[2]:.3f}, {want[3]:.3f}")
    return CheckResult(name, False, msgs)


def _target_score_cases(rng) -> list:
    one = np.array([[5.0, 6.0, 7.0, 8.0]])
    cases = [(np.array([-2.0]), one, 1), (np.array([1.0, -1.0]), np.vstack([one, one + 10]), 2)]
    for _ in range(VARIED_CASES):
        n = int(rng.integers(1, 30))
        scores = rng.permutation(np.round(np.linspace(-5, 5, n) + rng.normal(0, 0.01, n), 3))  # no ties: one top k
        boxes = np.c_[rng.integers(0, 300, (n, 2)), rng.integers(5, 80, (n, 2))].astype(float)
        cases.append((scores, boxes, int(rng.integers(1, n + 1))))
    return cases


def _same_score_and_box(got, want, *args) -> bool:
    return np.isclose(float(np.asarray(got[0])), want[0]) and \
        np.allclose(np.asarray(got[1], dtype=float).reshape(-1), want[1])


def check_target_score(fn, *, seed: int = 0, reference=None) -> CheckResult:
    """Exercise: ``fn(scores, boxes, k) -> (score, box)``: MDNet's target score is the mean of the ``k`` best
    candidates' scores, and its state the mean of their boxes."""
    target_score = _reference("target_score", reference, seed)

    name = "target score and state from the top-k candidates"
    scores = np.array([0.2, 3.0, -1.0, 2.0, 2.5, -4.0])
    boxes = np.array([[0, 0, 10, 10], [10, 10, 10, 10], [50, 50, 10, 10], [12, 10, 12, 10], [11, 13, 10, 12],
                      [90, 0, 10, 10]], dtype=float)
    got, failed = _attempt(name, fn, (scores.copy(), boxes.copy(), 3), "return (score, box)")
    if failed is not None:
        return failed
    try:
        score, box = float(np.asarray(got[0])), np.asarray(got[1], dtype=float).reshape(-1)
    except Exception:
        return CheckResult(name, False, ["return a pair: (the target score, the box as four numbers)"])
    want_score, want_box = 2.5, boxes[[1, 3, 4]].mean(axis=0)
    msgs = []
    if np.isclose(score, 3.0):
        msgs.append("the score: average the top k scores instead of taking the single best (one lucky candidate "
                    "should not decide)")
    elif not np.isclose(score, want_score):
        msgs.append(f"the score: expected the mean of the 3 best scores, {want_score}")
    if box.shape == (4,) and np.allclose(box, boxes[1]):
        msgs.append("the box: average the boxes of the top k candidates")
    elif box.shape != (4,) or not np.allclose(box, want_box):
        msgs.append(f"the box: expected {want_box.tolist()}")
    if msgs:
        return CheckResult(name, False, msgs)
    cases = _target_score_cases(np.random.default_rng(seed))
    return _varied(name, fn, cases, target_score, _same_score_and_box,
                   lambda s, b, k: f"k = {k} of the scores {_shown(s)} (boxes {_shown(b)})",
                   "mean of the top 3: a score that one outlier cannot fake, and a smoother box")


# ------------------------------------------------ notebook 06: evaluation (OTB, VOT, long-term)
def _success_cases(rng) -> list:
    grid = np.linspace(0, 1, 21)
    cases = [(np.array([0.5]), grid), (np.zeros(4), grid), (np.ones(3), np.linspace(0, 1, 101))]
    for _ in range(VARIED_CASES):
        ious = rng.integers(0, 21, int(rng.integers(1, 40))) / 20.0  # on the grid's thresholds: ties
        cases.append((ious, grid if rng.random() < 0.5 else np.linspace(0, 1, 101)))
    return cases


def check_success_curve(fn, *, seed: int = 0, reference=None) -> CheckResult:
    """Exercise: ``fn(ious, thresholds) -> fraction of frames with IoU > each threshold`` (OTB: strictly)."""
    success_rates = _reference("success_rates", reference, seed)

    name = "success curve from per-frame IoU"
    ious = np.array([0.0, 0.2, 0.5, 0.5, 0.8, 1.0])
    thresholds = np.linspace(0, 1, 21)
    want = (ious[None, :] > thresholds[:, None]).mean(axis=1)
    got, failed = _attempt(name, fn, (ious.copy(), thresholds.copy()), "return one fraction per threshold")
    if failed is not None:
        return failed
    got = np.asarray(got, dtype=np.float64).reshape(-1)
    if got.shape != want.shape:
        return CheckResult(name, False, [f"return one value per threshold ({len(thresholds)}), got {got.size}"])
    if np.allclose(got, want):
        return _varied(name, fn, _success_cases(np.random.default_rng(seed)), success_rates, _same_array,
                       lambda o, th: f"IoUs {_shown(o)} and {len(th)} thresholds",
                       f"matches OTB; the AUC of this curve is {want.mean():.3f}")
    if np.allclose(got, (ious[None, :] >= thresholds[:, None]).mean(axis=1)):
        return CheckResult(name, False, ["you used IoU >= threshold: OTB counts a frame as a success only when IoU is "
                                         "strictly greater (so a frame with IoU 0 never counts, even at threshold 0)"])
    if np.allclose(got, want * len(ious)):
        return CheckResult(name, False, ["you returned counts: divide by the number of frames"])
    if np.allclose(got, (ious[None, :] < thresholds[:, None]).mean(axis=1)) or np.allclose(got, 1 - want):
        return CheckResult(name, False, ["your curve counts failures: the success rate is the fraction *above* the threshold"])
    return CheckResult(name, False, [f"for IoUs {ious.tolist()} at threshold 0.5 expected {want[10]:.3f}, got {got[10]:.3f}"])


def _dataset_auc_cases(rng) -> list:
    cases = [([np.array([0.8])],), ([np.array([0.0]), np.ones(30)],)]  # one frame; a lost frame beside a long success
    for _ in range(VARIED_CASES):
        cases.append(([np.round(rng.random(int(rng.integers(1, 40))), 2) for _ in range(int(rng.integers(1, 5)))],))
    return cases


def check_dataset_auc(fn, *, seed: int = 0, reference=None) -> CheckResult:
    """Exercise: ``fn(list_of_per_sequence_iou_arrays) -> dataset success AUC`` (average the curves)."""
    dataset_auc = _reference("dataset_auc", reference, seed)

    name = "dataset success AUC"
    thresholds = np.linspace(0, 1, 21)
    short = np.array([0.9, 0.9])  # a short sequence tracked well
    long = np.full(18, 0.1)  # a long sequence tracked badly
    curves = [(o[None, :] > thresholds[:, None]).mean(axis=1) for o in (short, long)]
    want = float(np.mean(np.mean(curves, axis=0)))
    pooled = float(np.mean((np.concatenate([short, long])[None, :] > thresholds[:, None]).mean(axis=1)))
    got, failed = _attempt(name, fn, ([short.copy(), long.copy()],), "return one number")
    if failed is not None:
        return failed
    got = float(np.asarray(got))
    if np.isclose(got, want):
        return _varied(name, fn, _dataset_auc_cases(np.random.default_rng(seed)), dataset_auc,
                       _same_number,
                       lambda seqs: f"{len(seqs)} sequences of {', '.join(str(len(s)) for s in seqs)} frames",
                       f"{want:.3f}: each sequence weighs the same, however long it is")
    if np.isclose(got, pooled):
        return CheckResult(name, False, [f"you pooled all frames ({pooled:.3f}): long sequences then dominate. OTB averages "
                                         f"the per-sequence curves, each sequence weighing the same ({want:.3f})"])
    return CheckResult(name, False, [f"expected {want:.3f}, got {got:.3f}"])


def _vot_reset_cases(rng) -> list:
    cases = [(np.array([]), 5), (np.array([0.0, 0.0, 0.0, 0.0, 0.0]), 2), (np.array([0.5, 0.0]), 5),
             (np.array([0.9, 0.8, 0.7]), 5)]  # empty; every frame lost; a failure on the last frame; none at all
    for _ in range(VARIED_CASES):
        overlaps = np.round(rng.random(int(rng.integers(1, 40))), 2)
        overlaps[rng.random(len(overlaps)) < 0.2] = 0.0
        cases.append((overlaps, int(rng.integers(1, 7))))
    return cases


def _same_resets(got, want, *args) -> bool:
    return (sorted(int(v) for v in got[0]), sorted(int(v) for v in got[1])) == (list(want[0]), list(want[1]))


def check_vot_resets(fn, *, seed: int = 0, reference=None) -> CheckResult:
    """Exercise: ``fn(overlaps, skip) -> (starts, failures)``: VOT's reset rule on the overlaps a tracker would
    reach on every frame. Start on frame 0; after a start, the first frame with overlap 0 is a failure, and the
    next start is ``skip`` frames after it; frames in between are neither."""
    vot_resets = _reference("vot_resets", reference, seed)

    name = "VOT's reset rule"
    overlaps = np.array([1.0, 0.8, 0.0, 0.5, 0.0, 0.6, 0.7, 0.9, 0.0, 0.4, 0.3, 0.2, 0.5, 0.6, 0.0, 0.7])
    want = ([0, 7, 13], [2, 8, 14])  # frame 4's zero lies in the skipped frames; frame 7 starts, so cannot fail
    got, failed = _attempt(name, fn, (overlaps.copy(), 5), "return (starts, failures)")
    if failed is not None:
        return failed
    try:
        got = (sorted(int(v) for v in got[0]), sorted(int(v) for v in got[1]))
    except (TypeError, ValueError, IndexError):
        return CheckResult(name, False, ["return two lists: the frames where the tracker starts, and where it fails"])
    if got == want:
        cases = _vot_reset_cases(np.random.default_rng(seed))
        return _varied(name, fn, cases, vot_resets, _same_resets, lambda o, s: f"overlaps {_shown(o)} with skip {s}",
                   "a start frame cannot fail, and skipped frames do not count")
    if 4 in got[1]:
        return CheckResult(name, False, ["frame 4 lies in the 5 frames skipped after the failure at frame 2: the tracker "
                                         "is not running there, so it cannot fail"])
    if got[0][:2] == [0, 3]:
        return CheckResult(name, False, ["restart `skip` frames after the failure (frame 2 + 5 = 7), not on the next frame"])
    if any(overlaps[f] > 0 for f in got[1]):
        return CheckResult(name, False, ["a failure is an overlap of exactly 0 (no overlap at all), not a low one"])
    return CheckResult(name, False, [f"expected starts {want[0]} and failures {want[1]}, got {got[0]} and {got[1]}"])


def _eao_cases(rng) -> list:
    cases = [([(np.array([0.0, 0.7]), True)], 1),  # one segment that failed right after its start
             ([(np.array([0.0, 0.5, 0.5, 0.5]), False), (np.array([0.0, 0.9, 0.1]), True)], 3)]
    for _ in range(VARIED_CASES):
        n = int(rng.integers(1, 15))
        segments = [(np.r_[0.0, np.round(rng.random(int(rng.integers(1, 25))), 2)], bool(rng.random() < 0.5))
                    for _ in range(int(rng.integers(1, 6)))]
        segments.append((np.r_[0.0, np.round(rng.random(n), 2)], False))  # at least one long enough to count
        cases.append((segments, n))
    return cases


def check_expected_average_overlap(fn, *, seed: int = 0, reference=None) -> CheckResult:
    """Exercise: ``fn(segments, n) -> float``: the EAO curve's value at length ``n``. ``segments``: (overlaps,
    failed) pairs, ``overlaps[0]`` the start frame's. A failed segment counts as 0 after its end; one that reached
    the sequence's end counts only when it has frames up to ``n``. Each counting segment contributes the mean of
    its overlaps on frames 1..n (the start frame excluded); the value is the mean of those."""
    expected_average_overlap = _reference("expected_average_overlap", reference, seed)

    name = "expected average overlap at one length"
    segments = [(np.array([0.0, 1.0, 0.5]), True), (np.array([0.0, 0.8, 0.6, 0.4, 0.2]), False),
                (np.array([0.0, 0.9]), False)]
    want = ((1.0 + 0.5 + 0 + 0) / 4 + (0.8 + 0.6 + 0.4 + 0.2) / 4) / 2  # n = 4: the short finished one drops out
    got, failed = _attempt(name, fn, ([(o.copy(), f) for o, f in segments], 4), "return one number")
    if failed is not None:
        return failed
    try:
        got = float(got)
    except (TypeError, ValueError):
        return CheckResult(name, False, ["return one number"])
    if abs(got - want) < 1e-9:
        return _varied(name, fn, _eao_cases(np.random.default_rng(seed)), expected_average_overlap,
                       lambda g, w, *a: abs(float(g) - w) < 1e-9,
                       lambda segs, n: f"n = {n} and segments " + ", ".join(
                           f"({_shown(o)}, {'failed' if failed else 'finished'})" for o, failed in segs),
                       "a failure keeps counting as zero overlap: that is how robustness enters EAO")
    with_start = ((0 + 1.0 + 0.5 + 0 + 0) / 5 + (0 + 0.8 + 0.6 + 0.4 + 0.2) / 5) / 2
    if abs(got - with_start) < 1e-9:
        return CheckResult(name, False, ["leave out the start frame (index 0): average the overlaps of frames 1..n"])
    own_length = ((1.0 + 0.5) / 2 + (0.8 + 0.6 + 0.4 + 0.2) / 4) / 2
    if abs(got - own_length) < 1e-9:
        return CheckResult(name, False, ["a failed segment has overlap 0 after its end: divide by n, not by its length"])
    with_short = ((1.5 / 4) + (2.0 / 4) + (0.9 / 4)) / 3
    if abs(got - with_short) < 1e-9:
        return CheckResult(name, False, ["a segment that reached the end of its sequence before n frames does not "
                                         "count at n: nobody knows how it would have gone on"])
    return CheckResult(name, False, [f"expected {want:.4f}, got {got:.4f}"])


def _f_score_cases(rng) -> list:
    cases = [(np.array([0.7]), np.array([0.5]), np.array([True]), 0.5)]  # one frame, its score on the threshold
    for _ in range(VARIED_CASES):
        n = int(rng.integers(2, 30))
        visible = rng.random(n) < 0.7
        visible[0] = True
        overlaps = np.where(visible, np.round(rng.random(n), 2), 0.0)
        scores = np.round(rng.random(n), 1)  # ties with the threshold happen
        threshold = float(rng.choice([0.3, 0.5, 0.7]))
        scores[0] = max(scores[0], threshold)  # something is called present
        cases.append((overlaps, scores, visible, threshold))
    return cases


def check_tracking_f_score(fn, *, seed: int = 0, reference=None) -> CheckResult:
    """Exercise: ``fn(overlaps, scores, visible, threshold) -> (precision, recall, f)``: the long-term measures of
    one sequence at one threshold. Frames with score >= threshold are called present; precision is their mean
    overlap (overlap 0 where the target is absent), recall their summed overlap over the number of visible frames."""
    tracking_f_score = _reference("tracking_f_score", reference, seed)

    name = "tracking precision, recall and F-score"
    overlaps = np.array([0.8, 0.6, 0.4, 0.2, 0.0, 0.0, 0.5])
    scores = np.array([0.9, 0.8, 0.3, 0.5, 0.85, 0.1, 0.2])
    visible = np.array([True, True, True, True, False, False, True])
    pr, re = 1.6 / 4, 1.6 / 5  # called present at 0.5: frames 0, 1, 3 and 4 (absent); 5 frames visible
    want = (pr, re, 2 * pr * re / (pr + re))
    got, failed = _attempt(name, fn, (overlaps.copy(), scores.copy(), visible.copy(), 0.5), "return (precision, recall, f)")
    if failed is not None:
        return failed
    try:
        got = tuple(float(v) for v in got)
        assert len(got) == 3
    except (TypeError, ValueError, AssertionError):
        return CheckResult(name, False, ["return three numbers: precision, recall and F"])
    if np.allclose(got, want):
        return _varied(name, fn, _f_score_cases(np.random.default_rng(seed)), tracking_f_score,
                       lambda g, w, *a: np.allclose([float(v) for v in g], w),
                       lambda o, s, v, th: f"overlaps {_shown(o)}, scores {_shown(s)}, visible {_shown(v.astype(int))} "
                                           f"at threshold {th}",
                       "a confident box on an absent frame costs precision, a doubt on a visible one costs recall")
    if np.isclose(got[0], 1.4 / 3):
        return CheckResult(name, False, ["called present means score >= threshold: frame 3 has exactly the threshold"])
    if np.isclose(got[0], 2.5 / 7) or np.isclose(got[0], 2.5 / 5):
        return CheckResult(name, False, ["precision averages over the frames called present only, absent ones "
                                         "included with overlap 0"])
    if np.isclose(got[1], pr):
        return CheckResult(name, False, ["recall divides by the frames where the target is visible, not by those "
                                         "called present"])
    if np.isclose(got[0], pr) and np.isclose(got[1], re):
        return CheckResult(name, False, ["F is the harmonic mean of the two: 2 Pr Re / (Pr + Re)"])
    return CheckResult(name, False, [f"expected ({want[0]:.4f}, {want[1]:.4f}, {want[2]:.4f}), got "
                                     f"({got[0]:.4f}, {got[1]:.4f}, {got[2]:.4f})"])


# ------------------------------------------------------- notebook 07: where the field went next
def _correlation_cases(rng) -> list:
    cases = [(np.ones((1, 2, 2)), np.arange(6.0).reshape(1, 2, 3))]  # one channel, a 1 x 2 map
    for _ in range(VARIED_CASES):
        c, h, w = (int(v) for v in rng.integers(1, 5, 3))
        cases.append((rng.normal(size=(c, h, w)), rng.normal(size=(c, h + int(rng.integers(0, 6)), w + int(rng.integers(0, 6))))))
    return cases


def check_cross_correlation(fn, *, seed: int = 0, reference=None) -> CheckResult:
    """Exercise: ``fn(exemplar, search) -> response``: SiamFC's cross-correlation of a C x h x w exemplar over a
    C x H x W search region, (H - h + 1) x (W - w + 1) dot products summed over the channels."""
    name = "cross-correlation as a convolution"
    correlate = _reference("correlate", reference, seed)
    rng = np.random.default_rng(7)
    exemplar, search = rng.normal(size=(3, 3, 4)), rng.normal(size=(3, 8, 9))
    # the right answer and the flipped kernel's (a textbook convolution), asked first and always in this order: the
    # package holds recorded answers, not the solution
    want, flipped = correlate(exemplar, search), correlate(np.ascontiguousarray(exemplar[:, ::-1, ::-1]), search)
    got, failed = _attempt(name, fn, (exemplar.copy(), search.copy()), "return the response map")
    if failed is not None:
        return failed
    try:
        got = _as_numbers(got)
    except (TypeError, ValueError):
        return CheckResult(name, False, ["return an array (numpy or torch) of numbers"])
    got2d = got.squeeze()
    if got2d.shape == want.shape and np.allclose(got2d, want, atol=1e-5):
        def agrees(g, w, *args):
            g = _as_numbers(g)
            return g.size == w.size and np.allclose(g.reshape(w.shape), w, atol=1e-5)
        return _varied(name, fn, _correlation_cases(np.random.default_rng(seed)), correlate, agrees,
                       lambda e, s: f"a {'x'.join(map(str, e.shape))} exemplar over a {'x'.join(map(str, s.shape))} search region",
                       f"{want.size} dot products of {exemplar.size} numbers each, in one call: the exemplar is the "
                       "kernel of a convolution layer")
    if got2d.shape == search.shape[1:]:
        return CheckResult(name, False, ["no padding: the exemplar slides only where it lies wholly inside the search "
                                         f"region, so the map is (H - h + 1) x (W - w + 1) = {want.shape}"])
    if got2d.shape == (3, *want.shape):
        return CheckResult(name, False, ["one map per channel: sum the channels' dot products into one map "
                                         "(conv2d with a 1 x C x h x w weight does)"])
    if got2d.shape != want.shape:
        return CheckResult(name, False, [f"expected a {want.shape} map, got {got2d.shape}"])
    if np.allclose(got2d, flipped, atol=1e-5):
        return CheckResult(name, False, ["that is a convolution in the textbook sense: the kernel is flipped. A "
                                         "cross-correlation compares the exemplar as it is (torch's conv2d does that)"])
    if np.allclose(got2d * exemplar.size, want, atol=1e-5):
        return CheckResult(name, False, ["that is the mean of the products: take their sum"])
    return CheckResult(name, False, [f"expected e.g. response[0, 0] = {want[0, 0]:.4f}, got {got2d[0, 0]:.4f}"])


def _filter_cases(rng) -> list:
    """(x, y, z, lam): one channel of one cell, a large lam, then drawn features and Gaussian labels."""
    cases = [(np.array([[[2.0]]]), np.array([[1.0]]), np.array([[[3.0]]]), 0.5)]
    for i in range(VARIED_CASES + 1):
        C, H, W = int(rng.integers(1, 4)), int(rng.integers(4, 13)), int(rng.integers(4, 13))
        yy, xx = np.meshgrid(np.arange(H), np.arange(W), indexing="ij")
        d2 = np.minimum(yy, H - yy) ** 2 + np.minimum(xx, W - xx) ** 2
        lam = 100.0 if i == 0 else float(rng.choice([0.01, 0.1, 1.0]))
        cases.append((rng.normal(size=(C, H, W)), np.exp(-d2 / (2 * 1.5 ** 2)), rng.normal(size=(C, H, W)), lam))
    return cases


def check_filter_response(fn, *, seed: int = 0, reference=None) -> CheckResult:
    """Exercise: ``fn(x, y, z, lam) -> response``: the closed-form multi-channel correlation filter learned on
    features ``x`` (C x H x W) for the desired response ``y`` (H x W), applied to features ``z``:
    ``F^-1(sum_d Z^d Y conj(X^d) / (sum_k |X^k|^2 + lam))``."""
    name = "a correlation filter in closed form"
    filter_response = _reference("filter_response", reference, seed)
    rng = np.random.default_rng(3)
    x = rng.normal(size=(2, 16, 16))
    yy, xx = np.meshgrid(np.arange(16), np.arange(16), indexing="ij")
    d2 = np.minimum(yy, 16 - yy) ** 2 + np.minimum(xx, 16 - xx) ** 2
    y = np.exp(-d2 / (2 * 1.5 ** 2))  # peaked at cell (0, 0)
    z = np.roll(x, shift=(3, 5), axis=(1, 2)) + 0.05 * rng.normal(size=x.shape)
    lam = 0.5
    # the right answer and three usual mistakes, each expressed through the right filter and asked first, always in
    # this order (the package holds recorded answers, not the solution): without conj(X) the filter is the one
    # learned on the mirrored patch (for real x, X without conjugate is the conjugate of the mirror's transform); a
    # denominator per channel is the sum of one-channel filters; no lam is lam = 0
    mirrored = np.roll(x[:, ::-1, ::-1], shift=(1, 1), axis=(1, 2))
    want, no_conjugate = filter_response(x, y, z, lam), filter_response(mirrored, y, z, lam)
    per_channel = sum(filter_response(x[d:d + 1], y, z[d:d + 1], lam) for d in range(len(x)))
    no_lam = filter_response(x, y, z, 0.0)
    got, failed = _attempt(name, fn, (x.copy(), y.copy(), z.copy(), lam), "return the H x W response map")
    if failed is not None:
        return failed
    try:
        got = np.asarray(got.detach().cpu() if hasattr(got, "detach") else got)
    except (TypeError, ValueError):
        return CheckResult(name, False, ["return an array of numbers"])
    if np.iscomplexobj(got):
        if np.allclose(np.real(got), want, atol=1e-6):
            return CheckResult(name, False, ["right, but complex: the response is real, return its real part"])
        got = np.real(got)
    got = got.astype(np.float64).squeeze()
    if got.shape != want.shape:
        return CheckResult(name, False, [f"expected a {want.shape} map, got {got.shape}"])
    if np.allclose(got, want, atol=1e-6):
        peak = np.unravel_index(np.argmax(got), got.shape)

        def agrees(g, w, *args):
            g = _as_numbers(np.real(g) if np.iscomplexobj(g) else g)
            return g.size == np.size(w) and np.allclose(g.reshape(np.shape(w)), w, atol=1e-6)
        return _varied(name, fn, _filter_cases(np.random.default_rng(seed)), filter_response, agrees,
                       lambda x, y, z, lam: f"{x.shape[0]}-channel {x.shape[1]}x{x.shape[2]} features with lam = {lam}",
                       f"the patch moved by (3, 5) cells and the peak is at {tuple(int(v) for v in peak)}: one "
                       "division per frequency did what a sliding window would")
    if np.allclose(got, no_conjugate, atol=1e-6):
        return CheckResult(name, False, ["take the complex conjugate of X (the training features): without it the "
                                         "filter learns a convolution, and the peak lands in the mirrored place"])
    if np.allclose(got, per_channel, atol=1e-6):
        return CheckResult(name, False, ["one denominator for all channels: sum |X^k|^2 over the channels k. A "
                                         "denominator per channel learns C separate filters, each explaining the "
                                         "whole response alone"])
    if np.allclose(got, no_lam, atol=1e-6):
        return CheckResult(name, False, ["add lam to the denominator: it keeps the filter small where the training "
                                         "patch has little energy"])
    return CheckResult(name, False, [f"expected e.g. response[3, 5] = {want[3, 5]:.4f}, got {got[3, 5]:.4f}"])


# -------------------------------------------------------------------------------------------- the index
#: exercise (the function name the notebook's exercise cell defines) -> (notebook, the check that grades it)
EXERCISES = {
    "box_center": ("00_welcome", check_box_center),
    "precision_at": ("00_welcome", check_precision_at),
    "ssd_map": ("01_generative_vs_discriminative", check_ssd_map),
    "sample_labels": ("01_generative_vs_discriminative", check_sample_labels),
    "systematic_resample": ("02_motion_models", check_systematic_resample),
    "bhattacharyya": ("02_motion_models", check_bhattacharyya),
    "masking_noise": ("03_dlt", check_masking_noise),
    "kl_sparsity": ("03_dlt", check_kl_sparsity),
    "should_update": ("03_dlt", check_update_decision),
    "cd1_step": ("03_dlt", check_cd1_step),
    "box_from_objectness": ("03_dlt", check_box_from_objectness),
    "taylor_significance": ("04_fcnt", check_taylor_significance),
    "distractor_share": ("04_fcnt", check_distractor_share),
    "hard_negatives": ("05_mdnet", check_hard_negatives),
    "box_deltas": ("05_mdnet", check_box_deltas),
    "target_score": ("05_mdnet", check_target_score),
    "success_rates": ("06_evaluation", check_success_curve),
    "dataset_auc": ("06_evaluation", check_dataset_auc),
    "vot_resets": ("06_evaluation", check_vot_resets),
    "expected_average_overlap": ("06_evaluation", check_expected_average_overlap),
    "tracking_f_score": ("06_evaluation", check_tracking_f_score),
    "correlate": ("07_where_next", check_cross_correlation),
    "filter_response": ("07_where_next", check_filter_response),
}


def run_check(name: str, fn, *, seed: int = 0, reference=None) -> CheckResult:
    """Exercise ``name``'s check on ``fn``, given ``seed`` and ``reference`` where it takes them: a check on fixed
    cases takes neither, and one that judges its drawn cases by their properties (masking noise) takes no
    reference."""
    check = EXERCISES[name][1]
    parameters = inspect.signature(check).parameters
    extra = {key: value for key, value in (("seed", seed), ("reference", reference)) if key in parameters}
    return check(fn, **extra)


def draws_cases(name: str) -> bool:
    """Whether exercise ``name``'s check draws cases from a seed (other seeds are cases a notebook never shows)."""
    return "seed" in inspect.signature(EXERCISES[name][1]).parameters


def grade(fn, name: str, reference=None, seeds=()) -> str:
    """The autograder's test of one exercise, called by the hidden part of its graded cell: the check the notebook
    shows (seed 0, the recorded answers), then the same check on the cases each of ``seeds`` draws, compared with the
    instructor's ``reference``. Raises ``AssertionError`` with the check's message at the first failure, so that
    nbgrader gives the cell no points and the grading table shows why."""
    if name not in EXERCISES:
        raise ExerciseSetupError(f"no exercise called {name!r}; the exercises are: {', '.join(EXERCISES)}")
    result = run_check(name, fn)
    if not result.passed:
        raise AssertionError(str(result))
    varied = draws_cases(name)
    for seed in seeds if varied else ():
        result = run_check(name, fn, seed=seed, reference=reference)
        if not result.passed:
            raise AssertionError(f"right on the notebook's cases, not on the hidden ones: {result}")
    return f"{name}: passed" + (f", and on {len(seeds)} hidden sets of cases" if varied and seeds else "")


__all__ = ["ANSWERS_FILE", "CheckResult", "EXERCISES", "ExerciseSetupError", "VARIED_CASES", "draws_cases", "encode_answers", "grade", "run_check", "check_box_center", "check_precision_at", "check_ssd_map", "check_sample_labels", "check_systematic_resample", "check_bhattacharyya", "check_masking_noise", "check_kl_sparsity", "check_update_decision", "check_cd1_step", "check_box_from_objectness", "check_taylor_significance", "check_distractor_share", "check_hard_negatives", "check_box_deltas", "check_target_score", "check_success_curve", "check_dataset_auc", "check_vot_resets", "check_expected_average_overlap", "check_tracking_f_score", "check_cross_correlation", "check_filter_response"]
