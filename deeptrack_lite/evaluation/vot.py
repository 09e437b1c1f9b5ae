"""VOT's supervised (reset-based) protocol: failures, re-initialisation, accuracy, robustness and EAO.

Every measure equals vot-toolkit 0.9.0's on the same trajectories (``vot/region/raster.py``,
``vot/analysis/supervised.py``; ``tests/test_vot_reference.py`` calls the toolkit itself):

- **Run** (:func:`run_supervised`): the tracker starts on frame 0 from the ground truth. A frame whose
  overlap with the ground truth is ``<= failure_overlap`` (0: no overlap at all) is a **failure**; the
  tracker is re-initialised from the ground truth ``skip`` frames later (VOT uses 5), and the frames between
  are not scored. Not the toolkit's (whose short-term stacks never lose the target): a frame without ground truth
  (the target out of view) cannot fail, and a restart waits for the target to be visible.
- **Trajectory codes**, as the toolkit writes them: ``1`` on an initialisation frame, ``2`` on a failure,
  ``0`` on a skipped frame, a box otherwise (:func:`write_trajectory` / :func:`read_trajectory`).
- **Overlap** (:func:`region_overlap`, :func:`run_overlaps`): the toolkit's *bounded* overlap,
  ``calculate_overlap``: both regions are rounded and rasterised to whole pixels inside the image, boxes and
  polygons alike (VOT's rotated boxes, kept by the readers in ``sequence.meta["polygons"]``, are compared as
  polygons, not as their bounding boxes). Special frames and absent targets are empty regions: two empty regions
  overlap 1.
- **Accuracy** (:func:`accuracy`): mean overlap over the scored frames: not an initialisation frame or the
  ``burnin - 1`` frames after it (burn-in 10 counts the initialisation frame), not a failure, not skipped. Over
  sequences, the mean weighted by sequence length (:func:`summarize_vot`).
- **Robustness** (:func:`count_failures`): the number of failures per sequence; over sequences, their
  length-weighted mean, and the A-R plot's reliability ``exp(-S R / L)`` (R that mean, L the mean length,
  S = 30 frames). Failures per 100 frames are shown beside them (this package's, to compare sequences).
- **EAO** (:func:`eao_curve`, :func:`eao_score`): every initialisation starts a segment, which ends at its
  failure (then its overlaps count as 0 up to any length) or at the sequence end (then it counts only up to
  its own length). The curve at length N is the mean, over the segments that count at N, of each segment's
  average overlap over its frames 1..N (frame 0, the initialisation, excluded); it ends with the longest
  segment. The score is the curve's mean over ``[low, high]``: the published stack's fixed interval
  (:data:`VOT_STACK_INTERVALS`: VOT2015 and 2016 [108, 371], VOT2017 and 2018 [100, 356]), or, for other
  datasets, one estimated from their lengths by this package's rule (:func:`eao_interval`); the report says which.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..errors import DataError
from ..fileio import make_folder
from ..outputs import write_text
from .results import read_text, trajectory_path, trajectory_times_path

INITIALIZATION, FAILURE, SKIPPED = 1, 2, 0  # the toolkit's special region codes


@dataclass
class SupervisedRun:
    """One reset-based run: ``codes[i]`` is 1 (initialisation), 2 (failure), 0 (skipped) or -1 (a box in
    ``boxes[i]``); ``times[i]`` the seconds of that frame's ``init``/``update`` (0 when skipped)."""

    codes: np.ndarray
    boxes: np.ndarray
    times: np.ndarray

    @property
    def failures(self) -> int:
        return int((self.codes == FAILURE).sum())

    @property
    def initializations(self) -> np.ndarray:
        return np.flatnonzero(self.codes == INITIALIZATION)


def _toolkit_region(region) -> tuple[str, np.ndarray]:
    """A box (x, y, w, h) or a polygon (k x 2, or 2k numbers) as the toolkit holds it before rasterising:
    float32 (its ``Rectangle`` and ``Polygon`` store that), rounded half to even (``_infer_meta``). None, or a
    region with a NaN, is the toolkit's empty region: what it reads for a special frame code or an absent target."""
    if region is None:
        return "empty", np.zeros(0)
    data = np.asarray(region, dtype=np.float64)
    if not np.isfinite(data).all():
        return "empty", np.zeros(0)
    data = np.round(data.astype(np.float32).astype(np.float64))
    if data.size == 4:
        return "rectangle", data.reshape(4)
    if data.size < 6 or data.size % 2:
        raise DataError(f"a region is a box (4 numbers) or a polygon (at least 3 points); got {data.size} numbers")
    return "polygon", data.reshape(-1, 2)


