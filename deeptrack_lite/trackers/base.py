"""The tracker protocol, the registry, and the generic tracking loop.

    tracker = create_tracker("kcf", device="auto", **params)
    tracker.init(image, box)      # image: H x W x 3 uint8 RGB; box: (x, y, w, h)
    box = tracker.update(image)   # -> float array (x, y, w, h), every frame, even when unsure

A tracker never raises on a hard frame: it returns its best guess (the last box when it has nothing
better) and may explain itself in ``tracker.last_info``.

Randomness is part of the protocol: ``create_tracker(name, seed=s)``; the base class owns the generators a
tracker draws from (``self.rng``, a ``numpy.random.Generator``; ``self.generator``, a ``torch.Generator`` on
the tracker's device; ``self.new_generator(device)`` for further independent streams), all made anew from
the seed at every ``init``. So one seed fixes one run, different seeds give different runs of a stochastic
tracker, and nothing global carries state from one tracker instance to another. The class flag
``deterministic`` says that seeds cannot matter (the runner then runs one seed and reuses it);
``repeatable = False`` marks a tracker whose randomness no seed reaches (OpenCV's MIL).

Where time goes is part of the protocol too: a tracker wraps its stages in ``with self.timed("features"):``
(stage names in :data:`STAGES`), and every ``init``/``update`` leaves ``last_info["timing"]``: seconds per
stage, exclusive of nested stages, plus ``"other"`` (Python overhead, whatever no stage covers) and
``"total"``; the stages and ``"other"`` add up to ``"total"``. The timers are always on and cost two clock
reads per stage; on a GPU they do not wait for queued work unless ``sync_timing`` is True (``speed`` sets
it), so that timing never adds a synchronisation to the hot path.

Whether the target is in view is part of the protocol as well (:mod:`.presence`): a tracker with a natural
confidence sets ``last_info["score"]`` on every update (its class's ``SCORE`` says what it is; higher means
surer), and ``update`` adds ``last_info["present"]``, that score compared with ``presence_threshold``
(calibrated per tracker, or given: ``create_tracker(name, presence_threshold=t)``). The box is returned either
way. :attr:`TrackingRun.scores` keeps the scores of a run.
"""
from __future__ import annotations

import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Callable

import numpy as np
import torch

from ..boxes import check_box_in_image, clip_box
from ..errors import DeepTrackError, FrameError, TrackerError
from ..images import as_rgb_image
from ..runtime import device as pick_device, device_name
from .parameters import check_params, check_seed, is_number, rule_of
from .presence import is_present, presence_threshold as calibrated_presence_threshold

_REGISTRY: dict[str, tuple[type, str]] = {}

#: The stage names the deep trackers time (``last_info["timing"]``), in the order reports show them.
STAGES = {
    "training": "fine-tuning: the first frame's in init, updates in update",
    "sampling": "drawing candidate and training boxes, and moving the particle filter",
    "features": "crops and network features of candidates and samples",
    "scoring": "the classifier or heat-map head on those features",
    "box_regression": "refining the reported box",
    "other": "Python overhead: everything no stage covers",
}


def register_tracker(name: str, description: str = "") -> Callable[[type], type]:
    """Class decorator: make a :class:`Tracker` subclass available to :func:`create_tracker`."""
    def decorate(cls):
        key = name.lower()
        if key in _REGISTRY and _REGISTRY[key][0] is not cls:
            raise TrackerError(f"a tracker named {key!r} is already registered")
        cls.name = key
        _REGISTRY[key] = (cls, description or (cls.__doc__ or "").strip().splitlines()[0])
        return cls
    return decorate


def available_trackers() -> list[str]:
    """Names accepted by :func:`create_tracker` (lower case), sorted."""
    return sorted(_REGISTRY)


def describe_trackers() -> dict[str, str]:
    """{name: one-line description} for every registered tracker."""
    return {name: _REGISTRY[name][1] for name in available_trackers()}


