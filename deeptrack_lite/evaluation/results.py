"""The results folder: the one module that builds a results path, writes and reads stored results, lists the
trackers a folder holds, and says whether a stored result can be reused. Every runner and reader goes through it
(``tests/test_layers.py`` fails on a module that builds such a path by hand).

OPE (:func:`~deeptrack_lite.evaluation.run_ope`), as got10k writes it (pytracking's ``<seq>_time.txt`` beside
the boxes is read too)::

    <results_dir>/<tracker>/<sequence>.txt               one "x,y,w,h" line per frame
    <results_dir>/<tracker>/times/<sequence>_time.txt    seconds per frame (frame 0: init)
    <results_dir>/<tracker>/scores/<sequence>_score.txt  the presence score per frame (``last_info["score"]``;
                                                         "nan" on frame 0 and where the tracker has none)
    <results_dir>/<tracker>/info/<sequence>.json         device, parameters, seed, package version, code

With several seeds each seed has its own such folder: ``<results_dir>/<tracker>/seed<k>/...`` (:func:`run_dir`).

VOT (:func:`~deeptrack_lite.evaluation.run_vot`), the VOT toolkit's layout::

    <results_dir>/<tracker>/baseline/<sequence>/<sequence>_001.txt        the trajectory (codes and regions)
    <results_dir>/<tracker>/baseline/<sequence>/<sequence>_001_time.txt   seconds per frame
    <results_dir>/<tracker>/baseline/<sequence>/<sequence>_001_info.json  how it was made (ours only)

Every file is written to a temporary name and renamed, boxes last, so an interrupted run leaves either a
complete result or none, and the next run resumes where it stopped. A stored result is reused only when the
settings it records (:func:`run_settings`) are those of the run asked for.
"""
from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np

from ..data.readers import read_boxes
from ..errors import AnnotationError, DataError, DeepTrackError, TrackerError
from ..fingerprint import code_fingerprint
from ..outputs import write_text
from ..trackers import tracker_class
from ..version import __version__
from .specs import TrackerSpec


# ---------------------------------------------------------------------------------------------- OPE paths
def run_dir(results_dir, label: str, seed=None) -> Path:
    """The folder of one tracker's results (one seed's, with several seeds)."""
    base = Path(results_dir) / label
    return base if seed is None else base / f"seed{seed}"


def result_path(run_dir, sequence_name: str) -> Path:
    """The boxes file of one sequence: its presence means a complete result (written last)."""
    return Path(run_dir) / f"{sequence_name}.txt"


def has_result(run_dir, sequence_name: str) -> bool:
    return result_path(run_dir, sequence_name).is_file()


def times_path(run_dir, sequence_name: str) -> Path:
    return Path(run_dir) / "times" / f"{sequence_name}_time.txt"


def scores_path(run_dir, sequence_name: str) -> Path:
    return Path(run_dir) / "scores" / f"{sequence_name}_score.txt"


def info_path(run_dir, sequence_name: str) -> Path:
    return Path(run_dir) / "info" / f"{sequence_name}.json"


def tracker_folders(results_dir) -> list[str]:
    """The tracker labels an OPE results folder holds: its sub-folders, hidden ones left out."""
    return sorted(p.name for p in Path(results_dir).iterdir() if p.is_dir() and not p.name.startswith("."))


# ---------------------------------------------------------------------------------------------- VOT paths
def trajectory_path(results_dir, label: str, sequence_name: str, repetition: int = 1) -> Path:
    """Where the VOT toolkit keeps a supervised run: ``<label>/baseline/<seq>/<seq>_001.txt``."""
    return Path(results_dir) / label / "baseline" / sequence_name / f"{sequence_name}_{repetition:03d}.txt"


def trajectory_times_path(trajectory) -> Path:
    path = Path(trajectory)
    return path.with_name(path.stem + "_time.txt")


def trajectory_info_path(trajectory) -> Path:
    path = Path(trajectory)
    return path.with_name(path.stem + "_info.json")


def vot_tracker_folders(results_dir) -> list[str]:
    """The tracker labels a VOT results folder holds: the folders with a ``baseline`` inside."""
    return sorted(p.parent.name for p in Path(results_dir).glob("*/baseline") if p.is_dir())


