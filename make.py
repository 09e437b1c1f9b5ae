#!/usr/bin/env python3
"""The course's two commands (this file stands in for a Makefile: it needs nothing but Python and pip).

    python3 make.py lab     set up .venv (pinned versions) and open JupyterLab on notebooks/
    python3 make.py test    set up .venv and run every test, notebooks included, in fast mode (the browser tests
                            need a Chromium from the system's package manager; without one they are skipped, and
                            this says so)
    python3 make.py links   write the repository URL of pyproject.toml ([project.urls] Repository) into the
                            README's Binder and Colab badges and every notebook's Colab install line (a fork
                            changes that one line, then runs this; --check only says what would change)

Extra arguments go to JupyterLab or pytest, e.g. ``python3 make.py lab --no-browser`` or
``python3 make.py test -k boxes``. The environment is reinstalled only when pyproject.toml changes.
"""
from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
STAMP = VENV / "deeptrack-installed.sha256"


def venv_python() -> Path:
    return VENV / ("Scripts/python.exe" if os.name == "nt" else "bin/python")


EXTRAS = "lab,test"  # one environment for the lab and the tests


def ensure_environment(extras: str = EXTRAS) -> Path:
    if sys.version_info < (3, 10):
        sys.exit(f"deeptrack_lite needs Python 3.10 or newer; this is {sys.version.split()[0]}")
    if not venv_python().exists():
        print(f"creating {VENV} ...", flush=True)
        try:
            venv.EnvBuilder(with_pip=True).create(VENV)
        except (subprocess.CalledProcessError, OSError):
            # Some system Pythons ship venv without ensurepip: make the environment without pip and
            # let this Python's own pip install into it (pip >= 22.3, --python).
            venv.EnvBuilder(with_pip=False, clear=True).create(VENV)
    has_pip = subprocess.run([str(venv_python()), "-m", "pip", "--version"], capture_output=True).returncode == 0
    pip = [str(venv_python()), "-m", "pip"] if has_pip else [sys.executable, "-m", "pip", "--python", str(venv_python())]
    want = hashlib.sha256((ROOT / "pyproject.toml").read_bytes() + extras.encode()).hexdigest()
    have = STAMP.read_text().strip() if STAMP.exists() else ""
    if want not in have.split():
        print(f"installing deeptrack_lite[{extras}] with pinned versions ...", flush=True)
        if has_pip:
            subprocess.run([*pip, "install", "--quiet", "--upgrade", "pip"], check=True)
        subprocess.run([*pip, "install", "--quiet", "-e", f".[{extras}]"], check=True, cwd=ROOT)
        STAMP.write_text(have + "\n" + want if have else want)
    return venv_python()


def lab(args: list[str]) -> int:
    python = ensure_environment()
    if hasattr(os, "geteuid") and os.geteuid() == 0 and "--allow-root" not in args:
        args = ["--allow-root", *args]  # containers and lab machines often run as root; Jupyter refuses otherwise
    return subprocess.call([str(python), "-m", "jupyterlab", "--notebook-dir", str(ROOT / "notebooks"), *args], cwd=ROOT)


CHROMIUM_HINT = ("install Chromium with the system's package manager (Debian/Ubuntu: sudo apt install chromium; "
                 "macOS: brew install --cask chromium) or set DEEPTRACK_CHROMIUM to a Chromium or Chrome program")


def find_chromium() -> str | None:
    """The Chromium the browser tests drive: $DEEPTRACK_CHROMIUM, else the first of the usual names on PATH."""
    named = os.environ.get("DEEPTRACK_CHROMIUM", "").strip()
    if named:
        return shutil.which(named) or (named if Path(named).is_file() else None)
    for name in ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "chrome"):
        found = shutil.which(name)
        if found:
            return found
    return None


def test(args: list[str]) -> int:
    python = ensure_environment()
    env = dict(os.environ, DEEPTRACK_FAST="1", MPLBACKEND="Agg")
    if find_chromium() is None:
        print(f"browser tests (JupyterLab widgets in Chromium) will be SKIPPED: no Chromium found; {CHROMIUM_HINT}", flush=True)
    return subprocess.call([str(python), "-m", "pytest", *args], cwd=ROOT, env=env)


_REPOSITORY = re.compile(r'^Repository\s*=\s*"(https://github\.com/([\w.-]+/[\w.-]+?))/?"\s*$', re.M)
# what each link looks like, with the owner/name in it replaced
_LINKS = {
    "README.md": [(r"https://mybinder\.org/v2/gh/[\w.-]+/[\w.-]+/", "https://mybinder.org/v2/gh/{slug}/"),
                  (r"https://colab\.research\.google\.com/github/[\w.-]+/[\w.-]+/",
                   "https://colab.research.google.com/github/{slug}/")],
    "notebooks/*.ipynb": [(r"git\+https://github\.com/[\w.-]+/[\w.-]+?(?=[\\\"@#])", "git+{url}")],
}


def repository(root: Path = ROOT) -> tuple[str, str]:
    """(URL, owner/name) of the repository, set once in pyproject.toml's [project.urls] as ``Repository = "..."``."""
    found = _REPOSITORY.search((root / "pyproject.toml").read_text(encoding="utf-8"))
    if not found:
        raise SystemExit('pyproject.toml: [project.urls] needs Repository = "https://github.com/OWNER/NAME"')
    return found.group(1), found.group(2)


def linked_files(root: Path = ROOT) -> dict[Path, str]:
    """The files whose links do not name the repository yet, with their text as it should be."""
    url, slug = repository(root)
    changed = {}
    for pattern, rules in _LINKS.items():
        for path in sorted(root.glob(pattern)):
            text = new = path.read_text(encoding="utf-8")
            for regex, template in rules:
                new = re.sub(regex, template.format(url=url, slug=slug), new)
            if new != text:
                changed[path] = new
    return changed


def links(args: list[str]) -> int:
    changed = linked_files()
    for path, text in changed.items():
        if "--check" not in args:
            path.write_text(text, encoding="utf-8")
        print(("would update " if "--check" in args else "updated ") + str(path.relative_to(ROOT)))
    if not changed:
        print(f"every badge and install line names {repository()[0]}")
    return 1 if changed and "--check" in args else 0


def main() -> int:
    commands = {"lab": lab, "test": test, "links": links}
    if len(sys.argv) < 2 or sys.argv[1] not in commands:
        print(__doc__)
        return 2
    return commands[sys.argv[1]](sys.argv[2:])


if __name__ == "__main__":
    sys.exit(main())
