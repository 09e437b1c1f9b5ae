"""Independent jobs (one tracker on one sequence, say) run in this process, in a child process with a time
limit, or on the workers of a Dask cluster, and their outcomes collected as they finish.

A :class:`Job` is a module-level function and its arguments (both picklable: the function travels by
reference, so its module must be importable where it runs) and a ``key`` that names it in reports. An
executor runs a list of jobs and yields one :class:`JobOutcome` per job as each finishes:

- :class:`LocalExecutor` (the default, and the notebooks'): one job after the other on this machine, in this process so
  progress bars and tracebacks stay simple. With ``job_timeout`` the jobs go to one :class:`JobRunner` child
  process instead, stopped when a job takes longer.
- :class:`DaskExecutor`: the jobs as Dask futures on a ``distributed.LocalCluster`` of ``workers`` processes, or
  on any running cluster (a scheduler address such as ``tcp://host:8786``, or a ``distributed.Client``, which
  covers dask-jobqueue's Slurm and PBS clusters and Kubernetes). Each Dask worker hands its jobs to its own
  :class:`JobRunner`, so a job that hangs in C++ or kills its process is stopped and recorded as failed while the
  worker goes on; a worker that dies all the same shows as ``KilledWorker`` and is recorded too.

Nothing here imports torch: a Dask worker only passes pickled jobs to its runner, and the runner, a fresh
Python process (``python -m deeptrack_lite.jobs``), sets its torch and OpenCV threads (:func:`limit_threads`)
before it imports anything heavy, so N workers with ``threads_per_worker`` threads each do not oversubscribe the
cores.
"""
from __future__ import annotations

import importlib.util
import os
import pickle
import queue
import subprocess
import sys
import threading
import time
import traceback
from dataclasses import dataclass
from typing import Callable, Iterable, Iterator

from .cpus import cpu_budget
from .errors import DeepTrackError

# A job in a worker process must end some time: four hours is far more than any tracker needs on a sequence of a
# few thousand frames, and still stops one that hangs before the cluster's own allocation runs out.
DEFAULT_WORKER_JOB_TIMEOUT = 4 * 3600.0
_STARTUP_TIMEOUT = 300.0  # a runner that cannot even import the package in this time is broken


@dataclass(frozen=True)
class Job:
    """``fn(*args)``, named ``key`` (e.g. ``(tracker, sequence, seed)``)."""

    key: tuple
    fn: Callable
    args: tuple = ()


@dataclass
class JobOutcome:
    """What became of a job: ``value`` (what ``fn`` returned) or ``error`` (one line: why it failed)."""

    job: Job
    value: object = None
    error: str | None = None
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return self.error is None


def describe_exception(exc: BaseException) -> str:
    """``"TypeName: message"``, the line a report keeps of a failed job."""
    return "".join(traceback.format_exception_only(type(exc), exc)).strip()


def _pack(fn: Callable, args: tuple) -> bytes:
    """A job as it travels to another process: the sender's ``sys.path``, then the function and its arguments
    pickled apart, so that the receiver adds the paths before unpickling imports what the job needs."""
    return pickle.dumps((list(sys.path), pickle.dumps((fn, args))))


def _call_packed(paths: list, inner: bytes):
    """The receiving side of :func:`_pack` (the paths and job it unpickles to): run the job."""
    sys.path.extend(p for p in paths if p not in sys.path)
    fn, args = pickle.loads(inner)
    return fn(*args)