def _pixel_bounds(kind: str, data: np.ndarray) -> tuple:
    """(left, top, right, bottom), inclusive pixel columns and rows: ``_bounds_rectangle`` / ``_bounds_polygon``;
    (0, 0, 0, 0) for an empty region, as the toolkit's ``_region_bounds`` gives it."""
    if kind == "empty":
        return 0, 0, 0, 0
    if kind == "rectangle":
        x, y, w, h = data
        return x, y, x + w - 1, y + h - 1
    return (*data.min(axis=0), *data.max(axis=0))  # the vertices are rounded already


def _raster(kind: str, data: np.ndarray, bounds: tuple) -> np.ndarray:
    """The region's pixels inside ``bounds`` (left, top, right, bottom), as a boolean mask: the toolkit's
    ``rasterize_rectangle`` and ``rasterize_polygon`` (a scanline fill of the rounded vertices, edges included)."""
    left, top, right, bottom = (int(v) for v in bounds)
    width, height = right - left + 1, bottom - top + 1
    mask = np.zeros((height, width), dtype=bool)
    if kind == "empty":
        return mask
    if kind == "rectangle":
        x, y, w, h = data
        if x > right or x + w - 1 < left or y > bottom or y + h - 1 < top:
            return mask
        mask[int(max(0, y - top)):int(y + h - top), int(max(0, x - left)):int(x + w - left)] = True
        return mask
    px, py = data[:, 0] - left, data[:, 1] - top
    count = len(data)
    for row in range(height):
        nodes = []
        j = count - 1
        for i in range(count):
            yi, yj = py[i], py[j]
            if ((yi <= row < yj) or (yj <= row < yi) or (yi < row <= yj) or (yj < row <= yi)
                    or (yi == yj == row)):
                r, k = yj - yi, px[j] - px[i]
                nodes.append(int(px[i] + (row - yi) / r * k) if r != 0 else int(px[i]))  # int(): C's truncation
            j = i
        nodes.sort()
        i = 0
        while i < len(nodes) - 1:
            if nodes[i] >= width:
                break
            if nodes[i] == nodes[i + 1] and i < len(nodes) - 2:  # a vertex on the row: counted once
                i += 1
                continue
            if nodes[i + 1] >= 0:
                mask[row, max(nodes[i], 0):min(nodes[i + 1], width - 1) + 1] = True
            i += 2
    return mask


def region_overlap(region, truth, size) -> float:
    """The VOT toolkit's bounded overlap (``vot.region.raster.calculate_overlap(region, truth, bounds=size)``,
    vot-toolkit 0.9.0) of two regions, each a box (x, y, w, h) or a polygon (k x 2, or 2k numbers), in a
    ``size`` = (width, height) image: both are rounded to whole pixels and rasterised inside the image, and
    their pixels counted. Its corner cases are kept: when the two regions together span a single row or column
    the overlap is 1 (two empty regions), and when that span lies outside the image it is 0. None, or a region with
    a NaN, is empty (a special frame, an absent target): two empty regions overlap 1, an empty one and a box 0.
    Values differ from the continuous IoU by the share of the boundary pixels."""
    (ka, a), (kb, b) = _toolkit_region(region), _toolkit_region(truth)
    ba, bb = _pixel_bounds(ka, a), _pixel_bounds(kb, b)
    union = (min(ba[0], bb[0]), min(ba[1], bb[1]), max(ba[2], bb[2]), max(ba[3], bb[3]))
    if union[0] >= union[2] or union[1] >= union[3]:
        return 1.0
    W, H = size
    bounds = (max(0, union[0]), max(0, union[1]), min(W - 1, union[2]), min(H - 1, union[3]))
    if bounds[0] >= bounds[2] or bounds[1] >= bounds[3]:
        return 0.0
    if ka != "polygon" and kb != "polygon":  # boxes rasterise to blocks: count them without drawing them
        ra, rb = _block(ka, a, bounds), _block(kb, b, bounds)
        inter = (max(0, min(ra[1], rb[1]) - max(ra[0], rb[0])) * max(0, min(ra[3], rb[3]) - max(ra[2], rb[2])))
        union_ = (ra[1] - ra[0]) * (ra[3] - ra[2]) + (rb[1] - rb[0]) * (rb[3] - rb[2]) - inter
        return float(inter) / union_ if union_ > 0 else 0.0
    ma, mb = _raster(ka, a, bounds), _raster(kb, b, bounds)
    union_ = int(np.count_nonzero(ma | mb))
    return float(np.count_nonzero(ma & mb)) / union_ if union_ > 0 else 0.0


