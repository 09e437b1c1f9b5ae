"""One-pass evaluation (OPE): run trackers over a dataset, store results in the OTB/got10k text layout, and
score any results folder, including ones written by other toolkits.

Results layout (as got10k writes it; pytracking's ``<seq>_time.txt`` beside the boxes is read too)::

    <results_dir>/<tracker>/<sequence>.txt               one "x,y,w,h" line per frame
    <results_dir>/<tracker>/times/<sequence>_time.txt    seconds per frame (frame 0: init)
    <results_dir>/<tracker>/scores/<sequence>_score.txt  the presence score per frame (``last_info["score"]``;
                                                         "nan" on frame 0 and where the tracker has none)
    <results_dir>/<tracker>/info/<sequence>.json         device, parameters, seed, package version, code

With several seeds each seed has its own such folder: ``<results_dir>/<tracker>/seed<k>/...``.
Every file is written to a temporary name and renamed, boxes last, so an interrupted run leaves either a
complete result or none, and the next run resumes where it stopped.
"""
from __future__ import annotations

import ast
import hashlib
import json
import sys
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..version import __version__
from ..data.readers import read_boxes
from ..data.sequence import Dataset
from ..errors import AnnotationError, DataError, DeepTrackError, TrackerError
from ..fileio import make_folder
from ..outputs import write_text
from ..fingerprint import code_fingerprint
from ..trackers import create_tracker, track, tracker_class
from ..trackers.parameters import check_seed
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
    ``"dlt,dlt-random=dlt:pretrained=false"``), a list of such items (``["kcf", "dlt:n_particles=300"]``), or
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
            specs.append(t if isinstance(t, TrackerSpec) else parse_tracker_spec(str(t)))
    for s in specs:
        if "seed" in s.params:
            raise TrackerError(f"tracker {s.label!r}: the seed is not a setting; give the runs' seeds as seeds=[...] "
                               "(command line: --seeds 0,1,2)")
    labels = [s.label for s in specs]
    if len(set(labels)) != len(labels):
        raise TrackerError(f"tracker labels must be unique, got {labels}")
    if not specs:
        raise TrackerError("no trackers given")
    return specs


def _run_dir(results_dir, label: str, seed) -> Path:
    base = Path(results_dir) / label
    return base if seed is None else base / f"seed{seed}"


def write_result(run_dir, sequence_name: str, boxes, times=None, info: dict | None = None, scores=None) -> Path:
    """Write one tracker's result on one sequence (times, scores and info first, boxes last, each atomically).
    ``scores`` are written only when some frame has one; otherwise a scores file left by an earlier run of the
    label is removed."""
    run_dir = Path(run_dir)
    score_path = run_dir / "scores" / f"{sequence_name}_score.txt"
    if scores is not None and np.isfinite(np.asarray(scores, dtype=np.float64)).any():
        write_text(score_path, "".join(f"{v:.6g}\n" for v in scores))
    elif score_path.is_file():  # another tracker's scores, from a run this one replaces, must not pass for its own
        score_path.unlink()
    if times is not None:
        write_text(run_dir / "times" / f"{sequence_name}_time.txt", "".join(f"{t:.8f}\n" for t in times))
    if info is not None:
        write_text(run_dir / "info" / f"{sequence_name}.json", json.dumps(info, indent=1, default=str))
    lines = "".join(",".join(f"{v:.3f}" for v in b) + "\n" for b in np.asarray(boxes, dtype=np.float64))
    path = run_dir / f"{sequence_name}.txt"
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
    path = run_dir / f"{sequence.name}.txt"
    if not path.is_file():
        raise DataError(f"no result for {sequence.name!r} in {run_dir}")
    boxes = read_boxes(path, raw=True)
    if len(boxes) != len(sequence):
        raise AnnotationError(f"{path}: {len(boxes)} boxes for the {len(sequence)} frames of {sequence.name!r}")
    info_path = run_dir / "info" / f"{sequence.name}.json"
    info = {}
    if info_path.exists():
        try:
            info = json.loads(info_path.read_bytes().decode("utf-8"))
        except (OSError, ValueError) as exc:  # a folder, unreadable, not UTF-8, not JSON
            raise AnnotationError(f"{info_path}: not a JSON info file ({exc})") from None
        if not isinstance(info, dict):
            raise AnnotationError(f"{info_path}: not an info record (a JSON object of how the result was made)")
    check_result_boxes(path, boxes, ours="tracker" in info)
    times = None
    for candidate in (run_dir / "times" / f"{sequence.name}_time.txt", run_dir / f"{sequence.name}_time.txt"):
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
    path = Path(run_dir) / "scores" / f"{sequence.name}_score.txt"
    if not path.is_file():
        return None
    try:
        values = np.array([float(v) for v in path.read_text().split()], dtype=np.float64)
    except (ValueError, UnicodeDecodeError) as exc:
        raise AnnotationError(f"{path}: the presence scores must be numbers, one per line ({exc})") from None
    if len(values) != len(sequence):
        raise AnnotationError(f"{path}: {len(values)} scores for the {len(sequence)} frames of {sequence.name!r}")
    return values


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
    repeatable: bool = True


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
        repeatable=bool(result["info"].get("repeatable", True)),
    )


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
    path = Path(run_dir) / f"{sequence.name}.txt"
    if not path.is_file():
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


