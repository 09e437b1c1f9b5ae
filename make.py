#!/usr/bin/env python3
"""The course's two commands (this file stands in for a Makefile: it needs nothing but Python and pip).

    python3 make.py lab     set up .venv (locks/lab.txt, torch's CPU build on Linux) and open JupyterLab on notebooks/
                            (--cuda: PyPI's CUDA build of torch instead, for a machine with an NVIDIA GPU)
    python3 make.py test    set up .venv and run every test, notebooks included, in fast mode (the browser tests
                            need a Chromium from the system's package manager; without one they are skipped, and
                            this says so); --quick: the everyday subset, without the notebooks, the browser,
                            Colab and VOT-toolkit tests and the tests marked slow. Two CPUs or more: one
                            pytest-xdist worker per CPU (at most six) shares them
    python3 make.py links   write the repository URL of pyproject.toml ([project.urls] Repository) into the
                            README's Binder and Colab badges and every notebook's Colab install line (a fork
                            changes that one line, then runs this; --check only says what would change)

    python3 make.py release write the student edition into notebooks/ from the instructor's in instructor/notebooks
                            (nbgrader's generate_assignment), and the answers the exercise checks compare with;
                            --check only says whether both are up to date

    python3 make.py grade SUBMISSIONS [--out DIR]
                            grade a folder of submitted notebooks (SUBMISSIONS/<student>/<notebook>.ipynb) with
                            nbgrader's autograder, headless in fast mode: scores.csv, reasons.csv and nbgrader's export

    python3 make.py lock    write locks/lab.txt again from pyproject.toml (needs the network; run it after changing
                            a version there, and commit both); it keeps the pins it can, --upgrade moves them all

Extra arguments go to JupyterLab or pytest, e.g. ``python3 make.py lab --no-browser`` or
``python3 make.py test -k boxes``. The environment is reinstalled only when pyproject.toml, the lock or the torch build asked for changes.
"""
from __future__ import annotations

import hashlib
import os
import re
import shutil
import signal
import subprocess
import sys
import time
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
STAMP = VENV / "deeptrack-installed.sha256"


def venv_python() -> Path:
    return VENV / ("Scripts/python.exe" if os.name == "nt" else "bin/python")


EXTRAS = "lab,test"  # one environment for the lab and the tests
LOCK = ROOT / "locks" / "lab.txt"  # every package of that environment but torch, pinned: `python3 make.py lock`
TORCH_CPU_INDEX = "https://download.pytorch.org/whl/cpu"
PYPI = "https://pypi.org/simple"
# PyTorch's CUDA runtime, pulled in by PyPI's Linux torch: never in the lock (the CPU build needs none of it)
CUDA_ONLY = re.compile(r"^(nvidia-[\w.-]+|triton|cuda-[\w.-]+)$")
UV = "uv==0.13.9"  # the resolver `make.py lock` uses


def lab_pin(name: str) -> str:
    """The version the `lab` extra of pyproject.toml pins ``name`` to (``torch`` -> ``2.13.0``)."""
    found = re.search(rf'^\s*"{re.escape(name)}==([^"; ]+)"', (ROOT / "pyproject.toml").read_text(encoding="utf-8"), re.M)
    if not found:
        raise SystemExit(f"pyproject.toml: the lab extra pins no {name}")
    return found.group(1)


def torch_variant(args: list[str]) -> str:
    """``cpu`` (the default on Linux) or ``cuda`` (``--cuda`` or DEEPTRACK_TORCH=cuda); ``pypi`` on macOS and Windows,
    whose PyPI builds are the right ones (Apple's MPS, or the CPU)."""
    wanted = "cuda" if "--cuda" in args else os.environ.get("DEEPTRACK_TORCH", "").strip().lower() or "cpu"
    if wanted not in ("cpu", "cuda"):
        raise SystemExit(f"DEEPTRACK_TORCH={wanted!r}: use cpu or cuda")
    return wanted if sys.platform.startswith("linux") else "pypi"


def _reachable(url: str, timeout: float = 5.0) -> bool:
    import socket
    from urllib.parse import urlparse

    host = urlparse(url).hostname
    try:
        with socket.create_connection((host, 443), timeout=timeout):
            return True
    except OSError:
        return False