def tracker_class(name: str) -> type:
    """The registered class of a tracker name (its flags: ``deterministic``, ``repeatable``, ``min_size``)."""
    key = str(name).strip().lower()
    if key not in _REGISTRY:
        raise TrackerError(f"unknown tracker {name!r}; available: {', '.join(available_trackers())}")
    return _REGISTRY[key][0]


def create_tracker(name: str, device="auto", seed: int = 0, **params) -> "Tracker":
    """Build a tracker by name; ``seed`` fixes its random numbers, ``params`` override its documented
    defaults (``Tracker.PARAMS``)."""
    return tracker_class(name)(device=device, seed=seed, **params)


class Tracker:
    """Base class. Subclasses set ``PARAMS`` ({name: (default, help, rule)}: :mod:`.parameters` checks every
    given value against its rule) and implement ``_init`` and
    ``_update``; the public ``init``/``update`` validate inputs and outputs once for all trackers."""

    name = "tracker"
    PARAMS: dict[str, tuple] = {}
    deterministic = False  # True: no random numbers, so every seed gives the same run (as got10k's is_deterministic)
    repeatable = True      # False: the tracker draws from a generator no seed reaches, so two runs may differ
    min_size = 1.0         # the smallest width and height (pixels, of the part inside the image) init accepts
    SCORE: str | None = None          # what last_info["score"] is; None: the tracker has no natural confidence
    PRESENCE_THRESHOLD: float = 0.5   # the threshold on that score when presence.json has none for the tracker

    def __init__(self, device="auto", seed: int = 0, presence_threshold=None, **params):
        check_params(self.name, self.PARAMS, params)
        self.seed = check_seed(seed, f"{self.name}: seed")
        self.device = pick_device(device)
        self.params = {k: v[0] for k, v in self.PARAMS.items()}
        self.params.update(params)
        if presence_threshold is None:
            presence_threshold = self.default_presence_threshold()
        self.presence_threshold = None if presence_threshold is None else self._threshold(presence_threshold)
        self.last_info: dict = {}
        self.last_box: np.ndarray | None = None
        self._frame_shape = None
        self.sync_timing = False
        self._stage_stack: list = []
        self._stage_times: dict[str, float] = {}
        self._reset_random()

    def _threshold(self, value) -> float:
        # -inf ("always present") and inf ("never") are decisions; NaN would silently mean "never present"
        if not is_number(value, finite=False):
            raise TrackerError(f"{self.name}: presence_threshold must be a number (not NaN), got {value!r}")
        return float(value)

    @classmethod
    def default_presence_threshold(cls) -> float | None:
        """The threshold a tracker of this class uses unless given one: the calibrated one (``presence.json``),
        else ``PRESENCE_THRESHOLD``; None for a tracker without a score."""
        return calibrated_presence_threshold(cls.name, cls.PRESENCE_THRESHOLD) if cls.SCORE else None

    @classmethod
    def help(cls) -> str:
        """The tracker's parameters with their defaults and meaning."""
        lines = [f"{cls.name}: {(cls.__doc__ or '').strip().splitlines()[0] if cls.__doc__ else ''}"]
        lines += [f"  {k} = {v[0]!r} ({rule_of(v) or 'not checked: no rule declared'}): {v[1]}"
                  for k, v in cls.PARAMS.items()]
        lines.append("  seed: " + ("no effect (deterministic)" if cls.deterministic else
                                   "create_tracker(name, seed=...) fixes the run" if cls.repeatable else
                                   "no effect: its random numbers are OpenCV's own, so runs are not repeatable"))
        lines.append(f"  smallest initial box: {cls.min_size:g} x {cls.min_size:g} pixels inside the image")
        lines.append(f"  presence score: {cls.SCORE}; present when score >= "
                     f"{cls.default_presence_threshold():.4g} (presence_threshold=...)"
                     if cls.SCORE else "  presence score: none (no natural confidence; never says 'absent')")
        return "\n".join(lines)

    # ------------------------------------------------------------------ timing (one place for all trackers)
    @contextmanager
    def timed(self, stage: str, absorb: bool = False):
        """Count the wall time of the ``with`` block towards ``stage`` of the current init/update call.
        Nested stages are exclusive (an inner stage's time is not counted again in the outer one), except
        inside an ``absorb`` stage, which keeps everything it calls: fine-tuning is "training" even when
        hard negative mining scores candidates inside it."""
        if any(f[2] for f in self._stage_stack):
            yield
            return
        sync = self.sync_timing and self.device.type == "cuda"
        if sync:
            torch.cuda.synchronize(self.device)
        frame = [time.perf_counter(), 0.0, absorb]  # start, time spent in nested stages, absorbing
        self._stage_stack.append(frame)
        try:
            yield
        finally:
            if sync:
                torch.cuda.synchronize(self.device)
            elapsed = time.perf_counter() - frame[0]
            self._stage_stack.pop()
            if self._stage_stack:
                self._stage_stack[-1][1] += elapsed
            self._stage_times[stage] = self._stage_times.get(stage, 0.0) + elapsed - frame[1]

    def _timed_call(self, method, *args):
        self._stage_times, self._stage_stack = {}, []
        start = time.perf_counter()
        result = method(*args)
        if self.sync_timing and self.device.type == "cuda":
            torch.cuda.synchronize(self.device)
        total = time.perf_counter() - start
        timing = dict(self._stage_times)
        timing["other"] = max(total - sum(timing.values()), 0.0)
        timing["total"] = total
        self.last_info["timing"] = timing
        return result

    # ------------------------------------------------------------------ randomness (one place for all trackers)
    def _reset_random(self) -> None:
        self.rng = np.random.default_rng(self.seed)
        self.generator = self.new_generator()

    def new_generator(self, device=None) -> torch.Generator:
        """A fresh ``torch.Generator`` seeded with this tracker's seed, on ``device`` (default: the tracker's).
        For a further independent stream, e.g. a particle filter that lives on the CPU."""
        return torch.Generator(device=self.device if device is None else device).manual_seed(self.seed)

    def init(self, image, box) -> None:
        """Start tracking the object in ``box`` (x, y, w, h) of ``image``; the random generators start again
        from the seed, so the same frames and seed give the same run."""
        image = as_rgb_image(image, what="initial frame")
        box = check_box_in_image(box, image.shape, what="initial box")
        inside = clip_box(box, image.shape)
        if min(inside[2], inside[3]) < self.min_size:
            raise TrackerError(f"{self.name} needs an initial box of at least {self.min_size:g} x {self.min_size:g} "
                               f"pixels inside the image; {box.tolist()} has {inside[2]:g} x {inside[3]:g}")
        self._frame_shape = image.shape
        self.last_info = {}
        self._reset_random()
        self._timed_call(self._init, image, box)
        self.last_box = box.copy()

    def update(self, image) -> np.ndarray:
        """Locate the object in the next frame; returns (x, y, w, h) as a float64 array."""
        if self.last_box is None:
            raise TrackerError(f"{self.name}: call init(image, box) before update(image)")
        image = as_rgb_image(image, what="frame")
        self.last_info = {}
        box = np.asarray(self._timed_call(self._update, image), dtype=np.float64).reshape(-1)
        if box.shape != (4,) or not np.all(np.isfinite(box)) or box[2] <= 0 or box[3] <= 0:
            self.last_info["fallback"] = "invalid box from the tracker; kept the previous one"
            box = self.last_box.copy()
        if "score" in self.last_info:
            self.last_info["score"] = float(self.last_info["score"])
            self.last_info["present"] = is_present(self.last_info["score"], self.presence_threshold)
        self.last_box = box
        return box.copy()

    def _init(self, image: np.ndarray, box: np.ndarray) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    def _update(self, image: np.ndarray) -> np.ndarray:  # pragma: no cover - abstract
        raise NotImplementedError

    def __repr__(self) -> str:
        changed = {k: v for k, v in self.params.items() if v != self.PARAMS[k][0]}
        return f"{type(self).__name__}(name={self.name!r}, device={str(self.device)!r}, seed={self.seed}, params={changed})"