_CACHED_SEQUENCE: dict = {}  # the last sequence's decoded frames, kept for the next tracker on it


def cached_sequence(sequence, settings: dict) -> object:
    """``sequence`` with its frames kept in memory (:meth:`Sequence.cached`) for as long as jobs ask for the same
    frames (its name and path, and the frame count and ground truth of a job's ``settings``, :func:`run_settings`):
    trackers that run one after the other on one sequence decode or render its frames once. One sequence is kept
    at a time; :func:`release_cached_sequence` lets it go."""
    key = (sequence.name, str(sequence.path), settings["frames"], settings["ground_truth_sha1"])
    if key not in _CACHED_SEQUENCE:
        _CACHED_SEQUENCE.clear()
        _CACHED_SEQUENCE[key] = sequence.cached()
    return _CACHED_SEQUENCE[key]


def release_cached_sequence() -> None:
    _CACHED_SEQUENCE.clear()


def check_job_code(cls: type, settings: dict) -> None:
    """A job must run the code its result will be labelled with: the package version and the tracker's code
    fingerprint where it runs must be those in ``settings`` (computed where the benchmark was started). A Dask
    worker with another checkout or version of the package would otherwise store its results as this code's."""
    here = {"deeptrack_lite": __version__, "code": code_fingerprint(cls.__module__) if settings.get("code") else None}
    for key, value in here.items():
        if settings.get(key) != value:
            raise TrackerError(f"this process has {key} {value!r} for {settings['tracker']!r}, but the benchmark was "
                               f"started with {settings.get(key)!r}: install the same deeptrack_lite where the jobs run")


def run_jobs(jobs, executor=None, **options):
    """The outcomes of ``jobs`` as they finish, on ``executor`` (left open) or, when there is a job to run, on one
    made from ``options`` (:func:`deeptrack_lite.jobs.make_executor`) and closed at the end; the sequence cache is
    released at the end too. Close the generator (``contextlib.closing``) so that happens on an interruption."""
    from ..jobs import make_executor

    own = executor is None and bool(jobs)  # no cluster is started when every result is there already
    if own:
        executor = make_executor(**options)
    try:
        yield from (executor.run(jobs) if jobs else ())
    finally:
        if own:
            executor.close()
        release_cached_sequence()


