"""make.py's own behaviour: Ctrl-C stops JupyterLab cleanly, with no traceback."""
import os
import signal
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest

from conftest import free_port, load_make_script, wait_for_http

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_sigint_to_make_lab_shuts_jupyter_down_quietly(tmp_path):
    port = free_port()
    env = dict(os.environ, JUPYTER_CONFIG_DIR=str(tmp_path / "config"), JUPYTER_RUNTIME_DIR=str(tmp_path / "runtime"),
               JUPYTERLAB_WORKSPACES_DIR=str(tmp_path / "workspaces"))
    make = subprocess.Popen([sys.executable, str(ROOT / "make.py"), "lab", "--no-browser", "--ip=127.0.0.1",
                             f"--port={port}", "--IdentityProvider.token=t"],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env, cwd=ROOT)
    url = f"http://127.0.0.1:{port}/api/status?token=t"
    try:
        assert wait_for_http(url, make), "JupyterLab did not start"
        # not from a terminal: make.py must pass the signal on (a terminal's Ctrl-C reaches Jupyter itself)
        make.send_signal(signal.SIGINT)
        out, _ = make.communicate(timeout=60)
    finally:
        if make.poll() is None:
            make.kill()
    assert make.returncode == 0, out[-3000:]
    assert "Traceback" not in out and "KeyboardInterrupt" not in out, out[-3000:]
    assert "Interrupted" in out, out[-3000:]  # Jupyter's own SIGINT handler stopped it (a kill prints nothing)
    try:
        urllib.request.urlopen(url, timeout=5)
        raise AssertionError("JupyterLab still answers")
    except OSError:
        pass


def test_quick_leaves_out_the_slow_kinds_of_test_and_a_later_marker_takes_over(monkeypatch):
    import importlib.util

    spec = importlib.util.spec_from_file_location("make_script", ROOT / "make.py")
    make = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(make)
    ran = []
    monkeypatch.setattr(make, "ensure_environment", lambda args: (Path(sys.executable), list(args)))
    monkeypatch.setattr(make, "run_forwarding_signals", lambda command, **kw: ran.append(command) or 0)
    monkeypatch.setattr(make, "available_cpus", lambda: 1)  # one worker: the arguments pass unchanged
    assert make.test(["--quick", "-x"]) == 0 and make.test(["-k", "boxes"]) == 0
    quick, full = ran
    assert quick[3:] == ["-m", make.QUICK, "-x"] and full[3:] == ["-k", "boxes"]
    for marker in ("notebook", "browser", "colab", "vot_toolkit", "slow"):
        assert marker in make.QUICK


def test_two_or_more_cpus_run_the_tests_on_workers_that_share_the_cpus(monkeypatch):
    make = load_make_script()
    monkeypatch.delenv("DEEPTRACK_THREADS", raising=False)
    one_at_a_time = ["--dist", "load", "--maxschedchunk", "1"]
    assert make.test_workers(["-x"], 2) == (["-n", "2", *one_at_a_time, "-x"], {"DEEPTRACK_THREADS": "1"})
    assert make.test_workers([], 16) == (["-n", "6", *one_at_a_time], {"DEEPTRACK_THREADS": "2"})
    assert make.test_workers(["-x"], 1) == (["-x"], {})  # one CPU: one process, as before
    for chosen in (["-n", "4"], ["-n4"], ["--numprocesses=3"], ["-p", "no:xdist"], ["--dist", "load"]):
        assert make.test_workers(chosen, 2) == (chosen, {})  # the caller's choice is left alone
    monkeypatch.setenv("DEEPTRACK_THREADS", "2")
    assert make.test_workers([], 2)[1] == {"DEEPTRACK_THREADS": "2"}  # and so is the user's thread count
