"""Colab, imitated: a fresh virtual environment holding what Colab's runtime holds (tests/colab_runtime.txt: torch,
both OpenCV wheels, IPython and ipykernel at Colab's versions), a kernel in which ``google.colab`` is imported as on
Colab, and then notebook 00's first cells run as a student runs them on Colab, install cell included, exactly as
written in the notebook. GitHub is the one thing replaced: git is told (``url.<base>.insteadOf``) to fetch the
notebook's repository URL from a snapshot of this working tree, so the test needs no network to GitHub and checks
the code it sits beside. PyPI is reached for what Colab lacks (it is on a real Colab too).

Checked: the install keeps Colab's torch, OpenCV wheels, NumPy and ipywidgets (pip changes none of them and adds
no third OpenCV copy), ``import deeptrack_lite`` comes from the installed package, and KCF and CSRT run.
"""
from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
RUNTIME = Path(__file__).with_name("colab_runtime.txt")
NOTEBOOK = ROOT / "notebooks" / "00_welcome.ipynb"
LAST_CELL = "2cba49a3"  # KCF and CSRT on ShuttleExit, shown in the frame player

pytestmark = pytest.mark.colab


def _run(args, **kwargs):
    done = subprocess.run(args, capture_output=True, text=True, **kwargs)
    assert done.returncode == 0, f"{' '.join(map(str, args))}\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    return done.stdout


def _freeze(python: Path) -> dict[str, str]:
    out = _run([str(python), "-m", "pip", "list", "--format=json"])
    return {p["name"].lower().replace("_", "-"): p["version"] for p in json.loads(out)}


def _snapshot_repository(dest: Path) -> Path:
    """A git repository of this working tree's files (tracked and not ignored): what a push would publish."""
    listed = _run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], cwd=ROOT).split("\0")
    for rel in filter(None, listed):
        src = ROOT / rel
        if src.is_file():
            (dest / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dest / rel)
    git = ["git", "-c", "user.name=test", "-c", "user.email=test@localhost", "-c", "init.defaultBranch=main"]
    _run([*git, "init", "-q"], cwd=dest)
    _run([*git, "add", "-A"], cwd=dest)
    _run([*git, "commit", "-q", "-m", "snapshot for the Colab imitation"], cwd=dest)
    return dest


def test_the_notebook_install_cell_works_beside_colabs_packages(tmp_path, monkeypatch, package_index):
    if shutil.which("git") is None or not (ROOT / ".git").exists():
        pytest.skip("needs git and a git checkout (the notebook installs from a git URL)")
    import nbformat
    from nbclient import NotebookClient

    # 1. Colab's runtime, preinstalled
    venv = tmp_path / "colab"
    _run([sys.executable, "-m", "venv", str(venv)])
    python = venv / "bin" / "python"
    for line in RUNTIME.read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            # --no-compile: Colab's runtime is only scenery here, and compiling its modules cost about 9 s of CI
            _run([str(python), "-m", "pip", "install", "-q", "--no-compile", *line.split()])
    before = _freeze(python)
    site = Path(_run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"]).strip())
    (site / "google" / "colab").mkdir(parents=True)
    (site / "google" / "colab" / "__init__.py").write_text('"""Stand-in for Colab\'s module (tests/test_colab.py)."""\n')

    # 2. a kernel as Colab starts it: google.colab imported; GitHub's URL fetched from a snapshot of this tree
    nb = nbformat.read(NOTEBOOK, as_version=4)
    install = "".join(nb.cells[1].source)
    url = install.split("git+", 1)[1].split('"', 1)[0]
    assert install.count("%pip install") == 1 and url.startswith("https://github.com/"), install
    repo = _snapshot_repository(tmp_path / "repository")
    ipython_dir = tmp_path / "ipython"
    (ipython_dir / "profile_default" / "startup").mkdir(parents=True)
    (ipython_dir / "profile_default" / "startup" / "00-colab.py").write_text("import google.colab\n")
    kernels = tmp_path / "jupyter" / "kernels" / "colab"
    kernels.mkdir(parents=True)
    (kernels / "kernel.json").write_text(json.dumps({
        "argv": [str(python), "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "Colab imitation", "language": "python",
        "env": {"IPYTHONDIR": str(ipython_dir), "DEEPTRACK_FAST": "1", "PYDEVD_DISABLE_FILE_VALIDATION": "1",
                "MPLBACKEND": "module://matplotlib_inline.backend_inline",
                "GIT_CONFIG_COUNT": "1", "GIT_CONFIG_KEY_0": f"url.{repo.as_uri()}.insteadOf", "GIT_CONFIG_VALUE_0": url}}))
    monkeypatch.setenv("JUPYTER_PATH", str(tmp_path / "jupyter"))

    # 3. notebook 00 from its first cell through KCF and CSRT, as written
    last = [c.get("id") for c in nb.cells].index(LAST_CELL)
    nb.cells = nb.cells[:last + 1]
    nb.cells.append(nbformat.v4.new_code_cell(
        "import cv2, deeptrack_lite\nprint('DEEPTRACK_AT', deeptrack_lite.__file__)\n"
        "print('CV2_CONTRIB', dtl.dependencies.has_contrib(cv2), cv2.__version__)"))
    work = tmp_path / "work"
    work.mkdir()
    NotebookClient(nb, timeout=900, kernel_name="colab", resources={"metadata": {"path": str(work)}}).execute()
    errors = [o for c in nb.cells for o in c.get("outputs", []) if o.get("output_type") == "error"]
    assert not errors, "\n".join("\n".join(e["traceback"])[-3000:] for e in errors)
    printed = "".join(o.get("text", "") for c in nb.cells for o in c.get("outputs", []) if o.get("output_type") == "stream")
    assert "kcf:" in printed and "csrt:" in printed and "frames/s" in printed, printed[-2000:]
    at = next(line.split(" ", 1)[1] for line in printed.splitlines() if line.startswith("DEEPTRACK_AT"))
    assert Path(at).is_relative_to(site), f"deeptrack_lite was imported from {at}, not from the installed package"
    assert "CV2_CONTRIB True" in printed, printed[-2000:]

    # 4. Colab's own packages untouched; what the install added
    after = _freeze(python)
    changed = {name: (version, after.get(name)) for name, version in before.items() if after.get(name) != version}
    assert not changed, f"the install changed Colab's packages: {changed}"
    added = sorted(set(after) - set(before))
    assert "deeptrack-lite" in added, added
    assert not [name for name in added if name.startswith("opencv")], f"a second OpenCV copy was installed: {added}"
    print("the install added:", ", ".join(f"{n} {after[n]}" for n in added))