def run_tracker_job(cls: type, spec: TrackerSpec, seq, device, settings: dict) -> dict:
    """One OPE job: ``cls`` with ``spec``'s parameters and the seed in ``settings`` over ``seq``, from its first
    frame. Returns what :func:`write_result` stores: boxes, times, presence scores and the info record (the
    settings, the device, FPS, init time, whether the tracker is repeatable, the torch threads it had). Runs
    wherever the job goes (this process, a runner process, a Dask worker); the caller writes the files."""
    import torch

    check_job_code(cls, settings)
    seq = cached_sequence(seq, settings)
    tracker = cls(device=device, seed=settings["seed"], **spec.params)
    run = track(tracker, seq, progress=False)
    info = dict(settings, device=run.device, fps=run.fps, init_time=float(run.times[0]),
                repeatable=type(tracker).repeatable, torch_threads=torch.get_num_threads())
    return {"boxes": run.boxes, "times": run.times, "scores": run.scores, "info": info}


def _copy_for_seed(results_dir, spec: TrackerSpec, seq, first, seed) -> None:
    """A deterministic tracker's result for its first seed, stored again for ``seed`` (seeds cannot change it)."""
    stored = read_result(_run_dir(results_dir, spec.label, first), seq)
    write_result(_run_dir(results_dir, spec.label, seed), seq.name, stored["boxes"], stored["times"],
                 dict(stored["info"], reused_for_seed=seed), scores=stored["scores"])


