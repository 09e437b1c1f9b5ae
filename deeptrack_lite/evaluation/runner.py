"""The runner loop every protocol shares: plan the (tracker, sequence[, seed]) jobs a benchmark still needs, run
them where the caller asks (this process, a child process with a time limit, Dask workers: :mod:`deeptrack_lite.jobs`),
and store each finished job's result at once, with one progress bar. OPE (:func:`~deeptrack_lite.evaluation.run_ope`),
VOT (:func:`~deeptrack_lite.evaluation.run_vot`) and presence calibration (which runs OPE) plan their jobs and say how
to store an outcome; the loop, the job plumbing and the frames kept between jobs are here."""
from __future__ import annotations

import sys
from contextlib import closing
from typing import Callable

from ..errors import TrackerError
from ..fingerprint import code_fingerprint
from ..version import __version__


class Progress:
    """A progress bar over a benchmark's runs (tqdm, or nothing with ``enabled=False``), and where its messages go."""

    def __init__(self, total: int, desc: str, enabled: bool = True):
        self.bar = None
        if enabled:
            from tqdm.auto import tqdm
            self.bar = tqdm(total=total, desc=desc, unit="run")
        self.say = self.bar.write if self.bar is not None else (lambda text: print(text, file=sys.stderr))

    def done(self, label: str, name: str, n: int = 1) -> None:
        """``n`` runs of ``label`` on sequence ``name`` are finished (run, reused or failed)."""
        if self.bar is not None:
            self.bar.set_postfix_str(f"{label} on {name}")
            self.bar.update(n)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


def run_and_store(jobs: list, progress: Progress, store: Callable, fail: Callable, *, executor=None,
                  **options) -> None:
    """Run ``jobs`` (:class:`deeptrack_lite.jobs.Job`, keyed by ``(label, sequence, ...)``) on ``executor`` or one
    made from ``options`` (``workers``, ``scheduler``, ``job_timeout``, ``threads_per_worker``), and as each
    finishes call ``store(outcome)`` or ``fail(outcome)``: each returns how many runs it settled (a deterministic
    tracker's one run can stand for several seeds; None counts one). The progress bar closes at the end, also on
    an interruption, after which the results stored so far stay and the next run resumes from them."""
    try:
        with closing(run_jobs(jobs, executor, progress=progress.bar is not None, say=progress.say,
                              **options)) as outcomes:
            for outcome in outcomes:
                settled = store(outcome) if outcome.ok else fail(outcome)
                progress.done(outcome.job.key[0], outcome.job.key[1], 1 if settled is None else settled)
    finally:
        progress.close()


def job_options(*, workers=None, scheduler=None, job_timeout=None, threads_per_worker=None) -> dict:
    """Where jobs run (:func:`run_and_store`'s ``options``), as every runner and the command line take them."""
    return {"workers": workers, "scheduler": scheduler, "job_timeout": job_timeout,
            "threads_per_worker": threads_per_worker}


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


__all__ = ["Progress", "cached_sequence", "check_job_code", "job_options", "release_cached_sequence",
           "run_and_store", "run_jobs"]