# ---------------------------------------------------------------------------------------------- OPE files
def write_result(run_dir, sequence_name: str, boxes, times=None, info: dict | None = None, scores=None) -> Path:
    """Write one tracker's result on one sequence (times, scores and info first, boxes last, each atomically).
    ``scores`` are written only when some frame has one; otherwise a scores file left by an earlier run of the
    label is removed."""
    run_dir = Path(run_dir)
    score_path = scores_path(run_dir, sequence_name)
    if scores is not None and np.isfinite(np.asarray(scores, dtype=np.float64)).any():
        write_text(score_path, "".join(f"{v:.6g}\n" for v in scores))
    elif score_path.is_file():  # another tracker's scores, from a run this one replaces, must not pass for its own
        score_path.unlink()
    if times is not None:
        write_text(times_path(run_dir, sequence_name), "".join(f"{t:.8f}\n" for t in times))
    if info is not None:
        write_text(info_path(run_dir, sequence_name), json.dumps(info, indent=1, default=str))
    lines = "".join(",".join(f"{v:.3f}" for v in b) + "\n" for b in np.asarray(boxes, dtype=np.float64))
    path = result_path(run_dir, sequence_name)
    write_text(path, lines)
    return path


def check_result_boxes(path, boxes, *, ours: bool) -> None:
    """A stored result's boxes as a tracker can have written them, else an :class:`AnnotationError` naming the
    line: no negative size, no infinite value, no line only partly NaN. A line of NaN or of zeros (a lost target, as
    some toolkits write it) is allowed in another toolkit's results but never in ours (``ours``: the result has
    this package's info file), whose trackers always give a finite box of positive size."""
    boxes = np.asarray(boxes, dtype=np.float64)
    nan = np.isnan(boxes)
    lost = nan.all(axis=1) | (boxes == 0).all(axis=1)
    bad = (nan.any(axis=1) & ~nan.all(axis=1)) | np.isinf(boxes).any(axis=1) | (boxes[:, 2:] < 0).any(axis=1)
    if ours:
        bad |= lost | (boxes[:, 2:] <= 0).any(axis=1)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise AnnotationError(f"{path}, line {i + 1}: {', '.join(f'{v:g}' for v in boxes[i])} is not a box a tracker "
                              "gives (a NaN or infinite value, or a size that is not positive): a damaged result")


def read_result(run_dir, sequence) -> dict:
    """Boxes (and times and info when present) of one stored result; :class:`AnnotationError` if the
    file's frame count differs from the sequence's, if a box is damaged (:func:`check_result_boxes`), or if a
    times, info or scores file beside it does not read."""
    run_dir = Path(run_dir)
    path = result_path(run_dir, sequence.name)
    if not path.is_file():
        raise DataError(f"no result for {sequence.name!r} in {run_dir}")
    boxes = read_boxes(path, raw=True)
    if len(boxes) != len(sequence):
        raise AnnotationError(f"{path}: {len(boxes)} boxes for the {len(sequence)} frames of {sequence.name!r}")
    info_file = info_path(run_dir, sequence.name)
    info = {}
    if info_file.exists():
        try:
            info = json.loads(info_file.read_bytes().decode("utf-8"))
        except (OSError, ValueError) as exc:  # a folder, unreadable, not UTF-8, not JSON
            raise AnnotationError(f"{info_file}: not a JSON info file ({exc})") from None
        if not isinstance(info, dict):
            raise AnnotationError(f"{info_file}: not an info record (a JSON object of how the result was made)")
    check_result_boxes(path, boxes, ours="tracker" in info)
    times = None
    for candidate in (times_path(run_dir, sequence.name), run_dir / f"{sequence.name}_time.txt"):  # ours, pytracking's
        if candidate.is_file():
            try:
                values = np.array([float(v) for v in candidate.read_text().split()], dtype=np.float64)
            except (ValueError, UnicodeDecodeError) as exc:
                raise AnnotationError(f"{candidate}: the per-frame times must be numbers, one per line ({exc})") from None
            if len(values) == len(sequence):
                times = values
            break
    return {"boxes": boxes, "times": times, "info": info, "scores": read_scores(run_dir, sequence)}


def read_scores(run_dir, sequence) -> np.ndarray | None:
    """The per-frame presence scores stored beside a result (None when the tracker left none)."""
    path = scores_path(run_dir, sequence.name)
    if not path.is_file():
        return None
    try:
        values = np.array([float(v) for v in path.read_text().split()], dtype=np.float64)
    except (ValueError, UnicodeDecodeError) as exc:
        raise AnnotationError(f"{path}: the presence scores must be numbers, one per line ({exc})") from None
    if len(values) != len(sequence):
        raise AnnotationError(f"{path}: {len(values)} scores for the {len(sequence)} frames of {sequence.name!r}")
    return values