@register_tracker("identity", "returns the initial box on every frame: a floor for every metric, and a test double")
class IdentityTracker(Tracker):
    """Returns the initial box on every frame."""

    deterministic = True

    def _init(self, image, box):
        self._box = box.copy()

    def _update(self, image):
        return self._box


@dataclass
class TrackingRun:
    """The outcome of :func:`track`: one box and one time per frame.

    ``times[0]`` is the time of ``init``, ``times[i]`` that of ``update`` on frame i (seconds, frame
    decoding excluded). ``fps`` follows docs/design.md: frames processed / total time in init and update.
    ``scores[i]`` is ``last_info["score"]`` after frame i: NaN on frame 0 (the given box, no decision) and on
    every frame of a tracker without a score; ``present`` is the tracker's decision (True where it has none).
    """

    tracker: str
    sequence: str
    boxes: np.ndarray
    times: np.ndarray
    device: str
    infos: list = field(default_factory=list)
    scores: np.ndarray | None = None
    present: np.ndarray | None = None

    @property
    def fps(self) -> float:
        total = float(np.sum(self.times))
        return len(self.times) / total if total > 0 else float("inf")

    @property
    def fps_after_init(self) -> float:
        """Speed over the update frames only (the first frame, often slow, timed apart)."""
        total = float(np.sum(self.times[1:]))
        return (len(self.times) - 1) / total if total > 0 else float("inf")

    def __len__(self) -> int:
        return len(self.boxes)