def torch_install_commands(variant: str, version: str) -> list[list[str]]:
    """The pip arguments that install torch ``version`` as ``variant`` (its other dependencies are in the lock)."""
    if variant == "cpu":
        # PyTorch's CPU index holds the +cpu builds (192 MB, against about 2 GB of CUDA packages from PyPI). Where it
        # cannot be reached (an offline mirror), pip's own configured sources may still hold the same wheel.
        index = ["--index-url", TORCH_CPU_INDEX] if _reachable(TORCH_CPU_INDEX) else []
        return [["install", "--no-deps", *index, f"torch=={version}+cpu"]]
    if variant == "cuda":  # PyPI's Linux build, with the CUDA packages it pins
        return [["install", "--force-reinstall", "--no-deps", "--index-url", PYPI, f"torch=={version}"],
                ["install", "--index-url", PYPI, f"torch=={version}"]]
    return [["install", "--no-deps", f"torch=={version}"]]


def ensure_environment(args: list[str] = ()) -> tuple[Path, list[str]]:
    """Create .venv and install the locked environment in it (again only when pyproject.toml, the lock or the torch
    variant changed). Returns its Python, and ``args`` without make.py's own ``--cuda``."""
    if sys.version_info < (3, 11):
        sys.exit(f"the course's pinned environment needs Python 3.11 or newer (NumPy 2.4); this is {sys.version.split()[0]}")
    variant = torch_variant(list(args))
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
    want = hashlib.sha256((ROOT / "pyproject.toml").read_bytes() + LOCK.read_bytes() + variant.encode()).hexdigest()
    have = STAMP.read_text().strip() if STAMP.exists() else ""
    if want not in have.split():
        start = time.monotonic()
        version = lab_pin("torch")
        print(f"installing the locked environment ({LOCK.relative_to(ROOT)}) and torch {version} "
              f"({ {'cpu': 'CPU build', 'cuda': 'CUDA build from PyPI', 'pypi': 'PyPI build'}[variant]}) ...", flush=True)
        if has_pip:
            subprocess.run([*pip, "install", "--quiet", "--upgrade", "pip"], check=True)
        subprocess.run([*pip, "install", "--quiet", "-r", str(LOCK)], check=True, cwd=ROOT)
        for command in torch_install_commands(variant, version):
            if subprocess.run([*pip, *command, "--quiet"], cwd=ROOT).returncode != 0:
                sys.exit(f"could not install torch {version} ({variant}); on a machine with an NVIDIA GPU and no access "
                         f"to {TORCH_CPU_INDEX}, try: python3 make.py lab --cuda")
        subprocess.run([*pip, "install", "--quiet", "--no-deps", "-e", "."], check=True, cwd=ROOT)
        installed = subprocess.run([str(venv_python()), "-c", "import torch; print(torch.__version__)"],
                                   capture_output=True, text=True).stdout.strip()
        print(f"installed in {time.monotonic() - start:.0f} s; torch {installed}", flush=True)
        STAMP.write_text(have + "\n" + want if have else want)
    return venv_python(), [a for a in args if a != "--cuda"]