def _block(kind: str, data: np.ndarray, bounds: tuple) -> tuple[int, int, int, int]:
    """(first row, row after the last, first column, column after the last) of the pixels :func:`_raster` sets
    for a box or an empty region inside ``bounds``; an empty block has its end at its start."""
    left, top, right, bottom = (int(v) for v in bounds)
    if kind == "empty":
        return 0, 0, 0, 0
    x, y, w, h = data
    if x > right or x + w - 1 < left or y > bottom or y + h - 1 < top:
        return 0, 0, 0, 0
    r0, r1 = int(max(0, y - top)), int(min(bottom - top + 1, y + h - top))
    c0, c1 = int(max(0, x - left)), int(min(right - left + 1, x + w - left))
    return r0, max(r0, r1), c0, max(c0, c1)


def raster_overlap(box, truth, size) -> float:
    """:func:`region_overlap` of two boxes (x, y, w, h): the toolkit's whole-pixel overlap inside the image.
    Small boxes differ from the continuous IoU by whole pixels."""
    return region_overlap(np.asarray(box, dtype=np.float64).reshape(4), np.asarray(truth, dtype=np.float64).reshape(4),
                          size)


def ground_truth_regions(sequence) -> list:
    """Per frame the region VOT compares with: the polygon when the sequence has one (``meta["polygons"]``),
    else the box; None where the ground truth is absent (NaN)."""
    polygons = (sequence.meta or {}).get("polygons")
    if polygons is not None and len(polygons) != len(sequence):
        polygons = None
    out = []
    for i, box in enumerate(sequence.ground_truth):
        if polygons is not None and polygons[i] is not None:
            out.append(np.asarray(polygons[i], dtype=np.float64))
        else:
            out.append(None if not np.all(np.isfinite(box)) else np.asarray(box, dtype=np.float64))
    return out


def run_supervised(tracker, sequence, *, skip: int = 5, failure_overlap: float = 0.0) -> SupervisedRun:
    """Run ``tracker`` (an instance) over ``sequence`` with VOT's resets (module docstring)."""
    import time

    n = len(sequence)
    size = sequence.frame_size
    truths = ground_truth_regions(sequence)
    codes = np.full(n, SKIPPED, dtype=np.int64)
    boxes = np.full((n, 4), np.nan)
    times = np.zeros(n)
    frame = 0
    while frame < n:
        while frame < n and truths[frame] is None:  # (re)start only where the target is visible
            frame += 1
        if frame >= n:
            break
        start = time.perf_counter()
        tracker.init(sequence.frame(frame), sequence.ground_truth[frame])
        times[frame] = time.perf_counter() - start
        codes[frame] = INITIALIZATION
        frame += 1
        while frame < n:
            start = time.perf_counter()
            box = np.asarray(tracker.update(sequence.frame(frame)), dtype=np.float64)
            times[frame] = time.perf_counter() - start
            boxes[frame] = box
            if truths[frame] is not None and region_overlap(box, truths[frame], size) <= failure_overlap:
                codes[frame] = FAILURE
                frame += skip
                break
            codes[frame] = -1
            frame += 1
    return SupervisedRun(codes, boxes, times)


def run_overlaps(run: SupervisedRun, sequence) -> np.ndarray:
    """Per-frame bounded overlap of a run with the ground truth, as the toolkit's ``calculate_overlaps`` of a
    trajectory: a special frame (initialisation, failure, skipped) is an empty region, and so is an absent target,
    so a box where the target is absent scores 0 and a skipped frame where it is absent scores 1."""
    truths, size = ground_truth_regions(sequence), sequence.frame_size
    return np.array([region_overlap(run.boxes[i] if run.codes[i] == -1 else None, truths[i], size)
                     for i in range(len(run.codes))])


def accuracy(run: SupervisedRun, overlaps, *, burnin: int = 10) -> tuple[float, int]:
    """(mean overlap over the scored frames, their number), the toolkit's ``compute_accuracy``: initialisation
    frames and the ``burnin - 1`` frames after each, failures and skipped frames are not scored. Every other frame
    is, a box where the target is absent too (its overlap is 0: :func:`run_overlaps`). (0.0, 0) when no frame is
    scored."""
    codes = np.asarray(run.codes)
    mask = codes == -1
    for i in np.flatnonzero(codes == INITIALIZATION):
        mask[i:i + burnin] = False
    overlaps = np.asarray(overlaps, dtype=np.float64)
    return (float(overlaps[mask].mean()), int(mask.sum())) if mask.any() else (0.0, 0)


def count_failures(run: SupervisedRun) -> int:
    """The number of failures (frames coded 2)."""
    return run.failures


def eao_segments(run: SupervisedRun, overlaps) -> list[tuple[np.ndarray, bool]]:
    """(overlaps from an initialisation up to, not including, its failure, whether the segment reached the end
    without failing), for every initialisation of the run: the toolkit's pairing of initialisations and failures
    (``EAOCurve.subcompute``). A run without a failure is one segment of all its frames, from frame 0."""
    codes = np.asarray(run.codes)
    inits, fails = np.flatnonzero(codes == INITIALIZATION), np.flatnonzero(codes == FAILURE)
    overlaps = np.asarray(overlaps, dtype=np.float64)
    if not len(fails):
        return [(overlaps, True)]
    segments = [(overlaps[i:f], False) for i, f in zip(inits, fails)]
    if len(inits) > len(fails):
        segments.append((overlaps[inits[-1]:], True))
    return segments