# ---------------------------------------------------------------------------------------------- the runner process
class JobRunner:
    """A child Python process that runs jobs one at a time; a job that takes longer than its time limit gets the
    process killed (a new one starts for the next job), so nothing a job does can stop its caller.

    The child reads pickled jobs on its standard input and writes pickled outcomes on a copy of its standard
    output (its own prints go to standard error). It sets ``threads`` torch and OpenCV threads first (None: their
    own choice), adds the caller's ``sys.path`` entries it lacks (so a tracker registered by a user's module is found),
    keeps running between jobs (its caches, the last sequence's decoded frames say, carry over) and exits when its
    caller goes away."""

    def __init__(self, threads: int | None = None):
        self.threads = threads
        self._proc: subprocess.Popen | None = None
        self._replies: queue.Queue | None = None

    @property
    def alive(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def _start(self) -> None:
        env = dict(os.environ)
        # Dask's nanny gives its workers MALLOC_TRIM_THRESHOLD_=65536, which turns off glibc's adaptive mmap
        # threshold: every large array is then mapped and unmapped anew, and the kernel's page zeroing made the
        # trackers 2.6 to 5.5 times slower. The runner keeps glibc's default.
        env.pop("MALLOC_TRIM_THRESHOLD_", None)
        if self.threads:  # read by OpenMP, MKL and OpenBLAS when they load; torch's is set again in the child
            env.update({k: str(self.threads) for k in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS")})
        env.setdefault("MPLBACKEND", "Agg")
        # the package itself must be importable in the child even when the caller runs it from a source folder
        package_parent = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
        env["PYTHONPATH"] = os.pathsep.join(p for p in (package_parent, env.get("PYTHONPATH", "")) if p)
        self._proc = subprocess.Popen([sys.executable, "-m", "deeptrack_lite.jobs", str(self.threads or 0)],
                                      stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env)
        self._replies = queue.Queue()
        threading.Thread(target=self._read, args=(self._proc, self._replies), daemon=True).start()
        ready = self._wait(_STARTUP_TIMEOUT)
        if ready != ("ready", None):
            self.close()
            raise DeepTrackError(f"the job runner process did not start: {ready[1] if isinstance(ready, tuple) else ready}")

    @staticmethod
    def _read(proc: subprocess.Popen, replies: queue.Queue) -> None:
        while True:
            try:
                replies.put(pickle.load(proc.stdout))
            except Exception:  # EOF (the process ended) or a garbled stream: either way it is gone
                replies.put(_GONE)
                return

    def _wait(self, timeout: float | None):
        try:
            return self._replies.get(timeout=timeout)
        except queue.Empty:
            return _TIMEOUT

    def run(self, job: Job, timeout: float | None = None) -> JobOutcome:
        """Run ``job`` in the child; an outcome with an error when it raised, ran past ``timeout`` seconds (the
        child is killed) or its process died."""
        try:
            payload = _pack(job.fn, job.args)
        except Exception as exc:
            return JobOutcome(job, error=f"the job cannot be sent to a runner process ({describe_exception(exc)})")
        value, error, seconds = self.run_packed(payload, timeout)
        return JobOutcome(job, value, error, seconds)

    def run_packed(self, payload: bytes, timeout: float | None = None) -> tuple:
        """:meth:`run` for a job :func:`_pack` has packed already: (value, error, seconds)."""
        if not self.alive:
            self._start()
        start = time.perf_counter()
        try:
            self._proc.stdin.write(payload)
            self._proc.stdin.flush()
        except (BrokenPipeError, OSError):
            pass  # it died meanwhile: the reader has seen its end, and _wait says so
        reply = self._wait(timeout)
        seconds = time.perf_counter() - start
        if reply is _TIMEOUT:
            self.close()
            return None, f"time limit: no result after {timeout:g} s; the run was stopped", seconds
        if reply is _GONE:
            code = self._proc.wait()
            self._proc = None
            how = f"killed by signal {-code}" if code < 0 else f"exit code {code}"
            return None, f"the run's process died ({how})", seconds
        value, error = reply
        return value, error, seconds

    def close(self) -> None:
        """Stop the child (killed: it may be stuck in C++)."""
        if self._proc is not None:
            if self._proc.poll() is None:
                self._proc.kill()
            self._proc.wait()
            for stream in (self._proc.stdin, self._proc.stdout):
                try:
                    stream.close()
                except OSError:
                    pass
            self._proc = None

    def __del__(self):  # pragma: no cover - best effort at interpreter exit
        try:
            self.close()
        except Exception:
            pass


_GONE, _TIMEOUT = "<the runner process ended>", "<time limit>"


def limit_threads(threads: int | None) -> None:
    """Let torch and OpenCV use at most ``threads`` threads each (None or 0: leave their defaults). OpenCV's wheels
    run their own pthreads pool, one thread per core, which ``OMP_NUM_THREADS`` does not reach: without this, N
    workers running KCF or CSRT would each still use every core."""
    if not threads:
        return
    import torch

    torch.set_num_threads(threads)
    if importlib.util.find_spec("cv2") is not None:
        import cv2

        cv2.setNumThreads(threads)


def _serve(threads: int) -> None:  # pragma: no cover - runs in the child process
    """The child's side of :class:`JobRunner`."""
    receive = sys.stdin.buffer
    send = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)  # whatever the jobs print (C++ libraries included) goes to standard error
    sys.stdout = sys.stderr
    parent = os.getppid()

    def watch_parent():  # the caller died (a killed Dask worker, say): a hung job must not outlive it
        while True:
            time.sleep(1.0)
            if os.getppid() != parent:
                os._exit(3)

    threading.Thread(target=watch_parent, daemon=True).start()
    try:
        import torch  # noqa: F401 - imported once here, so that no job pays for it

        limit_threads(threads)
        pickle.dump(("ready", None), send)
    except BaseException as exc:
        pickle.dump(("failed", describe_exception(exc)), send)
    send.flush()
    while True:
        try:
            paths, inner = pickle.load(receive)
        except EOFError:
            return
        try:
            reply = (_call_packed(paths, inner), None)
        except BaseException as exc:
            reply = (None, describe_exception(exc))
        try:
            data = pickle.dumps(reply)
        except Exception as exc:
            data = pickle.dumps((None, f"the job's result cannot be sent back ({describe_exception(exc)})"))
        send.write(data)
        send.flush()


# ---------------------------------------------------------------------------------------------- executors
class Executor:
    """What every executor offers: ``run(jobs)`` yields a :class:`JobOutcome` per job as each finishes; ``close()``
    stops what it started (also as a context manager)."""

    def run(self, jobs: Iterable[Job]) -> Iterator[JobOutcome]:
        raise NotImplementedError

    def close(self) -> None:
        pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


class LocalExecutor(Executor):
    """Jobs one after the other on this machine: in this process, or, with ``job_timeout`` (seconds), in one
    :class:`JobRunner` child process, each stopped after that long."""

    def __init__(self, job_timeout: float | None = None, threads: int | None = None):
        self.job_timeout = job_timeout or None
        self.threads = threads
        self._runner: JobRunner | None = None

    def run(self, jobs: Iterable[Job]) -> Iterator[JobOutcome]:
        for job in jobs:
            if self.job_timeout is None:
                start = time.perf_counter()
                try:
                    value, error = job.fn(*job.args), None
                except KeyboardInterrupt:
                    raise
                except Exception as exc:  # one broken job must not cost the others
                    value, error = None, describe_exception(exc)
                yield JobOutcome(job, value, error, seconds=time.perf_counter() - start)
            else:
                if self._runner is None:
                    self._runner = JobRunner(self.threads)
                yield self._runner.run(job, self.job_timeout)

    def close(self) -> None:
        if self._runner is not None:
            self._runner.close()
            self._runner = None


#: the old name, which said "in process" of a class that also runs jobs in a child process; goes in the next release
InProcessExecutor = LocalExecutor


_WORKER_RUNNERS: dict = {}
_WORKER_LOCK = threading.Lock()


def _run_on_worker(payload: bytes, timeout: float | None, threads: int | None) -> tuple:
    """The task a Dask worker runs: the pickled job goes, unopened, to this worker thread's runner process (so
    the worker never imports what the job needs, torch included)."""
    key = (threading.get_ident(), threads)
    with _WORKER_LOCK:
        runner = _WORKER_RUNNERS.get(key)
        if runner is None:
            runner = _WORKER_RUNNERS[key] = JobRunner(threads)
    return runner.run_packed(payload, timeout)


class DaskExecutor(Executor):
    """Jobs as Dask futures: on a ``LocalCluster`` of ``workers`` processes (each running one job at a time), or
    on an existing cluster, ``scheduler`` (an address such as ``tcp://host:8786`` or a ``distributed.Client``).

    Every job runs in its worker's :class:`JobRunner` with ``threads_per_worker`` torch and OpenCV threads (default for a
    local cluster: the CPU budget (:func:`~deeptrack_lite.cpus.cpu_budget`: a cgroup's quota, not the host's cores)
    divided among the workers; for an existing cluster, 1, as Dask sets for its workers)
    and is stopped after ``job_timeout`` seconds (default :data:`DEFAULT_WORKER_JOB_TIMEOUT`)."""

    def __init__(self, workers: int | None = None, scheduler=None, *, job_timeout: float | None = None,
                 threads_per_worker: int | None = None, progress: bool = True, say=None):
        try:
            from distributed import Client, LocalCluster
        except ImportError:
            raise DeepTrackError("running jobs on Dask needs the distributed package: "
                                 "pip install 'deeptrack_lite[cluster]' (or 'dask[distributed]')") from None
        if (workers is None) == (scheduler is None):
            raise DeepTrackError("give either a number of local workers or a scheduler, not both")
        self.job_timeout = job_timeout or DEFAULT_WORKER_JOB_TIMEOUT
        self._cluster = None
        if scheduler is None:
            if workers < 1:
                raise DeepTrackError(f"the number of workers must be 1 or more, got {workers}")
            import dask

            self.threads = threads_per_worker or max(1, cpu_budget().threads // workers)
            # A worker that dies (not only its runner) is tried again by Dask allowed-failures times: once is enough
            # to tell a lost machine from a job that kills whatever runs it.
            self._environ = dict(os.environ)
            with dask.config.set({"distributed.scheduler.allowed-failures": 1}):
                self._cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                                             dashboard_address=":0" if _has_bokeh() else None,
                                             silence_logs=40, host="127.0.0.1")
            self.client = Client(self._cluster)
            _restore_environ(self._environ)
            self._owns_client = True
        elif isinstance(scheduler, str):
            self.threads = threads_per_worker or 1  # what Dask's workers set for their own tasks
            try:
                self.client = Client(scheduler)  # waits distributed.comm.timeouts.connect (30 s) at most
            except (OSError, TimeoutError) as exc:
                raise DeepTrackError(f"no Dask scheduler answers at {scheduler}: {exc}") from None
            except ValueError as exc:  # not an address at all ("missing port number", an unknown protocol)
                raise DeepTrackError(f"{scheduler!r} is not a Dask scheduler's address such as tcp://HOST:8786 "
                                     f"({exc})") from None
            self._owns_client = True
        else:  # a Client the caller made (dask-jobqueue, Kubernetes...)
            self.threads = threads_per_worker or 1
            self.client = scheduler
            self._owns_client = False
        if progress:
            link = getattr(self.client, "dashboard_link", None) if _has_bokeh() else None
            say = say or (lambda text: print(text, file=sys.stderr))
            say(f"Dask: {self.describe()}" + (f"; dashboard {link}" if link else ""))

    def describe(self) -> str:
        workers = self.client.scheduler_info().get("workers", {})
        threads = f"{self.threads} torch and OpenCV thread(s) each"
        return (f"{len(workers)} worker(s) at {self.client.scheduler.address}, {threads}, each run stopped after "
                f"{self.job_timeout:g} s")

    def run(self, jobs: Iterable[Job]) -> Iterator[JobOutcome]:
        from distributed import as_completed

        jobs = list(jobs)
        if not jobs:
            return
        futures = {}
        for job in jobs:
            try:
                payload = _pack(job.fn, job.args)
            except Exception as exc:
                yield JobOutcome(job, error=f"the job cannot be sent to a worker ({describe_exception(exc)})")
                continue
            future = self.client.submit(_run_on_worker, payload, self.job_timeout, self.threads, pure=False)
            futures[future] = job
        try:
            for future in as_completed(futures):
                job = futures[future]
                try:
                    value, error, seconds = future.result()
                except Exception as exc:  # KilledWorker: the worker itself died (twice)
                    value, error, seconds = None, _dask_failure(exc), 0.0
                yield JobOutcome(job, value, error, seconds)
        finally:
            pending = [f for f in futures if not f.done()]
            if pending:
                self.client.cancel(pending)

    def close(self) -> None:
        if self._owns_client:
            self.client.close()
        if self._cluster is not None:
            self._cluster.close()
            self._cluster = None
            _restore_environ(self._environ)


def _restore_environ(saved: dict) -> None:
    """Undo what a LocalCluster wrote into this process's environment. Dask's nannies set their workers' variables
    (MALLOC_TRIM_THRESHOLD_=65536 among them) in the *parent's* os.environ before spawning; left there, every
    process started later inherits them: a notebook kernel or a test run after a benchmark ran 2.6 times slower."""
    for key in set(os.environ) - set(saved):
        del os.environ[key]
    for key, value in saved.items():
        if os.environ.get(key) != value:
            os.environ[key] = value


def _dask_failure(exc: BaseException) -> str:
    if type(exc).__name__ == "KilledWorker":
        return f"its Dask worker process died while running it ({describe_exception(exc)})"
    return describe_exception(exc)


def _has_bokeh() -> bool:
    import importlib.util

    return importlib.util.find_spec("bokeh") is not None


def make_executor(*, workers: int | None = None, scheduler=None, job_timeout: float | None = None,
                  threads_per_worker: int | None = None, progress: bool = True, say=None):
    """The executor for these options: Dask with ``workers`` or ``scheduler``, else this process (a child process
    with ``job_timeout``). ``say(text)`` prints the cluster's line (default: to standard error)."""
    if workers is None and scheduler is None:
        return LocalExecutor(job_timeout, threads_per_worker)
    return DaskExecutor(workers, scheduler, job_timeout=job_timeout, threads_per_worker=threads_per_worker,
                        progress=progress, say=say)


__all__ = ["DEFAULT_WORKER_JOB_TIMEOUT", "DaskExecutor", "Executor", "InProcessExecutor", "Job", "LocalExecutor", "JobOutcome", "JobRunner",
           "describe_exception", "limit_threads", "make_executor"]


if __name__ == "__main__":  # pragma: no cover - the runner process
    _serve(int(sys.argv[1]) if len(sys.argv) > 1 else 0)
