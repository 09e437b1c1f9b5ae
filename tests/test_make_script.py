"""make.py's own behaviour: Ctrl-C stops JupyterLab cleanly, with no traceback."""
import os
import signal
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest

from conftest import free_port, wait_for_http

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
    assert make.test(["--quick", "-x"]) == 0 and make.test(["-k", "boxes"]) == 0
    quick, full = ran
    assert quick[3:] == ["-m", make.QUICK, "-x"] and full[3:] == ["-k", "boxes"]
    for marker in ("notebook", "browser", "colab", "vot_toolkit", "slow"):
        assert marker in make.QUICK
