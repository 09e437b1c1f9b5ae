"""One-pass evaluation (OPE): run trackers over a dataset, store results in the OTB/got10k text layout, and
score any results folder, including ones written by other toolkits.

Results layout (as got10k writes it; pytracking's ``<seq>_time.txt`` beside the boxes is read too)::

    <results_dir>/<tracker>/<sequence>.txt               one "x,y,w,h" line per frame
    <results_dir>/<tracker>/times/<sequence>_time.txt    seconds per frame (frame 0: init)
    <results_dir>/<tracker>/info/<sequence>.json         device, parameters, seed, package version

With several seeds each seed has its own such folder: ``<results_dir>/<tracker>/seed<k>/...``.
Every file is written to a temporary name and renamed, boxes last, so an interrupted run leaves either a
complete result or none, and the next run resumes where it stopped.
"""
from __future__ import annotations

import ast
import json
import traceback
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .. import __version__
from ..data.readers import read_boxes
from ..data.sequence import Dataset
from ..errors import AnnotationError, DataError, DeepTrackError, TrackerError
from ..fileio import atomic_write_text
from ..runtime import seed_everything
from ..trackers import create_tracker, track
from .metrics import center_error, normalized_precision_curve, overlap, precision_curve, success_curve


@dataclass(frozen=True)
class TrackerSpec:
    """A tracker to evaluate: its results label (folder name), registry name and parameters."""

    label: str
    name: str
    params: dict = field(default_factory=dict)


def _parse_value(text: str):
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError):
        lowered = text.strip().lower()
        return {"true": True, "false": False, "none": None}.get(lowered, text)


def parse_tracker_spec(text: str) -> TrackerSpec:
    """``"kcf"``, ``"name:key=value:key=value"`` or ``"label=name:key=value..."`` -> :class:`TrackerSpec`.

    Values are Python literals where they parse (``0.5``, ``300``), ``true``/``false``/``none`` in any
    case, and plain strings otherwise (no commas: they separate trackers). E.g. ``dlt-random=dlt:pretrained=false`` (the command line's
    way to run one tracker with two settings side by side)."""
    text = text.strip()
    head, *settings = text.split(":")
    label, _, name = head.partition("=") if "=" in head else (head, "", head)
    params = {}
    for item in settings:
        key, eq, value = item.partition("=")
        if not eq or not key.strip():
            raise TrackerError(f"tracker {text!r}: settings are key=value, separated by ':'")
        params[key.strip()] = _parse_value(value)
    if not label.strip() or not name.strip():
        raise TrackerError(f"tracker {text!r}: give a name, optionally label=name, then :key=value settings")
    return TrackerSpec(label.strip().lower(), name.strip().lower(), params)


def tracker_specs(trackers) -> list[TrackerSpec]:
    """Accept ``"kcf,csrt"`` (items as :func:`parse_tracker_spec` reads them, e.g.
    ``"dlt,dlt-random=dlt:pretrained=false"``), ``["kcf", "csrt"]``, or
    ``{label: name | (name, params) | {"name": ..., **params}}``."""
    if isinstance(trackers, str):
        trackers = [parse_tracker_spec(t) for t in trackers.split(",") if t.strip()]
    if isinstance(trackers, TrackerSpec):
        trackers = [trackers]
    specs = []
    if isinstance(trackers, dict):
        for label, spec in trackers.items():
            if isinstance(spec, str):
                specs.append(TrackerSpec(label, spec))
            elif isinstance(spec, tuple) and len(spec) == 2:
                specs.append(TrackerSpec(label, spec[0], dict(spec[1])))
            elif isinstance(spec, dict) and "name" in spec:
                params = {k: v for k, v in spec.items() if k != "name"}
                specs.append(TrackerSpec(label, spec["name"], params))
            else:
                raise TrackerError(f"tracker {label!r}: give a name, (name, params) or {{'name': ..., **params}}")
    else:
        for t in trackers:
            specs.append(t if isinstance(t, TrackerSpec) else TrackerSpec(str(t).lower(), str(t).lower()))
    labels = [s.label for s in specs]
    if len(set(labels)) != len(labels):
        raise TrackerError(f"tracker labels must be unique, got {labels}")
    if not specs:
        raise TrackerError("no trackers given")
    return specs


