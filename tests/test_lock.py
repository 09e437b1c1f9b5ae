"""locks/lab.txt pins the whole environment make.py installs; it must follow pyproject.toml, and torch comes apart."""
import hashlib
import re
from pathlib import Path

from conftest import load_make_script

ROOT = Path(__file__).resolve().parents[1]


def _locked() -> dict[str, list[str]]:
    found = {}
    for line in (ROOT / "locks" / "lab.txt").read_text().splitlines():
        if line and not line.startswith((" ", "#")):
            name, rest = line.split("==", 1)
            found.setdefault(name.lower(), []).append(rest.split(";")[0].strip())
    return found


def test_the_lock_was_made_from_this_pyproject():
    header = (ROOT / "locks" / "lab.txt").read_text().split("\n", 5)[:5]
    digest = hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()
    assert any(digest in line for line in header), "pyproject.toml changed: run python3 make.py lock, commit both"


def test_every_pin_of_pyproject_is_in_the_lock_and_torch_is_not():
    locked = _locked()
    text = (ROOT / "pyproject.toml").read_text()
    pins = dict(re.findall(r'^\s*"([A-Za-z0-9_.-]+)==([^"; ]+)"', text, re.M))
    assert "torch" in pins and len(pins) > 10
    for name, version in pins.items():
        if name == "torch":
            continue
        assert locked.get(name.lower().replace("_", "-")) == [version], f"{name}=={version} is not what the lock has"
    assert "torch" not in locked
    assert not [n for n in locked if re.match(r"nvidia-|triton$|cuda-", n)], "the CUDA runtime crept into the lock"


def test_torch_is_the_cpu_build_on_linux_unless_cuda_is_asked_for(monkeypatch):
    make = load_make_script()
    monkeypatch.setattr(make.sys, "platform", "linux")
    monkeypatch.delenv("DEEPTRACK_TORCH", raising=False)
    assert make.torch_variant([]) == "cpu" and make.torch_variant(["--cuda"]) == "cuda"
    monkeypatch.setattr(make, "_reachable", lambda url, timeout=5.0: True)
    (cpu,) = make.torch_install_commands("cpu", "2.13.0")
    assert cpu[-1] == "torch==2.13.0+cpu" and "--no-deps" in cpu and make.TORCH_CPU_INDEX in cpu
    monkeypatch.setattr(make, "_reachable", lambda url, timeout=5.0: False)  # an offline mirror: pip's own sources
    (offline,) = make.torch_install_commands("cpu", "2.13.0")
    assert offline[-1] == "torch==2.13.0+cpu" and make.TORCH_CPU_INDEX not in offline
    cuda = make.torch_install_commands("cuda", "2.13.0")
    assert all(c[-1] == "torch==2.13.0" and make.PYPI in c for c in cuda) and "--no-deps" not in cuda[-1]
    monkeypatch.setenv("DEEPTRACK_TORCH", "cuda")
    assert make.torch_variant([]) == "cuda"
    monkeypatch.setattr(make.sys, "platform", "darwin")
    assert make.torch_variant([]) == "pypi"


def test_binder_installs_the_same_lock_and_torch():
    make = load_make_script()
    binder = (ROOT / "environment.yml").read_text()
    assert "-r locks/lab.txt" in binder and f"torch=={make.lab_pin('torch')}+cpu" in binder
