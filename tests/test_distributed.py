"""The benchmark's jobs on Dask workers (a local cluster and a real scheduler with two workers on 127.0.0.1) give
the serial run's result files; a job that hangs or kills its process on a worker is a recorded failure; MDNet
trains under torchrun with two processes and its checkpoint resumes in one."""
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch

from deeptrack_lite.cli import main
from deeptrack_lite.data import synthetic_benchmark
from deeptrack_lite.evaluation import run_ope, run_vot
from deeptrack_lite.jobs import InProcessExecutor, Job, JobRunner, LocalExecutor
from deeptrack_lite.training.mdnet import cycle_schedule
from doubles import HangTracker  # noqa: F401 - registers test_hang, test_suicide, test_raise

BIN = Path(sys.executable).parent


@pytest.fixture(scope="module")
def three():
    return synthetic_benchmark(n_frames=10, names=["CatLight", "CupHide", "FaceTwins"])


def _result_files(root: Path) -> dict:
    """Every boxes and presence-score file under a results folder (times and info differ between runs)."""
    return {p.relative_to(root): p.read_bytes() for p in sorted(root.rglob("*.txt")) if "times" not in p.parts
            and not p.name.endswith("_time.txt")}


@pytest.mark.slow
def test_workers_write_the_serial_run_s_result_files(three, tmp_path):
    trackers = ["kcf", "identity", "particle_filter", "template"]
    run_ope(trackers, three, tmp_path / "serial", seeds=[0, 1], progress=False)
    environ = dict(os.environ)
    report = run_ope(trackers, three, tmp_path / "dask", seeds=[0, 1], progress=False, workers=2)
    assert not report.failures
    # Dask's nannies write their workers' variables (MALLOC_TRIM_THRESHOLD_...) into this process's environment;
    # left there, every process started later (a notebook kernel, the next test) ran 2.6 times slower
    assert dict(os.environ) == environ
    serial, dask = _result_files(tmp_path / "serial"), _result_files(tmp_path / "dask")
    assert len([p for p in serial if "scores" not in p.parts]) == 4 * 3 * 2 and serial == dask
    info = json.loads((tmp_path / "dask" / "kcf" / "seed1" / "info" / "CupHide.json").read_text())
    assert info["reused_for_seed"] == 1 and info["torch_threads"] == max(1, (os.cpu_count() or 1) // 2)
    # the same for VOT's protocol
    run_vot(["kcf", "template"], three, tmp_path / "vot-serial", progress=False)
    run_vot(["kcf", "template"], three, tmp_path / "vot-dask", progress=False, workers=2)
    assert _result_files(tmp_path / "vot-serial") == _result_files(tmp_path / "vot-dask")


@pytest.mark.slow
def test_workers_give_any_tracker_s_serial_files_at_the_serial_run_s_thread_count(three, tmp_path):
    """hcf's boxes depend on the torch thread count (multi-threaded sums round otherwise): with the serial run's
    count on the workers, they are the same files."""
    run_ope(["hcf", "siamfc"], three, tmp_path / "serial", progress=False)
    run_ope(["hcf", "siamfc"], three, tmp_path / "dask", progress=False, workers=2,
            threads_per_worker=torch.get_num_threads())
    assert _result_files(tmp_path / "serial") == _result_files(tmp_path / "dask")
    info = json.loads((tmp_path / "dask" / "hcf" / "info" / "CupHide.json").read_text())
    assert info["torch_threads"] == torch.get_num_threads()


@pytest.mark.slow
def test_a_hanging_job_and_a_dying_job_on_workers_are_failures_and_the_others_finish(three, tmp_path):
    start = time.perf_counter()
    report = run_ope(["test_hang", "test_suicide", "identity", "test_raise"], three, tmp_path, progress=False,
                     workers=2, job_timeout=3)
    assert time.perf_counter() - start < 120
    assert all("time limit" in report.failures[("test_hang", s.name, None)] for s in three)
    assert all("died" in report.failures[("test_suicide", s.name, None)] for s in three)
    assert report.failures[("test_raise", "CatLight", None)] == "RuntimeError: boom"
    assert len(report.failures) == 9 and [r["tracker"] for r in report.summary()] == ["identity"]


@pytest.mark.slow
def test_the_benchmark_command_on_a_dask_scheduler_with_two_workers(three, tmp_path, capsys):
    """A real `dask scheduler` and two `dask worker` processes on 127.0.0.1, the benchmark sent there."""
    from distributed import Client

    scheduler_file = tmp_path / "scheduler.json"
    env = dict(os.environ)
    procs = [subprocess.Popen([str(BIN / "dask"), "scheduler", "--host", "127.0.0.1", "--port", "0",
                               "--no-dashboard", "--scheduler-file", str(scheduler_file)], env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)]
    try:
        for _ in range(600):
            if scheduler_file.is_file() and scheduler_file.stat().st_size:
                break
            time.sleep(0.1)
        address = json.loads(scheduler_file.read_text())["address"]
        for _ in range(2):
            procs.append(subprocess.Popen([str(BIN / "dask"), "worker", "--scheduler-file", str(scheduler_file),
                                           "--nthreads", "1", "--no-dashboard", "--host", "127.0.0.1"], env=env,
                                          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        with Client(address) as client:
            client.wait_for_workers(2, timeout=120)
        common = ["benchmark", "--trackers", "kcf,identity", "--frames", "10", "--sequences",
                  "CatLight,CupHide,FaceTwins"]
        assert main([*common, "--out", str(tmp_path / "serial")]) == 0
        assert main([*common, "--out", str(tmp_path / "cluster"), "--scheduler", address, "--threads-per-worker",
                     "1"]) == 0
        printed = capsys.readouterr()
        assert "2 worker(s) at " + address in printed.out + printed.err
        assert _result_files(tmp_path / "serial" / "results") == _result_files(tmp_path / "cluster" / "results")
        assert len([p for p in _result_files(tmp_path / "cluster" / "results") if "scores" not in p.parts]) == 6
    finally:
        for p in procs[::-1]:
            p.terminate()
        for p in procs[::-1]:
            try:
                p.wait(30)
            except subprocess.TimeoutExpired:
                p.kill()


@pytest.mark.slow
def test_a_scheduler_that_does_not_answer_is_a_clear_error(three, tmp_path, capsys):
    import dask

    with dask.config.set({"distributed.comm.timeouts.connect": "2s"}):
        code = main(["benchmark", "--trackers", "identity", "--frames", "4", "--sequences", "CatLight", "--out",
                     str(tmp_path), "--scheduler", "tcp://127.0.0.1:9"])
    assert code == 2 and "no Dask scheduler answers at tcp://127.0.0.1:9" in capsys.readouterr().err


@pytest.mark.slow
def test_the_job_runner_keeps_its_process_between_jobs_and_replaces_a_dead_one(monkeypatch):
    # what a Dask worker's environment has: it made the trackers several times slower in a runner (it disables
    # glibc's adaptive mmap threshold), so the runner does without it
    monkeypatch.setenv("MALLOC_TRIM_THRESHOLD_", "65536")
    runner = JobRunner(threads=1)
    try:
        assert runner.run(Job(("env",), os.environ.get, ("MALLOC_TRIM_THRESHOLD_",))).value is None
        first = runner.run(Job(("a",), os.getpid))
        assert first.ok and first.value != os.getpid()
        assert runner.run(Job(("b",), os.getpid)).value == first.value  # the same process
        assert runner.run(Job(("c",), torch.get_num_threads)).value == 1
        # OpenCV's own thread pool too: OMP_NUM_THREADS does not reach it
        assert runner.run(Job(("cv",), cv2.getNumThreads)).value == 1
        died = runner.run(Job(("d",), os._exit, (7,)))
        assert died.error == "the run's process died (exit code 7)"
        assert runner.run(Job(("e",), os.getpid)).value not in (first.value, None)
        slow = runner.run(Job(("f",), time.sleep, (30,)), timeout=0.5)
        assert slow.error == "time limit: no result after 0.5 s; the run was stopped" and slow.seconds < 10
    finally:
        runner.close()
    assert InProcessExecutor is LocalExecutor  # the old name, for one release
    outcomes = list(LocalExecutor().run([Job(("x",), int, ("3",)), Job(("y",), int, ("three",))]))
    assert outcomes[0].value == 3 and outcomes[1].error.startswith("ValueError: invalid literal")


def test_cycle_schedule_visits_every_domain_once_per_cycle_over_the_processes():
    assert np.array_equal(cycle_schedule(np.random.default_rng([0, 3]), 14),
                          np.random.default_rng([0, 3]).permutation(14))  # one process: as it always drew
    for n, world in ((14, 2), (7, 2), (5, 3)):
        orders = [cycle_schedule(np.random.default_rng([0, 1, r]), n, r, world) for r in range(world)]
        assert len({len(o) for o in orders}) == 1 and len(orders[0]) == -(-n // world)
        assert set(np.concatenate(orders)) == set(range(n))
        assert all(set(o) <= set(range(r, n, world)) for r, o in enumerate(orders))


@pytest.mark.slow
def test_torchrun_trains_mdnet_on_two_processes_and_the_checkpoint_resumes_in_one(tmp_path):
    from deeptrack_lite.training import MDNetTrainConfig

    out = tmp_path / "mdnet"
    args = ["train-mdnet", "--out", str(out), "--frames", "12", "--cycles", "2", "--batch-pos", "8",
            "--batch-neg", "24"]
    env = dict(os.environ, DEEPTRACK_FAST="1", OMP_NUM_THREADS="1")
    done = subprocess.run([str(BIN / "torchrun"), "--standalone", "--nproc_per_node", "2", "-m", "deeptrack_lite",
                           *args, "--stop-after", "1", "--keep-checkpoint"], env=env, capture_output=True,
                          text=True, timeout=600)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-3000:]
    assert "14 domains over 2 processes" in done.stdout and "stopped after cycle 1 of 2" in done.stdout
    ckpt = torch.load(out / "mdnet_checkpoint.pt", map_location="cpu", weights_only=True)
    assert ckpt["cycle"] == 1 and not (out / "mdnet.pt").exists()
    log = json.loads(ckpt["log"])
    assert sorted(r["branch"] for r in log) == list(range(14))  # every domain once, over both processes
    assert sorted(r["iteration"] for r in log) == list(range(1, 15))
    # rank 0's checkpoint holds every branch trained, the other process's too, with its optimizer state
    torch.manual_seed(0)
    fresh = MDNetTrainConfig().network(14).state_dict()
    for k in range(14):
        assert not torch.equal(ckpt["model"][f"branches.{k}.1.weight"], fresh[f"branches.{k}.1.weight"]), k
    assert len(ckpt["optimizer"]["state"]) == len([p for g in ckpt["optimizer"]["param_groups"] for p in g["params"]])
    # the second cycle in this one process
    assert main(args) == 0
    provenance = json.loads((out / "mdnet.json").read_text())
    assert provenance["iterations"] == 28 and provenance["config"]["cycles"] == 2
    log = [l for l in (out / "mdnet_log.csv").read_text().splitlines()[1:]]
    assert len(log) == 28 and not (out / "mdnet_checkpoint.pt").exists()


_GROUP_LIFETIME = """
import os, sys, torch
from deeptrack_lite.data import synthetic_benchmark
from deeptrack_lite.training import MDNetTrainConfig, train_mdnet

def threads():
    return sorted(open(f"/proc/self/task/{t}/comm").read().strip() for t in os.listdir("/proc/self/task"))

domains = synthetic_benchmark(n_frames=6, names=["CatLight", "CupHide"])
config = MDNetTrainConfig(cycles=1, batch_pos=4, batch_neg=8, fc_width=16)
train_mdnet(domains, config, sys.argv[1], device="cpu", progress=False)
with open(os.path.join(sys.argv[1], "threads-" + os.environ["RANK"]), "w") as f:
    f.write(" ".join(threads()))
"""


@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc/self/task").is_dir(), reason="lists threads through Linux's /proc")
def test_training_under_torchrun_ends_its_process_group_and_gloo_threads(tmp_path):
    """A group that outlives training keeps gloo's threads running into interpreter exit, where they abort the
    process now and then (SIGABRT, "terminate called without an active exception"): DistributedDataParallel
    imports torch.distributed.nn.functional, which keeps the default group in its default arguments when it is
    first imported after the group is joined."""
    env = dict(os.environ, OMP_NUM_THREADS="1")
    done = subprocess.run([str(BIN / "torchrun"), "--standalone", "--nproc_per_node", "2", "--no-python",
                           str(BIN / "python"), "-c", _GROUP_LIFETIME, str(tmp_path)], env=env, capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    assert (tmp_path / "mdnet.pt").exists()
    for rank in (0, 1):
        left = (tmp_path / f"threads-{rank}").read_text()
        assert "gloo" not in left, f"rank {rank} still runs {left}"


def test_a_job_refuses_other_code_than_the_benchmark_was_started_with(three):
    """A worker with another checkout of the package must not store its results under this code's label."""
    from deeptrack_lite.errors import TrackerError
    from deeptrack_lite.evaluation import TrackerSpec
    from deeptrack_lite.evaluation.ope import run_tracker_job
    from deeptrack_lite.evaluation.results import run_settings
    from deeptrack_lite.trackers import tracker_class

    spec, seq = TrackerSpec("kcf", "kcf"), three["CatLight"]
    settings = run_settings(spec, seq, 0)
    with pytest.raises(TrackerError, match="install the same deeptrack_lite where the jobs run"):
        run_tracker_job(tracker_class("kcf"), spec, seq, "cpu", dict(settings, code="0123456789abcdef"))
    result = run_tracker_job(tracker_class("kcf"), spec, seq, "cpu", settings)
    assert len(result["boxes"]) == 10 and result["info"]["code"] == settings["code"]
