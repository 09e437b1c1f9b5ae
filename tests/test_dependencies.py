"""OpenCV is not named in the required dependencies (its wheels share one cv2 folder); what the package says instead."""
import os
import subprocess
import sys
import types
import warnings
from pathlib import Path

import pytest

from deeptrack_lite import dependencies
from deeptrack_lite.dependencies import DependencyWarning, MissingDependency, opencv_advice
from deeptrack_lite.errors import DeepTrackError

ROOT = Path(__file__).resolve().parents[1]


def test_without_any_cv2_the_import_says_what_to_install():
    # -S: no site-packages, so no cv2 (nor NumPy): the package's first lines must still explain, not a traceback
    done = subprocess.run([sys.executable, "-S", "-c", "import deeptrack_lite"], capture_output=True, text=True,
                          cwd=ROOT, env=dict(os.environ, PYTHONPATH=str(ROOT)))
    assert done.returncode == 1
    last = done.stderr.strip().splitlines()[-1]
    # no torch either: the system's Python beside a clone, most likely; the message points at the course's .venv
    assert last.startswith("deeptrack_lite.dependencies.MissingDependency: this Python"), last
    assert ".venv/bin/python -m deeptrack_lite" in last and "pip install opencv-contrib-python-headless" in last


def test_with_torch_but_no_cv2_the_advice_is_to_install_opencv(monkeypatch):
    monkeypatch.setattr(dependencies.importlib.util, "find_spec", lambda name: None if name == "cv2" else object())
    monkeypatch.setattr(dependencies, "installed_opencv_wheels", lambda: {})
    with pytest.raises(MissingDependency, match="deeptrack_lite needs OpenCV.*pip install opencv-contrib-python-headless"):
        dependencies.require_opencv()


def test_missing_dependency_is_the_packages_error_and_an_import_error(monkeypatch):
    monkeypatch.setattr(dependencies.importlib.util, "find_spec", lambda name: None)
    with pytest.raises(MissingDependency) as caught:
        dependencies.require_opencv()
    assert isinstance(caught.value, DeepTrackError) and isinstance(caught.value, ImportError)


def test_advice_names_the_fix_for_each_way_opencv_can_be_wrong():
    assert "pip install opencv-contrib-python-headless" in opencv_advice({}, cv2_found=False)
    # pip lists wheels, but an uninstall of one of them took the shared cv2 folder
    text = opencv_advice({"opencv-python": "4.12.0.88", "opencv-contrib-python": "4.12.0.88"}, cv2_found=False)
    assert "pip install --force-reinstall --no-deps opencv-contrib-python==4.12.0.88" in text
    # Colab-like: contrib installed, then a plain wheel written over it
    text = opencv_advice({"opencv-python": "4.12.0.88", "opencv-contrib-python": "4.12.0.88"}, cv2_found=True)
    assert "pip install --force-reinstall --no-deps opencv-contrib-python==4.12.0.88" in text
    assert "opencv-python 4.12.0.88" in text
    # only a plain wheel: replace it
    text = opencv_advice({"opencv-python-headless": "4.13.0.92"}, cv2_found=True)
    assert "pip uninstall -y opencv-python-headless" in text and "opencv-contrib-python-headless" in text


def test_a_cv2_without_contrib_warns_with_the_fix(monkeypatch):
    plain = types.SimpleNamespace(TrackerMIL_create=object, __version__="4.12.0")  # what opencv-python offers
    monkeypatch.setitem(sys.modules, "cv2", plain)
    monkeypatch.setattr(dependencies, "installed_opencv_wheels", lambda: {"opencv-python": "4.12.0.88"})
    with pytest.warns(DependencyWarning, match="pip uninstall -y opencv-python; then pip install opencv-contrib"):
        advice = dependencies.warn_without_contrib()
    assert "KCF" in advice


_PLAIN_CV2 = """
import warnings
import cv2
for name in ("TrackerKCF_create", "TrackerKCF_Params", "TrackerCSRT_create", "TrackerCSRT_Params", "legacy"):
    delattr(cv2, name)  # what plain opencv-python lacks
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    from deeptrack_lite.trackers import create_tracker
print("WARNED", [str(w.message) for w in caught if w.category.__name__ == "DependencyWarning"])
from deeptrack_lite.errors import TrackerError
for args in (("kcf",), ("csrt",), ("mosse",), ("kcf", {"detect_thresh": 0.2})):
    try:
        create_tracker(args[0], **(args[1] if len(args) > 1 else {}))
        print("CREATED", args[0])
    except TrackerError as exc:
        print("REFUSED", args[0], exc)
create_tracker("mil"), create_tracker("cv_meanshift")
print("OK")
"""


@pytest.mark.slow
def test_with_a_plain_cv2_the_trackers_import_warn_and_only_the_contrib_ones_refuse():
    """A plain OpenCV wheel written over the contrib one (Colab, after a pip install of some other package): the
    package still imports and says the fix; creating KCF, CSRT or MOSSE says it again, whatever parameters."""
    done = subprocess.run([sys.executable, "-c", _PLAIN_CV2], capture_output=True, text=True, timeout=300,
                          env=dict(os.environ, DEEPTRACK_FAST="1"))
    assert done.returncode == 0, done.stderr[-3000:]
    lines = done.stdout.splitlines()
    assert lines[0].startswith("WARNED [\"the cv2 found lacks OpenCV's contrib trackers") and lines[-1] == "OK"
    refused = [l for l in lines if l.startswith("REFUSED")]
    assert len(refused) == 4 and not [l for l in lines if l.startswith("CREATED")], done.stdout
    assert all("lacks OpenCV's contrib trackers" in l and "pip install --force-reinstall --no-deps opencv-contrib"
               in l for l in refused), refused


def test_this_environment_has_the_contrib_trackers():
    import cv2

    assert dependencies.has_contrib(cv2)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert dependencies.warn_without_contrib() is None
    assert any(name.startswith("opencv-contrib") for name in dependencies.installed_opencv_wheels())


def test_no_opencv_wheel_is_required_and_the_extras_install_the_contrib_one():
    tomllib = pytest.importorskip("tomllib")
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert not [d for d in project["dependencies"] if d.lower().startswith("opencv")]
    extras = project["optional-dependencies"]
    for extra in ("opencv", "lab"):
        assert [d for d in extras[extra] if d.startswith("opencv-contrib-python-headless")], extra