def lock(args: list[str]) -> int:
    """Write locks/lab.txt: the `lab` and `test` extras resolved for Python 3.11+ on Linux, macOS and Windows (uv's
    universal resolution), without torch (make.py installs the build the machine needs) nor PyTorch's CUDA runtime.
    The pins already in the lock are kept where pyproject.toml still allows them, so adding one package adds it and
    what it needs and moves nothing else; ``--upgrade`` resolves every package to its newest allowed version."""
    import tempfile

    tools = Path(tempfile.mkdtemp(prefix="deeptrack-lock-"))  # uv beside, not inside, the environment it locks
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--target", str(tools), UV], check=True)
    uv = next(p for p in (tools / "bin" / "uv", tools / "bin" / "uv.exe") if p.exists())
    extras = [arg for extra in EXTRAS.split(",") for arg in ("--extra", extra)]
    resolved = tools / "lab.txt"  # uv prefers the versions an existing output file pins
    if LOCK.exists() and "--upgrade" not in args:
        shutil.copy(LOCK, resolved)
    compile_ = [str(uv), "pip", "compile", "pyproject.toml", *extras, "--universal", "--python-version", "3.11",
                "--index-url", PYPI, "--no-header", "--quiet", "--output-file", str(resolved)]
    subprocess.run(compile_, capture_output=True, text=True, check=True, cwd=ROOT)
    text = resolved.read_text(encoding="utf-8")
    shutil.rmtree(tools, ignore_errors=True)
    cuda = sorted({_block_name(line) for line in text.splitlines() if CUDA_ONLY.match(_block_name(line))})
    kept = _drop_blocks(text, {"torch", *cuda})
    digest = hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()
    header = (f"# The course's environment, every package pinned: `python3 make.py lock` wrote this with {UV} from\n"
              f"# pyproject.toml's lab and test extras (sha256 {digest}),\n"
              f"# resolved for Python 3.11+ on Linux, macOS and Windows. torch is not here: make.py installs\n"
              f"# torch=={lab_pin('torch')} itself, the CPU build on Linux ({TORCH_CPU_INDEX}), `--cuda` for PyPI's\n"
              f"# CUDA build. PyTorch's CUDA runtime ({len(cuda)} packages: nvidia-*, triton) is left out.\n")
    LOCK.write_text(header + kept, encoding="utf-8")
    print(f"wrote {LOCK.relative_to(ROOT)}: {sum(1 for l in kept.splitlines() if '==' in l and not l.startswith(' '))} packages")
    return 0


def _block_name(line: str) -> str:
    return "" if line.startswith((" ", "#")) else re.split(r"[=<>; ]", line, maxsplit=1)[0].strip().lower()


def _drop_blocks(text: str, names: set[str]) -> str:
    """uv's output without the named requirements' blocks (each one's line and the `# via` lines under it)."""
    out, skipping = [], False
    for line in text.splitlines(keepends=True):
        name = _block_name(line)
        if name:  # a requirement's line starts a block; its `# via` lines follow it
            skipping = name in names
        if not skipping:
            out.append(line)
    return "".join(out)


def run_forwarding_signals(command: list[str], **kwargs) -> int:
    """Run a command to its end and return its exit code. Ctrl-C and SIGTERM go to the command and let it stop as
    it chooses (Jupyter shuts its kernels down, pytest prints its summary); this script prints no traceback and
    never kills it. A terminal's Ctrl-C already reaches the command (same foreground process group), so SIGINT is
    passed on only when it came from elsewhere (``kill -INT``, a process manager)."""
    child = None

    def forward(signum, frame):
        if signum == signal.SIGINT and _terminal_delivers_to_child():
            return
        if child is not None and child.poll() is None:
            child.send_signal(signum)

    # Handlers first: the child then starts with SIGINT's default action even where this script was started with
    # SIGINT ignored (`make.py lab &` in a script: the shell ignores it for background commands, and an ignored
    # signal stays ignored across exec, so Jupyter would never see a forwarded Ctrl-C).
    previous = {s: signal.signal(s, forward) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        child = subprocess.Popen(command, **kwargs)
        while True:
            try:
                code = child.wait()
                return 128 - code if code < 0 else code  # killed by a signal: the shell's convention
            except KeyboardInterrupt:  # (only if a handler was not installed in time)
                continue
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)


def _terminal_delivers_to_child() -> bool:
    """Whether this process is in its terminal's foreground process group (the child, started in it, is too)."""
    try:
        return os.tcgetpgrp(sys.stdin.fileno()) == os.getpgrp()
    except (OSError, AttributeError, ValueError):  # no terminal (CI, a test, a service), or Windows
        return False


def lab(args: list[str]) -> int:
    python, args = ensure_environment(args)
    if hasattr(os, "geteuid") and os.geteuid() == 0 and "--allow-root" not in args:
        args = ["--allow-root", *args]  # containers and lab machines often run as root; Jupyter refuses otherwise
    return run_forwarding_signals([str(python), "-m", "jupyterlab", "--notebook-dir", str(ROOT / "notebooks"), *args],
                                  cwd=ROOT)


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


