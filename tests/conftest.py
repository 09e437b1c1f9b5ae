import http.server
import importlib.util
import os
import threading
from functools import partial
from pathlib import Path

import numpy as np
import pytest

os.environ.setdefault("DEEPTRACK_FAST", "1")
os.environ.setdefault("MPLBACKEND", "Agg")

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on now."""
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_http(url: str, process, timeout: float = 120.0) -> bool:
    """Poll ``url`` until it answers (True), ``process`` ends or ``timeout`` seconds pass (False)."""
    import time
    import urllib.request

    deadline = time.monotonic() + timeout
    while process.poll() is None and time.monotonic() < deadline:
        try:
            urllib.request.urlopen(url, timeout=5)
            return True
        except OSError:
            time.sleep(0.5)
    return False


def pytest_configure(config):
    # registered here, beside the fixture it needs, rather than in pyproject.toml's list: a change there changes
    # the digest locks/lab.txt is checked against, and re-locking would move pins that have nothing to do with it
    config.addinivalue_line("markers", "vot_toolkit: compares the VOT measures with vot-toolkit 0.9.0's own, "
                                       "installed in a throwaway environment")
    config.addinivalue_line("markers", "slow: takes more than a few seconds (training, a cluster, a whole benchmark); "
                                       "left out of `python3 make.py test --quick`")


#: the marks of tests that take from half a minute to two: on several workers (``make.py test`` runs one per CPU)
#: they start first, so that no worker is left with one of them after the others have finished the rest
LONG_FIRST = ("colab", "browser", "notebook", "vot_toolkit", "slow")


def _recorded_seconds() -> dict:
    """{notebook stem: its fast-mode seconds in notebooks/timings.json} (empty when it cannot be read)."""
    import json

    try:
        record = json.loads((ROOT / "notebooks" / "timings.json").read_text())["notebooks"]
        return {stem: float(modes["fast"]["seconds"]) for stem, modes in record.items()}
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return {}


def pytest_collection_modifyitems(config, items):
    if getattr(config.option, "numprocesses", None):  # pytest-xdist; a serial run keeps the files' order
        seconds = _recorded_seconds()
        notebook = LONG_FIRST.index("notebook")

        def rank(item):  # the marks' order, and the notebooks longest first
            group = next((i for i, mark in enumerate(LONG_FIRST) if item.get_closest_marker(mark)), len(LONG_FIRST))
            stem = item.nodeid.rpartition("[")[2].removesuffix(".ipynb]")
            return group, -seconds.get(stem, 0.0) if group == notebook else 0.0
        items.sort(key=rank)  # stable and the same on every worker, as xdist requires


@pytest.fixture(scope="session")
def package_index():
    """Skips the test where the package index (``PIP_INDEX_URL``, else PyPI) does not answer: the tests that
    install into a throwaway environment (the Colab imitation, the VOT toolkit reference) need it."""
    import urllib.request

    index = os.environ.get("PIP_INDEX_URL", "https://pypi.org/simple/")
    try:
        urllib.request.urlopen(index.rstrip("/") + "/pip/", timeout=10)
    except OSError:
        pytest.skip(f"the package index {index} is unreachable: this test installs packages from it")
    return index


def load_make_script():
    """The repository's make.py as a module (it is a script, not part of the package)."""
    spec = importlib.util.spec_from_file_location("make_script", ROOT / "make.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="session")
def small_sequence():
    """A short, easy synthetic sequence shared by many tests."""
    from deeptrack_lite.data import synthetic_sequence

    return synthetic_sequence("Small", n_frames=12, seed=3, speed=1.5)


def write_frames(folder, n, size=(64, 48), suffix=".jpg", digits=4, start=1):
    """Write n small noise frames numbered from ``start``; returns their paths."""
    from deeptrack_lite.images import imwrite_rgb

    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    paths = []
    for i in range(n):
        p = folder / f"{start + i:0{digits}d}{suffix}"
        imwrite_rgb(p, rng.integers(0, 255, (size[1], size[0], 3), dtype=np.uint8))
        paths.append(p)
    return paths


@pytest.fixture
def otb_folder(tmp_path):
    """An OTB-layout sequence of 5 frames with a comma-separated annotation."""
    seq = tmp_path / "Toy"
    write_frames(seq / "img", 5)
    (seq / "groundtruth_rect.txt").write_text("\n".join(f"{10 + i},{12 + i},20,16" for i in range(5)) + "\n")
    return seq


@pytest.fixture(scope="session")
def three_video_folder(tmp_path_factory):
    """Three synthetic sequences of 20 frames written as an OTB folder (CatLight, CupHide, FaceBlur, in that order):
    a stand-in for a real training set, whose last sequence the trainers hold back."""
    from deeptrack_lite.data import synthetic_benchmark, write_dataset_otb

    folder = tmp_path_factory.mktemp("otb") / "otb"
    write_dataset_otb(synthetic_benchmark(20, names=["CatLight", "CupHide", "FaceBlur"]), folder)
    return folder


@pytest.fixture
def server(tmp_path):
    """Serve tmp_path/www on 127.0.0.1 (an OS-chosen port); yields (base_url, folder, request log)."""
    www = tmp_path / "www"
    www.mkdir()
    log = []

    class Handler(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args):
            log.append(self.path)

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), partial(Handler, directory=str(www)))
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/", www, log
    httpd.shutdown()
    httpd.server_close()


def slow_for(names, slow) -> list:
    """Parameters for ``pytest.mark.parametrize``: those in ``slow`` (the deep trackers, say) marked slow, so that
    `python3 make.py test --quick` runs the test on the others only."""
    return [pytest.param(n, marks=pytest.mark.slow) if n in slow else n for n in names]
