"""make.py's own behaviour: Ctrl-C stops JupyterLab cleanly, with no traceback."""
import os
import signal
import subprocess
import sys
import urllib.request
from pathlib import Path

from conftest import free_port, wait_for_http

ROOT = Path(__file__).resolve().parents[1]


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