def eao_curve(segments, max_length: int | None = None) -> np.ndarray:
    """Expected average overlap at every length 0 .. L - 1, L the longest segment (the toolkit's
    ``compute_eao_curve``); ``max_length`` cuts it shorter or runs it on, where only failed segments count.

    Value at N: the mean, over segments that failed (zeros after their end) and those that reached the end with
    at least N + 1 frames, of the segment's mean overlap over its frames 1..N (at N = 0 the initialisation frame's
    own value). Computed in float64 where the toolkit uses float32: the two differ in the seventh digit."""
    if not segments:
        return np.zeros(0)
    length = max_length or max(len(o) for o, _ in segments)
    values = np.zeros((len(segments), length))
    mask = np.zeros((len(segments), length))
    for k, (o, reached_end) in enumerate(segments):
        o = np.asarray(o, dtype=np.float64)[:length]
        values[k, :len(o)] = o
        mask[k, :] = 1.0 if not reached_end else 0.0
        if reached_end:
            mask[k, :len(o)] = 1.0
    averaged = values.copy()
    cumulative = np.cumsum(values[:, 1:], axis=1)
    averaged[:, 1:] = cumulative / np.arange(1, length)
    with np.errstate(invalid="ignore", divide="ignore"):
        return (averaged * mask).sum(axis=0) / mask.sum(axis=0)


def eao_interval(lengths, mass: float = 0.5) -> tuple[int, int]:
    """An EAO interval estimated from the sequence lengths: this package's rule (``interval="estimated"``), for
    datasets that are not a VOT stack. vot-toolkit 0.9.0 has no such rule: each stack fixes its interval
    (:data:`VOT_STACK_INTERVALS`). The rule is the legacy MATLAB toolkit's (``estimate_evaluation_interval``,
    ``find_range``): a kernel density estimate of the lengths, tabulated on 1 .. max(lengths) and normalised; from
    its mode the interval grows one frame at a time on the side of higher density until it holds ``mass`` (0.5) of
    it. The kernel here is Gaussian with Silverman's bandwidth (the legacy toolkit fitted its own KDE, so bounds can
    differ by a few frames), and the bounds are lengths of the curve: at most the longest sequence minus one."""
    lengths = np.asarray(lengths, dtype=np.float64)
    if len(lengths) == 0:
        raise DataError("eao_interval needs at least one sequence length")
    if len(lengths) == 1 or np.ptp(lengths) == 0:
        return (_on_the_curve(lengths[0], lengths),) * 2
    bandwidth = 1.06 * lengths.std(ddof=1) * len(lengths) ** -0.2
    grid = np.arange(1, int(lengths.max()) + 1, dtype=np.float64)
    p = np.exp(-0.5 * ((grid[:, None] - lengths[None, :]) / bandwidth) ** 2).sum(axis=1)
    p /= p.sum()
    low = high = int(np.argmax(p))
    total = p[low]
    while total < mass and (low > 0 or high < len(p) - 1):
        if high == len(p) - 1 or (low > 0 and p[low - 1] > p[high + 1]):
            low -= 1
            total += p[low]
        else:
            high += 1
            total += p[high]
    return _on_the_curve(grid[low], lengths), _on_the_curve(grid[high], lengths)


def _on_the_curve(length, lengths) -> int:
    """Segments have at most N frames, N the longest sequence, so the curve ends at length N - 1 (frame 0 is the
    initialisation): a bound past it is moved there, or the score would be NaN."""
    return max(min(int(length), int(max(lengths)) - 1), 0)


def eao_score(curve, low: int, high: int) -> float:
    """Mean of the EAO curve over lengths ``low`` .. ``high`` (inclusive), as the toolkit's ``EAOScore``: where the
    curve ends inside the interval, the mean of the part that exists; NaN where it ends before ``low``."""
    part = np.asarray(curve, dtype=np.float64)[int(low):int(high) + 1]
    return float(np.mean(part)) if len(part) else float("nan")


# The published stacks' EAO intervals, as vot-toolkit 0.9.0 fixes them (vot/stack/vot2015/rgb.yaml,
# vot2016/rgb.yaml, vot2017.yaml, vot2018/shortterm.yaml: supervised_eao_score low/high).
VOT_STACK_INTERVALS = {"vot2015": (108, 371), "vot2016": (108, 371), "vot2017": (100, 356), "vot2018": (100, 356)}