# ---------------------------------------------------------------------------------------------- reuse
def _json_ready(value):
    """Parameters as they read back from JSON (tuples become lists), so a stored run compares equal."""
    return json.loads(json.dumps(value, default=str))


def run_settings(spec: TrackerSpec, sequence, seed) -> dict:
    """What a stored result must have been run with to be reused: tracker, parameters, seed, the frames
    (their count and a fingerprint of their ground truth, so a shorter or other range never passes for this
    one), the package version and the tracker's code (:func:`~deeptrack_lite.fingerprint.code_fingerprint`
    of its module: an edited tracker, or an edited function it uses, runs again). Stored in
    ``info/<sequence>.json``."""
    gt = np.nan_to_num(np.asarray(sequence.ground_truth, dtype=np.float64), nan=-1.0)
    try:
        code = code_fingerprint(tracker_class(spec.name).__module__)
    except TrackerError:
        code = None
    return {"tracker": spec.name, "params": _json_ready(spec.params), "seed": 0 if seed is None else int(seed),
            "frames": len(sequence), "ground_truth_sha1": hashlib.sha1(np.round(gt, 3).tobytes()).hexdigest(),
            "deeptrack_lite": __version__, "code": code}


def stale_reason(run_dir, sequence, settings: dict) -> str | None:
    """Why the result stored in ``run_dir`` for ``sequence`` cannot be reused for ``settings`` (None: it can).
    A missing result is not stale: it is simply run."""
    if not has_result(run_dir, sequence.name):
        return None
    try:
        info = read_result(run_dir, sequence)["info"]
    except DeepTrackError as exc:
        return f"it is damaged or incomplete ({exc})"
    if not info:
        return "it has no info file saying how it was made"
    return settings_mismatch(info, settings)


def settings_mismatch(info: dict, settings: dict) -> str | None:
    """The first of ``settings`` (from :func:`run_settings`) that a result's ``info`` differs in, as a reason."""
    for key, want in settings.items():
        have = info.get(key)
        if have != want:
            return f"it was made with {key} = {have!r}, not {want!r}"
    return None

def stored_trajectory_problem(path, sequence, settings: dict) -> str | None:
    """Why a stored VOT trajectory cannot be reused for ``settings`` (None: it can): missing, made otherwise, or
    damaged (it must read and fit ``sequence`` as :func:`~deeptrack_lite.evaluation.evaluate_vot` will score it)."""
    from .vot import read_trajectory  # the trajectory format; the layout is here

    path = Path(path)
    if not path.is_file():
        return "no trajectory"
    info_file = trajectory_info_path(path)
    try:
        info = json.loads(read_text(info_file, "the settings of a VOT trajectory"))
        if not isinstance(info, dict):
            return f"{info_file} is not a settings record"
        mismatch = settings_mismatch(info, settings)
        if mismatch is not None:
            return mismatch
        run = read_trajectory(path)
        if len(run.codes) != len(sequence):
            return f"it has {len(run.codes)} frames, the sequence {len(sequence)}"
    except (ValueError, DataError) as exc:
        return f"it is damaged ({exc})"
    return None


def write_trajectory_result(path, run, settings: dict) -> Path:
    """Store a VOT run: its settings record first, then the trajectory (:func:`~deeptrack_lite.evaluation.vot.
    write_trajectory`, times, then codes and regions)."""
    from .vot import write_trajectory

    write_text(trajectory_info_path(path), json.dumps(settings, indent=1) + "\n")
    return write_trajectory(path, run)


def read_text(path: Path, what: str) -> str:
    """A results file's text, or one :class:`DataError` saying what it should have been."""
    try:
        return path.read_bytes().decode("utf-8")
    except UnicodeDecodeError:
        raise DataError(f"{path}: not a text file, so not {what}") from None
    except OSError as exc:
        raise DataError(f"cannot read {what} {path}: {exc}") from None


__all__ = ["check_result_boxes", "has_result", "info_path", "read_result", "read_scores", "read_text", "result_path", "run_dir",
           "run_settings", "scores_path", "settings_mismatch", "stale_reason", "stored_trajectory_problem",
           "times_path", "tracker_folders", "trajectory_info_path", "trajectory_path", "trajectory_times_path",
           "vot_tracker_folders", "write_result", "write_trajectory_result"]
