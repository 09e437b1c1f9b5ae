"""``python3 make.py release``: regenerate the student-facing files from the instructor's material.

- ``notebooks/``: the student edition, made from ``instructor/notebooks`` by nbgrader's own
  ``generate_assignment`` (each notebook is one assignment): every solution region becomes
  ``raise NotImplementedError``, the hidden tests of the graded cells are removed, and the graded cells are locked.
- ``deeptrack_lite/course/exercise_answers.json``: each check's varied cases at seed 0 (the ones a student's
  notebook meets) with the answers of the reference solutions. The package compares a student's function with
  these answers, so the solutions themselves never ship.

A test fails when either differs from what this writes.
"""
from __future__ import annotations

import argparse
import inspect
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from deeptrack_lite.course import exercises

from . import solutions

ROOT = Path(__file__).resolve().parents[1]
STUDENT_NOTEBOOKS = ROOT / "notebooks"
#: nbgrader's settings for this course: the stub a student starts from, as the notebooks' prose describes it
NBGRADER_CONFIG = '''c = get_config()
c.ClearSolutions.code_stub = {"python": "raise NotImplementedError"}
c.ClearSolutions.enforce_metadata = True
'''


def recorded_answers() -> dict:
    """{exercise: [the reference solution's answer to each varied case, in the order its check asks]}: each check
    is run on its own solution, with a reference that records what it returns."""
    answers = {}
    for name, (_, check) in exercises.EXERCISES.items():
        if "reference" not in inspect.signature(check).parameters:
            continue  # a check on its teaching cases only: nothing to record
        solution, seen = getattr(solutions, name), []

        def recording(*args, _solution=solution, _seen=seen):
            _seen.append(_solution(*args))
            return _seen[-1]

        result = check(solution, seed=0, reference=recording)
        if not result.passed:
            raise SystemExit(f"the reference solution {name} fails its own check: {result}")
        answers[name] = seen
    return answers


def nbgrader_course(folder: Path, source: Path = solutions.NOTEBOOKS) -> list[str]:
    """Lay out an nbgrader course in ``folder``: ``source/<stem>/<stem>.ipynb`` for each instructor notebook, and
    the course's ``nbgrader_config.py``. Returns the assignment names (the notebooks' stems)."""
    names = []
    for path in sorted(source.glob("*.ipynb")):
        (folder / "source" / path.stem).mkdir(parents=True, exist_ok=True)
        shutil.copy2(path, folder / "source" / path.stem / path.name)
        names.append(path.stem)
    (folder / "nbgrader_config.py").write_text(NBGRADER_CONFIG, encoding="utf-8")
    return names


def nbgrader_env(extra: dict = {}) -> dict:
    """This process's environment with this Python's scripts first on PATH (nbgrader calls ``alembic`` by name)."""
    scripts, path = str(Path(sys.executable).parent), os.environ.get("PATH", "")
    if path.split(os.pathsep)[0] != scripts:
        path = os.pathsep.join([scripts, path])
    return dict(os.environ, PATH=path, **extra)


def nbgrader(args: list[str], course: Path, env: dict = {}) -> subprocess.CompletedProcess:
    """Run nbgrader's command line in ``course`` with this Python's environment, plus ``env``."""
    return subprocess.run([sys.executable, "-m", "nbgrader", *args], cwd=course, env=nbgrader_env(env),
                          capture_output=True, text=True)


def generate_assignments(course: Path, names: list[str]) -> None:
    """nbgrader's ``generate_assignment`` for each name, through its Python API in this process (one process for
    all: seven fewer start-ups than its command line); fills ``course/release`` and the course's gradebook."""
    from nbgrader.apps import NbGraderAPI
    from traitlets.config import Config

    # nbgrader creates the gradebook with the `alembic` command, found on PATH: this environment's
    os.environ["PATH"] = nbgrader_env()["PATH"]
    config = Config()
    config.CourseDirectory.root = str(course)
    config.Exchange.root = str(course / "exchange")  # unused (no JupyterHub exchange); nbgrader checks it is writable
    exec(compile(NBGRADER_CONFIG, "nbgrader_config.py", "exec"), {"get_config": lambda: config})
    api = NbGraderAPI(config=config)
    for name in names:
        done = api.generate_assignment(name, force=True)
        if not done["success"]:
            raise SystemExit(f"nbgrader generate_assignment {name} failed:\n{done.get('error', '')}\n{done.get('log', '')[-3000:]}")


def generate_student_edition(dest: Path, source: Path = solutions.NOTEBOOKS) -> list[Path]:
    """Write the student edition of every instructor notebook in ``source`` into ``dest``, through nbgrader's
    ``generate_assignment``; returns the notebooks written."""
    written = []
    with tempfile.TemporaryDirectory(prefix="deeptrack-release-") as tmp:
        course = Path(tmp)
        names = nbgrader_course(course, source)
        generate_assignments(course, names)
        for name in names:
            made = course / "release" / name / f"{name}.ipynb"
            dest.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(made, dest / made.name)
            written.append(dest / made.name)
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python3 make.py release", description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="only say whether the files are up to date")
    args = parser.parse_args(argv)
    stale = []
    with tempfile.TemporaryDirectory() as tmp:
        for made in generate_student_edition(Path(tmp)):
            target = STUDENT_NOTEBOOKS / made.name
            if not target.is_file() or target.read_bytes() != made.read_bytes():
                stale.append(target)
                if not args.check:
                    shutil.copyfile(made, target)
    answers = recorded_answers()
    text, path = exercises.encode_answers(answers), exercises.ANSWERS_FILE
    if not path.is_file() or path.read_text(encoding="utf-8") != text:
        stale.append(path)
        if not args.check:
            path.write_text(text, encoding="utf-8")
    for path in stale:
        print(("differs from the release: " if args.check else "wrote ") + str(path.relative_to(ROOT)))
    if not stale:
        print(f"up to date: notebooks/ and {exercises.ANSWERS_FILE.name} "
              f"({sum(map(len, answers.values()))} recorded answers)")
    return 1 if stale and args.check else 0


if __name__ == "__main__":
    sys.exit(main())