def resolve_eao_interval(interval, lengths, dataset_name: str = "") -> tuple[int, int, str]:
    """(low, high, where they come from) for an ``interval`` given as (low, high), a VOT stack's name
    (:data:`VOT_STACK_INTERVALS`), ``"estimated"`` (:func:`eao_interval` of ``lengths``), or None: the stack's
    interval when ``dataset_name`` starts with a stack's name (a folder called ``vot2016``), else estimated."""
    name = str(dataset_name).lower()
    if interval is None:
        interval = next((stack for stack in VOT_STACK_INTERVALS if name.startswith(stack)), "estimated")
    if isinstance(interval, str):
        key = interval.lower()
        if key in VOT_STACK_INTERVALS:
            return (*VOT_STACK_INTERVALS[key], f"the {key.upper()} stack's (vot-toolkit 0.9.0)")
        if key == "estimated":
            return (*eao_interval(lengths), "estimated from these sequence lengths (deeptrack_lite's rule)")
        raise DataError(f"unknown EAO interval {interval!r}: give (low, high), 'estimated' or one of "
                        f"{', '.join(VOT_STACK_INTERVALS)}")
    try:
        low, high = (int(v) for v in interval)
    except (TypeError, ValueError):
        raise DataError(f"an EAO interval is (low, high) in frames; got {interval!r}") from None
    if not 0 <= low <= high:
        raise DataError(f"an EAO interval needs 0 <= low <= high; got {low}-{high}")
    return low, high, "given"


# ---------------------------------------------------------------------------------------------- files
def write_trajectory(path, run: SupervisedRun) -> Path:
    """The toolkit's text layout: one line per frame, ``1``/``2``/``0`` for the special frames, else
    ``x,y,w,h``; the frame times beside it in ``<name>_time.txt``. Boxes last, so a complete file means a run."""
    path = Path(path)
    make_folder(path.parent)
    write_text(trajectory_times_path(path), "".join(f"{t:.6f}\n" for t in run.times))
    lines = [str(int(c)) if c != -1 else ",".join(f"{v:.4f}" for v in b) for c, b in zip(run.codes, run.boxes)]
    write_text(path, "\n".join(lines) + "\n")
    return path


#: The toolkit's order of frame codes, which its supervised runner and ours write: a trajectory starts with its
#: initialisation (1), after skipped frames (0) only where the target is absent at first (ours waits for it); a
#: failure (2) is followed by skipped frames and then a re-initialisation or the sequence's end; regions (-1)
#: follow an initialisation or a region. {state: {code: next state}}.
_TRAJECTORY_ORDER = {"start": {SKIPPED: "start", INITIALIZATION: "tracking"},
                     "tracking": {-1: "tracking", FAILURE: "failed"},
                     "failed": {SKIPPED: "failed", INITIALIZATION: "tracking"}}


def _trajectory_line(path: Path, number: int, line: str) -> tuple[int, np.ndarray | None]:
    """One line of a trajectory: (code, None) for a special frame, (-1, box) for a region."""
    where = f"{path}, line {number}"
    try:
        values = [float(v) for v in line.split(",")]
    except ValueError:
        raise DataError(f"{where}: {line[:60]!r} is not a VOT region (numbers separated by commas)") from None
    if len(values) == 1:
        if values[0] not in (INITIALIZATION, FAILURE, SKIPPED):
            raise DataError(f"{where}: {line!r} is not a frame code (1 initialisation, 2 failure, 0 skipped)")
        return int(values[0]), None
    if not all(math.isfinite(v) for v in values):
        raise DataError(f"{where}: the region {line[:60]!r} has a value that is not a finite number")
    if len(values) == 4:
        if values[2] < 0 or values[3] < 0:
            raise DataError(f"{where}: the box {line!r} has a negative width or height")
        return -1, np.array(values)
    if len(values) >= 6 and len(values) % 2 == 0:
        p = np.array(values).reshape(-1, 2)
        return -1, np.array([p[:, 0].min(), p[:, 1].min(), np.ptp(p[:, 0]), np.ptp(p[:, 1])])
    raise DataError(f"{where}: {len(values)} numbers are not a VOT region (a code, a box x,y,w,h or a polygon of "
                    "at least 3 points)")