def _run_dir(results_dir, label: str, seed) -> Path:
    base = Path(results_dir) / label
    return base if seed is None else base / f"seed{seed}"


def write_result(run_dir, sequence_name: str, boxes, times=None, info: dict | None = None) -> Path:
    """Write one tracker's result on one sequence (times and info first, boxes last, each atomically)."""
    run_dir = Path(run_dir)
    if times is not None:
        atomic_write_text(run_dir / "times" / f"{sequence_name}_time.txt", "".join(f"{t:.8f}\n" for t in times))
    if info is not None:
        atomic_write_text(run_dir / "info" / f"{sequence_name}.json", json.dumps(info, indent=1, default=str))
    lines = "".join(",".join(f"{v:.3f}" for v in b) + "\n" for b in np.asarray(boxes, dtype=np.float64))
    path = run_dir / f"{sequence_name}.txt"
    atomic_write_text(path, lines)
    return path


def result_is_complete(run_dir, sequence) -> bool:
    path = Path(run_dir) / f"{sequence.name}.txt"
    if not path.is_file():
        return False
    try:
        return len(read_boxes(path, raw=True)) == len(sequence)
    except DeepTrackError:
        return False


def read_result(run_dir, sequence) -> dict:
    """Boxes (and times and info when present) of one stored result; :class:`AnnotationError` if the
    file's frame count differs from the sequence's."""
    run_dir = Path(run_dir)
    path = run_dir / f"{sequence.name}.txt"
    if not path.is_file():
        raise DataError(f"no result for {sequence.name!r} in {run_dir}")
    boxes = read_boxes(path, raw=True)
    if len(boxes) != len(sequence):
        raise AnnotationError(f"{path}: {len(boxes)} boxes for the {len(sequence)} frames of {sequence.name!r}")
    times = None
    for candidate in (run_dir / "times" / f"{sequence.name}_time.txt", run_dir / f"{sequence.name}_time.txt"):
        if candidate.is_file():
            values = np.array([float(v) for v in candidate.read_text().split()], dtype=np.float64)
            if len(values) == len(sequence):
                times = values
            break
    info_path = run_dir / "info" / f"{sequence.name}.json"
    info = json.loads(info_path.read_text()) if info_path.is_file() else {}
    return {"boxes": boxes, "times": times, "info": info}


@dataclass
class SequenceScore:
    """Per-sequence scores of one tracker (one seed)."""

    tracker: str
    sequence: str
    seed: int | None
    success: np.ndarray
    precision: np.ndarray
    normalized_precision: np.ndarray
    overlaps: np.ndarray
    center_errors: np.ndarray
    boxes: np.ndarray
    frames: int
    total_time: float | None
    init_time: float | None
    device: str


def score_result(label: str, sequence, result: dict, seed=None) -> SequenceScore:
    boxes, gt, times = result["boxes"], sequence.ground_truth, result["times"]
    return SequenceScore(
        tracker=label, sequence=sequence.name, seed=seed,
        success=success_curve(boxes, gt), precision=precision_curve(boxes, gt),
        normalized_precision=normalized_precision_curve(boxes, gt),
        overlaps=overlap(boxes, gt), center_errors=center_error(boxes, gt), boxes=boxes, frames=len(boxes),
        total_time=float(np.sum(times)) if times is not None else None,
        init_time=float(times[0]) if times is not None else None,
        device=str(result["info"].get("device", "unknown")),
    )