def track(tracker, sequence, *, progress: bool = True, keep_info=False, init_box=None, seed: int = 0) -> TrackingRun:
    """Run a tracker (an instance, or a registered name created with ``seed``) over a sequence, one-pass,
    from frame 0. ``keep_info``: True keeps every frame's ``last_info`` in ``infos``, a list of keys keeps
    those keys only (``["timing"]`` on a long sequence costs no memory to speak of).

    If a frame cannot be read, :class:`FrameError` is raised with ``partial_result`` holding the run
    up to the last good frame, so nothing already computed is lost.
    """
    if isinstance(tracker, str):
        tracker = create_tracker(tracker, seed=seed)
    n = len(sequence)
    boxes = np.full((n, 4), np.nan)
    times = np.zeros(n)
    scores = np.full(n, np.nan)
    present = np.ones(n, dtype=bool)
    infos: list = []
    box0 = sequence.ground_truth[0] if init_box is None else init_box
    indices = range(n)
    if progress:
        from tqdm.auto import tqdm
        indices = tqdm(indices, desc=f"{tracker.name} on {sequence.name}", leave=False, unit="frame")

    def partial(i):
        return TrackingRun(tracker.name, sequence.name, boxes[:i].copy(), times[:i].copy(),
                           device_name(tracker.device), infos[:i], scores[:i].copy(), present[:i].copy())

    for i in indices:
        try:
            frame = sequence.frame(i)
        except DeepTrackError as exc:
            raise FrameError(f"{tracker.name} on {sequence.name}: frame {i} failed ({exc}); the {i} frames "
                             "already tracked are in this error's partial_result", partial_result=partial(i)) from exc
        start = time.perf_counter()
        if i == 0:
            tracker.init(frame, box0)
            box = np.asarray(box0, dtype=np.float64)
        else:
            box = tracker.update(frame)
        times[i] = time.perf_counter() - start
        boxes[i] = box
        if i > 0 and "score" in tracker.last_info:
            scores[i], present[i] = tracker.last_info["score"], tracker.last_info["present"]
        if keep_info is True:
            infos.append(dict(tracker.last_info))
        elif keep_info:
            infos.append({k: tracker.last_info[k] for k in keep_info if k in tracker.last_info})
    return TrackingRun(tracker.name, sequence.name, boxes, times, device_name(tracker.device), infos, scores, present)
