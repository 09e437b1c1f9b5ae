"""How many CPUs this process may really use, and thread pools sized to it.

Binder and most JupyterHubs give a pod about one CPU through a cgroup quota, on a host with many cores. torch
and OpenCV size their thread pools from the host's cores, so on such a pod they run many threads on one CPU's
worth of time, and every tracker slows down (MDNet under a 1-CPU quota here: 4.1 FPS with 1 thread, 2.9 FPS
with 2, 1.6 FPS with 8). :func:`cpu_budget` decides the budget once, the smallest of:

- ``DEEPTRACK_THREADS`` when set (the user's word; it overrides the rest);
- the cgroup's CPU quota: cgroup v2 ``cpu.max``, or v1 ``cpu.cfs_quota_us`` / ``cpu.cfs_period_us``, of this
  process's own cgroup, rounded up to whole CPUs;
- the CPUs the process may be scheduled on (its affinity mask).

:func:`apply_cpu_budget`, called when the package is imported, sizes torch's and OpenCV's pools to it when it is
below what they would take, unless the user has set them (``OMP_NUM_THREADS``, ``MKL_NUM_THREADS``,
``OPENCV_FOR_THREADS_NUM``). Without a quota, as on a laptop, nothing changes. :mod:`~deeptrack_lite.jobs`
divides this budget among its workers.
"""
from __future__ import annotations

import math
import os
import sys
import warnings
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

CGROUP_ROOT = Path("/sys/fs/cgroup")
USER_THREAD_SETTINGS = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENCV_FOR_THREADS_NUM")


@dataclass(frozen=True)
class CPUBudget:
    """``threads``: the CPUs this process may use; ``source``: where that number comes from."""

    threads: int
    source: str

    def __str__(self) -> str:
        return f"{self.threads} CPU{'s' if self.threads != 1 else ''} ({self.source})"


def _own_cgroups(proc_cgroup: Path) -> dict:
    """{controller: path} of this process's cgroups (``""`` is cgroup v2's unified hierarchy)."""
    out = {}
    try:
        lines = proc_cgroup.read_text().splitlines()
    except OSError:
        return out
    for line in lines:
        parts = line.split(":", 2)
        if len(parts) == 3:
            for controller in parts[1].split(","):
                out[controller] = parts[2]
    return out


def _read(path: Path) -> str | None:
    try:
        return path.read_text().strip()
    except (OSError, UnicodeDecodeError):
        return None


def cgroup_cpu_quota(root=CGROUP_ROOT, proc_cgroup="/proc/self/cgroup") -> tuple[float, str] | None:
    """(CPUs, where read) of the quota of this process's cgroup, or None when there is none (``max``, ``-1``) or no
    cgroup file can be read. The process's own cgroup is tried first, then the hierarchy's root (inside a
    container the own path is often the root)."""
    root, groups = Path(root), _own_cgroups(Path(proc_cgroup))
    v2 = [root / groups.get("", "/").lstrip("/") / "cpu.max", root / "cpu.max"]
    for path in v2:
        text = _read(path)
        if text:
            quota, _, period = text.partition(" ")
            if quota == "max":
                return None
            try:
                return int(quota) / int(period or 100000), f"cgroup v2 {path}: {text}"
            except (ValueError, ZeroDivisionError):
                return None
    for controller in ("cpu", "cpu,cpuacct", "cpuacct,cpu"):
        own = groups.get("cpu", "/").lstrip("/")
        for folder in (root / controller / own, root / controller):
            quota, period = _read(folder / "cpu.cfs_quota_us"), _read(folder / "cpu.cfs_period_us")
            if quota is None or period is None:
                continue
            try:
                quota_us, period_us = int(quota), int(period)
            except ValueError:
                return None
            if quota_us <= 0 or period_us <= 0:
                return None
            return quota_us / period_us, f"cgroup v1 {folder}: quota {quota_us} us per {period_us} us"
    return None


def cpu_budget(environ=None, root=CGROUP_ROOT, proc_cgroup="/proc/self/cgroup") -> CPUBudget:
    """The CPUs this process may use (module docstring), decided once per ``DEEPTRACK_THREADS`` value and cgroup
    files: the import, the job runner and the printed reports all see the same budget."""
    environ = os.environ if environ is None else environ
    return _decided_budget(environ.get("DEEPTRACK_THREADS", "").strip(), str(root), str(proc_cgroup))


@lru_cache(maxsize=None)
def _decided_budget(given: str, root: str, proc_cgroup: str) -> CPUBudget:
    if given:
        try:
            threads = int(given)
            if threads < 1:
                raise ValueError
            return CPUBudget(threads, "DEEPTRACK_THREADS")
        except ValueError:
            warnings.warn(f"DEEPTRACK_THREADS={given!r} is not a whole number of 1 or more; ignored", stacklevel=3)
    try:
        budget = CPUBudget(len(os.sched_getaffinity(0)), "the CPUs this process may run on")
    except (AttributeError, OSError):  # no affinity on macOS and Windows
        budget = CPUBudget(os.cpu_count() or 1, "the machine's CPU count")
    quota = cgroup_cpu_quota(root, proc_cgroup)
    if quota is not None and math.ceil(quota[0]) < budget.threads:
        budget = CPUBudget(max(1, math.ceil(quota[0])), quota[1])
    return budget


def apply_cpu_budget(budget: CPUBudget | None = None, environ=None) -> bool:
    """Size torch's and OpenCV's thread pools to ``budget`` (default :func:`cpu_budget`) when it is below the
    machine's cores and the user has not set them; True when it did. Modules not yet imported get the setting
    through their environment variables, so the package's import still does not import torch."""
    environ = os.environ if environ is None else environ
    budget = budget or cpu_budget(environ)
    if any(environ.get(name) for name in USER_THREAD_SETTINGS):
        return False
    if budget.source != "DEEPTRACK_THREADS" and budget.threads >= (os.cpu_count() or 1):
        return False
    threads = str(budget.threads)
    environ.setdefault("OMP_NUM_THREADS", threads)
    environ.setdefault("OPENCV_FOR_THREADS_NUM", threads)
    if "torch" in sys.modules:
        sys.modules["torch"].set_num_threads(budget.threads)
    if "cv2" in sys.modules:
        sys.modules["cv2"].setNumThreads(budget.threads)
    return True


__all__ = ["CPUBudget", "apply_cpu_budget", "cgroup_cpu_quota", "cpu_budget"]