def run_ope(trackers, dataset: Dataset, results_dir, *, seeds=None, device="auto", progress: bool = True,
            overwrite: bool = False, job_timeout: float | None = None, workers: int | None = None,
            scheduler=None, threads_per_worker: int | None = None, executor=None):
    """Run every tracker on every sequence (and seed), one pass from the first frame, then score.

    - ``trackers``: see :func:`tracker_specs`. ``seeds``: seeds for stochastic trackers; each run is
      ``create_tracker(name, seed=s)`` (without seeds, seed 0, and results go straight under ``<tracker>/``).
      A tracker whose class is ``deterministic`` runs once, and its result stands for every seed.
    - Results already on disk are reused only when their ``info`` file says they were made with the same
      tracker, parameters, seed, frames, package version and tracker code (:func:`run_settings`); otherwise they are run
      again, and the report lists them in ``recomputed`` with the reason. ``overwrite=True`` runs everything.
    - Each (tracker, sequence, seed) run is an independent job (:func:`run_tracker_job`), and each finished job's
      result is written at once, atomically; so where the jobs run changes nothing in the files but the times, at
      the same number of threads per run (at another, trackers whose numbers go through multi-threaded sums may
      give other boxes, as in a serial run with other threads; the info file records ``torch_threads``):
      - by default one after the other in this process;
      - ``job_timeout`` (seconds): in a child process that is stopped when a run takes longer, so a tracker that
        hangs is recorded as failed and the others go on. A child loads its tracker's weights anew, which adds to
        the first frame's time (and so to the FPS figure);
      - ``workers=N``: on a Dask ``LocalCluster`` of N worker processes, each with ``threads_per_worker`` torch
        threads (default: the CPU budget divided among them, :func:`~deeptrack_lite.cpus.cpu_budget`) and each run stopped after ``job_timeout`` (default
        four hours);
      - ``scheduler``: on a running Dask cluster, its address (``"tcp://host:8786"``) or a ``distributed.Client``;
        the workers must reach the dataset at the same path (synthetic sequences are rendered where they run);
      - ``executor``: any :mod:`deeptrack_lite.jobs` executor, kept open for the caller.
    - A tracker that fails on a sequence does not stop the benchmark: the failure is recorded in
      ``report.failures`` and that sequence is left without a result.

    Returns an :class:`~deeptrack_lite.evaluation.report.OPEReport`.
    """
    from ..jobs import Job

    specs = tracker_specs(trackers)
    make_folder(results_dir)
    seed_list = [check_seed(s, "seeds: each seed") for s in seeds] if seeds is not None else [None]
    bar = None
    if progress:
        from tqdm.auto import tqdm
        bar = tqdm(total=len(specs) * len(seed_list) * len(dataset), desc="OPE", unit="run")
    say = bar.write if bar is not None else (lambda text: print(text, file=sys.stderr))

    def done(label: str, name: str) -> None:
        if bar is not None:
            bar.set_postfix_str(f"{label} on {name}")
            bar.update(1)

    failures, recomputed = {}, {}
    skipped = 0
    jobs, copies = [], {}  # copies: (label, sequence) -> the seeds that take the first seed's result once it exists
    # sequence by sequence, so each sequence's frames are decoded (or rendered) once for all trackers
    for seq in dataset:
        for spec in specs:
            try:
                cls = tracker_class(spec.name)
            except TrackerError as exc:
                for seed in seed_list:
                    failures[(spec.label, seq.name, seed)] = f"{type(exc).__name__}: {exc}"
                    done(spec.label, seq.name)
                continue
            first = seed_list[0]
            first_dir = _run_dir(results_dir, spec.label, first)
            first_planned = False
            for seed in seed_list:
                run_dir = _run_dir(results_dir, spec.label, seed)
                settings = run_settings(spec, seq, first if cls.deterministic else seed)
                # stale_reason checks a stored result's frame count and settings; None for a stored one means reusable
                stale = None if overwrite else stale_reason(run_dir, seq, settings)
                if stale is None and not overwrite and (run_dir / f"{seq.name}.txt").is_file():
                    skipped += 1
                    done(spec.label, seq.name)
                    continue
                if cls.deterministic and seed != first:
                    # seeds cannot change a deterministic run: the first seed's result stands for this one
                    if first_planned:
                        copies.setdefault((spec.label, seq.name), []).append(seed)
                        continue
                    if (first_dir / f"{seq.name}.txt").is_file() and stale_reason(first_dir, seq, settings) is None:
                        _copy_for_seed(results_dir, spec, seq, first, seed)
                        done(spec.label, seq.name)
                        continue
                if stale is not None:
                    recomputed[(spec.label, seq.name, seed)] = stale
                    say(f"{spec.label} on {seq.name}" + (f" (seed {seed})" if seed is not None else "")
                        + f": the stored result is not reused ({stale}); running it again")
                # the class itself goes with the job (a tracker registered by a user's module is found where it
                # runs too), and the sequence as it came (lazy frames)
                jobs.append(Job((spec.label, seq.name, seed), run_tracker_job, (cls, spec, seq, device, settings)))
                first_planned = first_planned or seed == first

    specs_by_label = {s.label: s for s in specs}
    sequences = {s.name: s for s in dataset}
    options = dict(workers=workers, scheduler=scheduler, job_timeout=job_timeout, threads_per_worker=threads_per_worker,
                   progress=progress, say=say)
    try:
        with closing(run_jobs(jobs, executor, **options)) as outcomes:
            for outcome in outcomes:
                label, name, seed = outcome.job.key
                waiting = copies.pop((label, name), []) if seed == seed_list[0] else []
                if outcome.ok:
                    result = outcome.value
                    write_result(_run_dir(results_dir, label, seed), name, result["boxes"], result["times"],
                                 result["info"], scores=result["scores"])
                    for other in waiting:
                        _copy_for_seed(results_dir, specs_by_label[label], sequences[name], seed, other)
                else:
                    failures[outcome.job.key] = outcome.error
                    for other in waiting:
                        failures[(label, name, other)] = f"its seed-{seed} run, which stands for every seed, failed"
                for _ in range(1 + len(waiting)):
                    done(label, name)
    finally:
        if bar is not None:
            bar.close()
    report = evaluate(results_dir, dataset, trackers=[s.label for s in specs], seeds=seeds)
    report.failures.update(failures)
    report.recomputed.update(recomputed)
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
    if not results_dir.is_dir():
        raise DataError(f"no results folder at {results_dir}")
    if trackers is None:
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