def run_ope(trackers, dataset: Dataset, results_dir, *, seeds=None, device="auto", progress: bool = True,
            overwrite: bool = False):
    """Run every tracker on every sequence (and seed), one pass from the first frame, then score.

    - ``trackers``: see :func:`tracker_specs`; ``seeds``: a list of seeds for stochastic trackers (each
      run is seeded with :func:`~deeptrack_lite.runtime.seed_everything`; without seeds, seed 0 is used
      and results go straight under ``<tracker>/``).
    - Results already complete on disk are skipped, so an interrupted benchmark resumes and loses
      nothing; ``overwrite=True`` runs everything again.
    - A tracker that fails on a sequence does not stop the benchmark: the failure is recorded in
      ``report.failures`` and that sequence is left without a result.

    Returns an :class:`~deeptrack_lite.evaluation.report.OPEReport`.
    """
    specs = tracker_specs(trackers)
    seed_list = list(seeds) if seeds is not None else [None]
    bar = None
    if progress:
        from tqdm.auto import tqdm
        bar = tqdm(total=len(specs) * len(seed_list) * len(dataset), desc="OPE", unit="run")
    failures = {}
    skipped = 0
    # sequence by sequence, so each sequence's frames are decoded (or rendered) once for all trackers
    jobs = ((spec, seed, seq) for seq in dataset for spec in specs for seed in seed_list)
    cached = {}
    for spec, seed, seq in jobs:
        if seq.name not in cached:
            cached.clear()
            cached[seq.name] = seq.cached()
        seq = cached[seq.name]
        run_dir = _run_dir(results_dir, spec.label, seed)
        if bar is not None:
            bar.set_postfix_str(f"{spec.label} on {seq.name}")
        if not overwrite and result_is_complete(run_dir, seq):
            skipped += 1
        else:
            seed_everything(0 if seed is None else seed)
            try:
                tracker = create_tracker(spec.name, device=device, **spec.params)
                run = track(tracker, seq, progress=False)
            except Exception as exc:  # one broken run must not cost the others
                failures[(spec.label, seq.name, seed)] = "".join(traceback.format_exception_only(type(exc), exc)).strip()
            else:
                info = {"tracker": spec.name, "params": spec.params, "seed": seed, "device": run.device,
                        "frames": len(seq), "fps": run.fps, "init_time": float(run.times[0]),
                        "deeptrack_lite": __version__}
                write_result(run_dir, seq.name, run.boxes, run.times, info)
        if bar is not None:
            bar.update(1)
    if bar is not None:
        bar.close()
    report = evaluate(results_dir, dataset, trackers=[s.label for s in specs], seeds=seeds)
    report.failures.update(failures)
    report.skipped_runs = skipped
    return report


def evaluate(results_dir, dataset: Dataset, *, trackers=None, seeds=None):
    """Score the results stored under ``results_dir`` (ours or another toolkit's) against ``dataset``.

    ``trackers`` defaults to every sub-folder of ``results_dir``. Sequences without a result are listed
    in ``report.missing``; a tracker's dataset scores then cover only the sequences it has, and the
    ranked table marks it incomplete.
    """
    from .report import OPEReport

    results_dir = Path(results_dir)
    if trackers is None:
        if not results_dir.is_dir():
            raise DataError(f"no results folder at {results_dir}")
        trackers = sorted(p.name for p in results_dir.iterdir() if p.is_dir() and not p.name.startswith("."))
        if not trackers:
            raise DataError(f"{results_dir} holds no tracker folders")
    labels = [s.label for s in tracker_specs(trackers)] if not isinstance(trackers, list) else list(trackers)
    seed_list = list(seeds) if seeds is not None else [None]
    scores, missing = {}, []
    for label in labels:
        for seed in seed_list:
            run_dir = _run_dir(results_dir, label, seed)
            for seq in dataset:
                if not (run_dir / f"{seq.name}.txt").is_file():
                    missing.append((label, seq.name, seed))
                    continue
                scores[(label, seq.name, seed)] = score_result(label, seq, read_result(run_dir, seq), seed)
    return OPEReport(dataset=dataset, trackers=labels, seeds=seed_list, scores=scores, missing=missing)