def read_trajectory(path) -> SupervisedRun:
    """A trajectory written by :func:`write_trajectory` or by the VOT toolkit (rectangles, or polygons
    reduced to their bounding boxes), read strictly: a code other than 0, 1 or 2, a region that is not finite
    or has a negative size, codes out of the toolkit's order (``_TRAJECTORY_ORDER``) or a damaged
    ``_time.txt`` raise :class:`~deeptrack_lite.errors.DataError` naming the file and line."""
    path = Path(path)
    lines = [l.strip() for l in read_text(path, "a VOT trajectory").splitlines() if l.strip()]
    if not lines:
        raise DataError(f"{path}: an empty trajectory")
    codes = np.full(len(lines), -1, dtype=np.int64)
    boxes = np.full((len(lines), 4), np.nan)
    for i, line in enumerate(lines):
        codes[i], box = _trajectory_line(path, i + 1, line)
        if box is not None:
            boxes[i] = box
    state = "start"
    for i, code in enumerate(codes):
        state = _TRAJECTORY_ORDER[state].get(int(code))
        if state is None:
            raise DataError(f"{path}, line {i + 1}: the frame codes are out of VOT's order (a trajectory starts "
                            "with 1, after 0s while the target is absent; a failure, 2, is followed by skipped frames, "
                            "0, then a re-initialisation, 1, or its end)")
    if state == "start":
        raise DataError(f"{path}: the trajectory never initialises the tracker (no line 1)")
    time_file = trajectory_times_path(path)
    times = np.zeros(len(lines))
    if time_file.is_file():
        text = read_text(time_file, "the frame times of a VOT trajectory")
        try:
            values = np.array([float(t) for t in text.split()])
        except ValueError:
            raise DataError(f"{time_file}: the frame times must be numbers, one per line") from None
        if len(values) == len(lines):
            times = values
    return SupervisedRun(codes, boxes, times)


@dataclass
class VOTSequenceScore:
    sequence: str
    frames: int
    failures: int
    accuracy: float
    scored_frames: int
    segments: list = field(repr=False, default_factory=list)

    @property
    def failure_rate(self) -> float:
        """Failures per 100 frames."""
        return 100.0 * self.failures / max(self.frames, 1)


def score_vot_run(run: SupervisedRun, sequence, *, burnin: int = 10) -> VOTSequenceScore:
    """Accuracy, failures and EAO segments of one run on its sequence."""
    if len(run.codes) != len(sequence):
        raise DataError(f"{sequence.name}: the trajectory has {len(run.codes)} frames, the sequence {len(sequence)}")
    first = int(run.initializations[0]) if len(run.initializations) else len(run.codes)
    visible = next((i for i, region in enumerate(ground_truth_regions(sequence)) if region is not None), None)
    if visible is not None and visible < first:
        raise DataError(f"{sequence.name}: the trajectory starts the tracker on frame {first + 1}, but the target is "
                        f"visible from frame {visible + 1}, where VOT's runner starts it")
    overlaps = run_overlaps(run, sequence)
    acc, n = accuracy(run, overlaps, burnin=burnin)
    return VOTSequenceScore(sequence.name, len(sequence), run.failures, acc, n, eao_segments(run, overlaps))


EAO_LENGTHS = ("longest-segment", "longest-sequence")


def summarize_vot(scores: list, *, interval=None, dataset_name: str = "", sensitivity: float = 30.0,
                  eao_length: str = "longest-segment") -> dict:
    """One tracker over sequences, as vot-toolkit 0.9.0's ``supervised_average_ar`` and ``supervised_eao_score``
    report it:

    - ``accuracy``: the per-sequence accuracies averaged with the sequence lengths as weights;
    - ``robustness``: the per-sequence failure counts averaged the same way (the toolkit's "Robustness");
    - ``reliability``: ``exp(-sensitivity * robustness / mean length)``, the A-R plot's robustness axis;
    - ``eao``: the EAO curve of all segments together, averaged over ``interval`` (:func:`resolve_eao_interval`;
      ``eao_interval_source`` says where it comes from). The toolkit's curve ends with the longest segment, so
      its score is NaN for a tracker none of whose segments reaches ``low`` (it failed on every sequence before).
      ``eao_length="longest-sequence"`` runs the curve on to the longest sequence, failed segments counting 0
      there, as the legacy MATLAB toolkit did for the VOT2015-2018 challenges (``analyze_expected_overlap.m``
      evaluates lengths 1 .. the longest sequence; only that extent is taken from it).

    Beside them, not the toolkit's: ``accuracy_unweighted`` (every sequence counts the same), ``failures`` (the
    total), ``failure_rate`` (failures per 100 frames over all frames)."""
    if not scores:
        return {}
    lengths = [s.frames for s in scores]
    low, high, source = resolve_eao_interval(interval, lengths, dataset_name)
    if eao_length not in EAO_LENGTHS:
        raise DataError(f"eao_length is one of {', '.join(EAO_LENGTHS)}; got {eao_length!r}")
    curve = eao_curve([seg for s in scores for seg in s.segments],
                      max_length=max(lengths) if eao_length == "longest-sequence" else None)
    weights = np.array(lengths, dtype=np.float64)
    robustness = float(np.average([s.failures for s in scores], weights=weights))
    return {
        "accuracy": float(np.average([s.accuracy for s in scores], weights=weights)),
        "robustness": robustness,
        "reliability": float(math.exp(-sensitivity * robustness / weights.mean())),
        "accuracy_unweighted": float(np.mean([s.accuracy for s in scores])),
        "failures": int(sum(s.failures for s in scores)),
        "failure_rate": float(100.0 * sum(s.failures for s in scores) / weights.sum()),
        "eao": eao_score(curve, low, high), "eao_interval": [int(low), int(high)], "eao_interval_source": source,
        "eao_length": eao_length,
        "eao_curve": [float(v) if np.isfinite(v) else None for v in curve],  # None: no segment counts at that length
        "per_sequence": {s.sequence: {"frames": s.frames, "failures": s.failures, "accuracy": s.accuracy,
                                      "scored_frames": s.scored_frames} for s in scores},
    }


