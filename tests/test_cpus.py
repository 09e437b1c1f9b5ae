"""The CPU budget: a cgroup's quota (v1 or v2), the affinity mask and DEEPTRACK_THREADS, not the host's cores, size
torch's and OpenCV's thread pools, on faked cgroup files and in a fresh interpreter."""
import os
import subprocess
import sys

import pytest
import torch

from deeptrack_lite import cpus
from deeptrack_lite.cpus import CPUBudget, apply_cpu_budget, cgroup_cpu_quota, cpu_budget


@pytest.fixture
def host_of_8(monkeypatch):
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: set(range(8)), raising=False)
    monkeypatch.setattr(os, "cpu_count", lambda: 8)


def cgroup(tmp_path, proc_lines, files):
    proc = tmp_path / "proc_cgroup"
    proc.write_text("\n".join(proc_lines) + "\n")
    for rel, text in files.items():
        path = tmp_path / "root" / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return tmp_path / "root", proc


@pytest.mark.parametrize("proc_lines,files,threads", [
    (["0::/kubepods/pod1"], {"kubepods/pod1/cpu.max": "100000 100000\n"}, 1),            # Binder: one CPU
    (["0::/kubepods/pod1"], {"kubepods/pod1/cpu.max": "150000 100000\n"}, 2),            # 1.5 CPUs: rounded up
    (["0::/"], {"cpu.max": "50000 100000\n"}, 1),
    (["0::/pod"], {"pod/cpu.max": "max 100000\n"}, 8),                                   # no quota
    (["4:cpu,cpuacct:/pod7", "0::/"], {"cpu,cpuacct/pod7/cpu.cfs_quota_us": "200000\n",
                                       "cpu,cpuacct/pod7/cpu.cfs_period_us": "100000\n"}, 2),
    (["1:cpu:/"], {"cpu/cpu.cfs_quota_us": "-1\n", "cpu/cpu.cfs_period_us": "100000\n"}, 8),  # this machine's
    (["1:cpu:/"], {"cpu/cpu.cfs_quota_us": "garbage\n", "cpu/cpu.cfs_period_us": "100000\n"}, 8),
    (["1:cpu:/"], {}, 8),                                                                 # no cgroup files at all
])
def test_the_budget_is_the_quota_rounded_up_or_the_affinity(tmp_path, host_of_8, proc_lines, files, threads):
    root, proc = cgroup(tmp_path, proc_lines, files)
    budget = cpu_budget({}, root=root, proc_cgroup=proc)
    assert budget.threads == threads
    assert ("cgroup" in budget.source) == (threads < 8)


def test_deeptrack_threads_overrides_and_a_bad_value_is_ignored_with_a_warning(tmp_path, host_of_8):
    root, proc = cgroup(tmp_path, ["0::/"], {"cpu.max": "100000 100000"})
    assert cpu_budget({"DEEPTRACK_THREADS": "3"}, root=root, proc_cgroup=proc) == CPUBudget(3, "DEEPTRACK_THREADS")
    with pytest.warns(UserWarning, match="DEEPTRACK_THREADS='many'"):
        assert cpu_budget({"DEEPTRACK_THREADS": "many"}, root=root, proc_cgroup=proc).threads == 1
    assert cgroup_cpu_quota(root, proc)[0] == 1.0


def test_applying_a_budget_sizes_torch_and_opencv_unless_the_user_did(host_of_8):
    import cv2

    before = torch.get_num_threads(), cv2.getNumThreads()
    try:
        environ = {}
        assert apply_cpu_budget(CPUBudget(1, "a test quota"), environ)
        assert environ == {"OMP_NUM_THREADS": "1", "OPENCV_FOR_THREADS_NUM": "1"}
        assert torch.get_num_threads() == 1 and cv2.getNumThreads() == 1
        torch.set_num_threads(before[0])
        assert not apply_cpu_budget(CPUBudget(1, "a test quota"), {"OMP_NUM_THREADS": "4"})   # the user's choice
        assert not apply_cpu_budget(CPUBudget(8, "no quota"), {})                               # nothing to lower
        assert torch.get_num_threads() == before[0]
    finally:
        torch.set_num_threads(before[0])
        cv2.setNumThreads(before[1])


@pytest.mark.slow
def test_importing_the_package_applies_the_budget_in_a_fresh_interpreter():
    code = "import deeptrack_lite, torch, cv2; print(torch.get_num_threads(), cv2.getNumThreads())"
    env = {k: v for k, v in os.environ.items() if k not in cpus.USER_THREAD_SETTINGS}
    out = subprocess.run([sys.executable, "-c", code], env={**env, "DEEPTRACK_THREADS": "1"}, capture_output=True,
                         text=True, check=True).stdout.split()
    assert out == ["1", "1"]


def test_speed_and_benchmark_say_the_budget(tmp_path, capsys):
    from deeptrack_lite.cli import main

    assert main(["speed", "--trackers", "identity", "--frames", "3", "--sequences", "CatLight"]) == 0
    assert "CPU budget" in capsys.readouterr().out
    assert main(["benchmark", "--trackers", "identity", "--frames", "3", "--sequences", "CatLight",
                 "--out", str(tmp_path)]) == 0
    assert f"CPU budget: {cpu_budget()}" in capsys.readouterr().out