#: what ``test --quick`` leaves out: the notebooks, the browser, Colab and VOT-toolkit tests, and the tests marked
#: slow (training runs, clusters, whole benchmarks); CI runs everything
QUICK = "not (notebook or browser or colab or vot_toolkit or slow)"


def available_cpus() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # no affinity on macOS and Windows
        return os.cpu_count() or 1


def test_workers(args: list[str], cpus: int) -> tuple[list[str], dict]:
    """pytest-xdist arguments and environment for ``args``: on two CPUs or more, when the caller chose nothing
    (``-n``, ``--dist``), one worker per CPU (at most six), each with an equal share of the CPUs for its torch and
    OpenCV threads. Two processes of two threads each on two cores slow each other several times; two of one thread
    each ran the suite of a fresh clone here in 12 min 37 s instead of 19 min 49 s. A third worker did not help:
    the tests' summed time grew by 59%, more than the third worker could take on.
    Tests go out one at a time as workers free up (``--maxschedchunk 1``), the long ones first (tests/conftest.py):
    the notebooks take a minute each, most tests a second, and no worker should be left with a queue of notebooks
    while the others idle."""
    chosen = any(a.startswith(("-n", "--numprocesses", "--dist", "--maxschedchunk")) or a == "no:xdist" for a in args)
    if chosen or cpus < 2:
        return list(args), {}
    workers = min(cpus, 6)
    threads = os.environ.get("DEEPTRACK_THREADS") or str(max(1, cpus // workers))  # the user's setting wins
    return ["-n", str(workers), "--dist", "load", "--maxschedchunk", "1", *args], {"DEEPTRACK_THREADS": threads}


def test(args: list[str]) -> int:
    quick = "--quick" in args
    args = [a for a in args if a != "--quick"]
    python, args = ensure_environment(args)
    if quick:
        args = ["-m", QUICK, *args]  # a later -m of the caller's takes over
    args, worker_env = test_workers(args, available_cpus())
    env = dict(os.environ, DEEPTRACK_FAST="1", MPLBACKEND="Agg", **worker_env)
    if find_chromium() is None:
        print(f"browser tests (JupyterLab widgets in Chromium) will be SKIPPED: no Chromium found; {CHROMIUM_HINT}", flush=True)
    return run_forwarding_signals([str(python), "-m", "pytest", *args], cwd=ROOT, env=env)


_REPOSITORY = re.compile(r'^Repository\s*=\s*"(https://github\.com/([\w.-]+/[\w.-]+?))/?"\s*$', re.M)
# what each link looks like, with the owner/name in it replaced
_LINKS = {
    "README.md": [(r"https://mybinder\.org/v2/gh/[\w.-]+/[\w.-]+/", "https://mybinder.org/v2/gh/{slug}/"),
                  (r"https://colab\.research\.google\.com/github/[\w.-]+/[\w.-]+/",
                   "https://colab.research.google.com/github/{slug}/")],
    "notebooks/*.ipynb": [(r"git\+https://github\.com/[\w.-]+/[\w.-]+?(?=[\\\"@#])", "git+{url}")],
}
_LINKS["instructor/notebooks/*.ipynb"] = _LINKS["notebooks/*.ipynb"]  # the edition notebooks/ is released from


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


def release(args: list[str]) -> int:
    python, _ = ensure_environment()
    return subprocess.run([str(python), "-m", "instructor.release", *args], cwd=ROOT).returncode


def grade(args: list[str]) -> int:
    python, _ = ensure_environment()
    # run where the caller is, so that the submissions and --out are the paths they named; instructor/ on the path
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])))
    return subprocess.run([str(python), "-m", "instructor.grade", *args], env=env).returncode


def main() -> int:
    commands = {"lab": lab, "test": test, "links": links, "lock": lock, "release": release, "grade": grade}
    if len(sys.argv) < 2 or sys.argv[1] not in commands:
        print(__doc__)
        return 2
    try:
        return commands[sys.argv[1]](sys.argv[2:])
    except KeyboardInterrupt:  # while setting up: pip stops on its own; run the command again to finish
        print("\ninterrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