__all__ = ["FAILURE", "INITIALIZATION", "SKIPPED", "SupervisedRun", "VOT_STACK_INTERVALS", "VOTSequenceScore", "accuracy",
           "count_failures", "EAO_LENGTHS", "eao_curve", "eao_interval", "eao_score", "eao_segments", "ground_truth_regions",
           "raster_overlap", "read_trajectory", "region_overlap", "resolve_eao_interval", "run_overlaps",
           "run_supervised", "score_vot_run", "summarize_vot", "write_trajectory"]


# ---------------------------------------------------------------------------------------------- many runs
@dataclass
class VOTReport:
    """Per tracker, :func:`summarize_vot` of its runs; ``failed``: (tracker, sequence) -> why a run failed or was
    not scored; ``recomputed``: (tracker, sequence) -> why a stored trajectory was run again."""

    dataset: str
    summaries: dict
    failed: dict = field(default_factory=dict)
    recomputed: dict = field(default_factory=dict)  # (tracker, sequence) -> why the stored trajectory was not reused

    def table(self) -> str:
        """Trackers ranked by EAO (NaN, where no segment reaches the interval, last), with the toolkit's accuracy
        and robustness (both length-weighted means over sequences), the total failures and failures per 100 frames."""
        rows = sorted(self.summaries.items(), key=lambda kv: -kv[1]["eao"] if math.isfinite(kv[1]["eao"]) else math.inf)
        first = next(iter(self.summaries.values()), {"eao_interval": (0, 0), "eao_interval_source": "none"})
        low, high = first["eao_interval"]
        lines = [f"VOT supervised protocol on {self.dataset}: EAO over lengths {low}-{high}, "
                 f"{first['eao_interval_source']}",
                 f"{'rank':>4}  {'tracker':<16}{'EAO':>7}{'accuracy':>10}{'robustness':>12}{'failures':>10}"
                 f"{'per 100 fr':>12}"]
        for rank, (label, s) in enumerate(rows, 1):
            lines.append(f"{rank:>4}  {label:<16}{s['eao']:>7.3f}{s['accuracy']:>10.3f}{s['robustness']:>12.2f}"
                         f"{s['failures']:>10d}{s['failure_rate']:>12.2f}")
        if any(not math.isfinite(s["eao"]) for _, s in rows):
            lines.append(f"EAO nan: no segment reaches length {low}, where the interval starts (the curve ends with "
                         "the longest segment, and a segment ends at a failure or at its sequence's end)")
        return "\n".join(lines)

    def to_dict(self) -> dict:
        """The summaries as JSON can hold them: an EAO of NaN becomes None."""
        trackers = {label: {k: None if isinstance(v, float) and not math.isfinite(v) else v for k, v in s.items()}
                    for label, s in self.summaries.items()}
        return {"protocol": "vot-supervised", "dataset": self.dataset, "trackers": trackers,
                "failed": {f"{t} on {s}": why for (t, s), why in self.failed.items()}}


def _vot_settings(spec, sequence, skip: int, failure_overlap: float) -> dict:
    from .results import run_settings

    return {**run_settings(spec, sequence, 0), "protocol": "vot-supervised", "skip": int(skip),
            "failure_overlap": float(failure_overlap)}


def run_vot_job(cls: type, spec, seq, device, skip: int, failure_overlap: float, settings: dict) -> SupervisedRun:
    """One VOT job: ``cls`` with ``spec``'s parameters (seed 0) over ``seq`` with resets (:func:`run_supervised`),
    wherever the job runs; the caller writes the trajectory."""
    from .runner import cached_sequence, check_job_code

    check_job_code(cls, settings)
    seq = cached_sequence(seq, settings)
    return run_supervised(cls(device=device, seed=0, **spec.params), seq, skip=skip, failure_overlap=failure_overlap)


