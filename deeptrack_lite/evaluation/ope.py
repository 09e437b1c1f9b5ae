"""One-pass evaluation (OPE): run trackers over a dataset from the first frame, store the results in the
OTB/got10k text layout (:mod:`.results` owns it), and score any results folder, including ones written by other
toolkits (:func:`evaluate_ope`)."""
from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np

from ..data.sequence import Dataset
from ..errors import DataError, TrackerError
from ..fileio import make_folder
from ..trackers import track, tracker_class
from ..trackers.parameters import check_seed
from .metrics import center_error, normalized_precision_curve, overlap, precision_curve, success_curve
from .results import (has_result, read_result, run_dir, run_settings, stale_reason, tracker_folders,
                      write_result)
from .runner import Progress, cached_sequence, check_job_code, job_options, run_and_store
from .specs import TrackerSpec, tracker_specs


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
    stored = read_result(run_dir(results_dir, spec.label, first), seq)
    write_result(run_dir(results_dir, spec.label, seed), seq.name, stored["boxes"], stored["times"],
                 dict(stored["info"], reused_for_seed=seed), scores=stored["scores"])


def run_ope(trackers, dataset: Dataset, results_dir, *, seeds=None, device="auto", progress: bool = True,
            overwrite: bool = False, job_timeout: float | None = None, workers: int | None = None,
            scheduler=None, threads_per_worker: int | None = None, executor=None):
    """Run every tracker on every sequence (and seed), one pass from the first frame, then score.

    - ``trackers``: see :func:`tracker_specs`. ``seeds``: seeds for stochastic trackers; each run is
      ``create_tracker(name, seed=s)`` (without seeds, seed 0, and results go straight under ``<tracker>/``).
      A tracker whose class is ``deterministic`` runs once, and its result stands for every seed.
    - Results already on disk are reused only when their ``info`` file says they were made with the same
      tracker, parameters, seed, frames, package version and tracker code (:func:`.results.run_settings`); otherwise they are run
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
    progress_bar = Progress(len(specs) * len(seed_list) * len(dataset), "OPE", progress)
    done = progress_bar.done
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
            first_dir = run_dir(results_dir, spec.label, first)
            first_planned = False
            for seed in seed_list:
                folder = run_dir(results_dir, spec.label, seed)
                settings = run_settings(spec, seq, first if cls.deterministic else seed)
                # stale_reason checks a stored result's frame count and settings; None for a stored one means reusable
                stale = None if overwrite else stale_reason(folder, seq, settings)
                if stale is None and not overwrite and has_result(folder, seq.name):
                    skipped += 1
                    done(spec.label, seq.name)
                    continue
                if cls.deterministic and seed != first:
                    # seeds cannot change a deterministic run: the first seed's result stands for this one
                    if first_planned:
                        copies.setdefault((spec.label, seq.name), []).append(seed)
                        continue
                    if has_result(first_dir, seq.name) and stale_reason(first_dir, seq, settings) is None:
                        _copy_for_seed(results_dir, spec, seq, first, seed)
                        done(spec.label, seq.name)
                        continue
                if stale is not None:
                    recomputed[(spec.label, seq.name, seed)] = stale
                    progress_bar.say(f"{spec.label} on {seq.name}" + (f" (seed {seed})" if seed is not None else "")
                                     + f": the stored result is not reused ({stale}); running it again")
                # the class itself goes with the job (a tracker registered by a user's module is found where it
                # runs too), and the sequence as it came (lazy frames)
                jobs.append(Job((spec.label, seq.name, seed), run_tracker_job, (cls, spec, seq, device, settings)))
                first_planned = first_planned or seed == first

    specs_by_label = {s.label: s for s in specs}
    sequences = {s.name: s for s in dataset}

    def waiting(label, name, seed) -> list:  # the seeds whose result this seed's run stands for
        return copies.pop((label, name), []) if seed == seed_list[0] else []

    def store(outcome) -> int:
        label, name, seed = outcome.job.key
        result = outcome.value
        write_result(run_dir(results_dir, label, seed), name, result["boxes"], result["times"], result["info"],
                     scores=result["scores"])
        others = waiting(label, name, seed)
        for other in others:
            _copy_for_seed(results_dir, specs_by_label[label], sequences[name], seed, other)
        return 1 + len(others)

    def fail(outcome) -> int:
        label, name, seed = outcome.job.key
        failures[outcome.job.key] = outcome.error
        others = waiting(label, name, seed)
        for other in others:
            failures[(label, name, other)] = f"its seed-{seed} run, which stands for every seed, failed"
        return 1 + len(others)

    run_and_store(jobs, progress_bar, store, fail, executor=executor,
                  **job_options(workers=workers, scheduler=scheduler, job_timeout=job_timeout,
                                threads_per_worker=threads_per_worker))
    report = evaluate_ope(results_dir, dataset, trackers=[s.label for s in specs], seeds=seeds)
    report.failures.update(failures)
    report.recomputed.update(recomputed)
    report.skipped_runs = skipped
    return report


def evaluate_ope(results_dir, dataset: Dataset, *, trackers=None, seeds=None):
    """Score the OPE results stored under ``results_dir`` (ours or another toolkit's) against ``dataset``.

    ``trackers`` defaults to every sub-folder of ``results_dir``. Sequences without a result are listed
    in ``report.missing``; a tracker's dataset scores then cover only the sequences it has, and the
    ranked table marks it incomplete.
    """
    from pathlib import Path

    from .report import OPEReport

    results_dir = Path(results_dir)
    if not results_dir.is_dir():
        raise DataError(f"no results folder at {results_dir}")
    if trackers is None:
        trackers = tracker_folders(results_dir)
        if not trackers:
            raise DataError(f"{results_dir} holds no tracker folders")
    labels = [s.label for s in tracker_specs(trackers)] if not isinstance(trackers, list) else list(trackers)
    seed_list = list(seeds) if seeds is not None else [None]
    scores, missing = {}, []
    for label in labels:
        for seed in seed_list:
            folder = run_dir(results_dir, label, seed)
            for seq in dataset:
                if not has_result(folder, seq.name):
                    missing.append((label, seq.name, seed))
                    continue
                scores[(label, seq.name, seed)] = score_result(label, seq, read_result(folder, seq), seed)
    return OPEReport(dataset=dataset, trackers=labels, seeds=seed_list, scores=scores, missing=missing)


def evaluate(results_dir, dataset: Dataset, *, trackers=None, seeds=None):
    """Deprecated name of :func:`evaluate_ope` (beside :func:`~deeptrack_lite.evaluation.evaluate_vot`), kept for
    one release."""
    warnings.warn("deeptrack_lite.evaluation.evaluate is now evaluate_ope; the old name goes in the next release",
                  DeprecationWarning, stacklevel=2)
    return evaluate_ope(results_dir, dataset, trackers=trackers, seeds=seeds)


__all__ = ["SequenceScore", "evaluate", "evaluate_ope", "run_ope", "run_tracker_job", "score_result"]