def run_vot(trackers, dataset, results_dir, *, device="auto", skip: int = 5, failure_overlap: float = 0.0,
            burnin: int = 10, interval=None, eao_length: str = "longest-segment", progress: bool = True,
            job_timeout: float | None = None, workers: int | None = None, scheduler=None,
            threads_per_worker: int | None = None, executor=None) -> VOTReport:
    """Every tracker over every sequence with VOT's resets, resumable: a trajectory already in ``results_dir``
    (the toolkit's layout, :func:`trajectory_path`) made with the same settings and code is reused, as
    :func:`~deeptrack_lite.evaluation.run_ope` reuses its results. A run that raises is recorded in
    ``report.failed`` and the others go on; a stored trajectory made otherwise, or damaged, runs again and is listed
    in ``report.recomputed`` with the reason. Each (tracker, sequence) run is a job, run where ``run_ope`` runs its
    jobs (``job_timeout``, ``workers``, ``scheduler``, ``threads_per_worker``, ``executor``: see there).
    ``burnin``, ``interval`` and ``eao_length`` go to :func:`evaluate_vot`."""
    from ..errors import TrackerError
    from ..jobs import Job
    from ..trackers import tracker_class
    from .results import stored_trajectory_problem, write_trajectory_result
    from .runner import Progress, job_options, run_and_store
    from .specs import tracker_specs

    specs = tracker_specs(trackers)
    progress_bar = Progress(len(specs) * len(dataset), "VOT", progress)
    failed, recomputed, jobs = {}, {}, []
    for seq in dataset:  # sequence by sequence, so that a sequence's frames are decoded once for all trackers
        for spec in specs:
            path = trajectory_path(results_dir, spec.label, seq.name)
            settings = _vot_settings(spec, seq, skip, failure_overlap)
            stale = stored_trajectory_problem(path, seq, settings)
            if stale is None:
                progress_bar.done(spec.label, seq.name)
                continue
            if path.is_file():
                recomputed[(spec.label, seq.name)] = stale
                progress_bar.say(f"{spec.label} on {seq.name}: the stored trajectory is not reused ({stale}); "
                                 "running it again")
            try:
                cls = tracker_class(spec.name)
            except TrackerError as exc:
                failed[(spec.label, seq.name)] = str(exc)
                progress_bar.done(spec.label, seq.name)
                continue
            jobs.append(Job((spec.label, seq.name), run_vot_job, (cls, spec, seq, device, skip, failure_overlap, settings)))

    def store(outcome) -> None:
        label, name = outcome.job.key
        write_trajectory_result(trajectory_path(results_dir, label, name), outcome.value, outcome.job.args[-1])

    def fail(outcome) -> None:
        failed[outcome.job.key] = outcome.error

    run_and_store(jobs, progress_bar, store, fail, executor=executor,
                  **job_options(workers=workers, scheduler=scheduler, job_timeout=job_timeout,
                                threads_per_worker=threads_per_worker))
    report = evaluate_vot(results_dir, dataset, trackers=[s.label for s in specs], burnin=burnin, interval=interval,
                          eao_length=eao_length)
    report.failed.update(failed)
    report.recomputed.update(recomputed)
    return report


def evaluate_vot(results_dir, dataset, *, trackers=None, burnin: int = 10, interval=None,
                 eao_length: str = "longest-segment") -> VOTReport:
    """Score the trajectories in ``results_dir`` (written by :func:`run_vot` or by the VOT toolkit) on
    ``dataset``; ``trackers``: folder names (default: every folder with a ``baseline`` inside); ``interval``: the
    EAO interval (:func:`resolve_eao_interval`; by default the stack's for a VOT20xx folder, else estimated);
    ``eao_length``: how far the EAO curve runs (:func:`summarize_vot`)."""
    from .results import vot_tracker_folders

    results_dir = Path(results_dir)
    if not results_dir.is_dir():
        raise DataError(f"no results folder at {results_dir}")
    labels = trackers or vot_tracker_folders(results_dir)
    if not labels:
        raise DataError(f"{results_dir} holds no VOT results: the toolkit's layout is "
                        "<tracker>/baseline/<sequence>/<sequence>_001.txt (an OTB-layout folder is scored with "
                        "--protocol ope)")
    low, high, source = resolve_eao_interval(interval, [len(s) for s in dataset], dataset.name)  # one for all trackers
    summaries, failed = {}, {}
    for label in labels:
        scores = []
        for seq in dataset:
            path = trajectory_path(results_dir, label, seq.name)
            if not path.is_file():
                failed[(label, seq.name)] = "no trajectory"
                continue
            try:
                scores.append(score_vot_run(read_trajectory(path), seq, burnin=burnin))
            except DataError as exc:  # one damaged file: that run is failed, the others are still scored
                failed[(label, seq.name)] = f"not scored: {exc}"
        if scores:
            summaries[label] = {**summarize_vot(scores, interval=(low, high), eao_length=eao_length),
                                "eao_interval_source": source}
    return VOTReport(dataset.name, summaries, failed)


__all__ += ["VOTReport", "evaluate_vot", "run_vot", "run_vot_job"]
