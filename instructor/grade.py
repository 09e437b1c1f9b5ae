"""``python3 make.py grade SUBMISSIONS``: grade a folder of submitted notebooks with nbgrader's own autograder.

``SUBMISSIONS`` holds one folder per student with the notebooks they hand in, named as released
(``alice/00_welcome.ipynb``, ``bob/05_mdnet.ipynb``...). For each notebook handed in, this

1. lays out an nbgrader course (``<out>/course``) from the instructor's notebooks and runs
   ``nbgrader generate_assignment`` (the gradebook learns each graded cell and its points);
2. runs ``nbgrader autograde`` on each submission, headless and in fast mode (``DEEPTRACK_FAST=1``), with a limit
   per cell and a limit per notebook. nbgrader puts back the graded cells as the instructor wrote them, hidden
   tests included, so a student who edits or deletes them changes nothing; each graded cell is worth its points
   when it runs without an error;
3. writes ``<out>/scores.csv`` (one row per student, one column per exercise, and the total), ``<out>/reasons.csv``
   (one row per exercise that lost its points, with the error that cost them) and nbgrader's own export for a
   learning-management system, ``<out>/nbgrader_grades.csv`` (``nbgrader export``; its plug-ins write Canvas's
   format).

A submission that is not a notebook, raises, hangs or has lost cells scores zero on what it broke, with the reason
in ``reasons.csv``, and the grading goes on with the others.
"""
from __future__ import annotations

import argparse
import csv
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from deeptrack_lite.course.exercises import EXERCISES

from .release import ROOT, generate_assignments, nbgrader, nbgrader_course, nbgrader_env
from .solutions import NOTEBOOKS as INSTRUCTOR_NOTEBOOKS

#: added to the course's nbgrader_config.py: nbgrader's executor, waiting for each cell's reply in short polls
#: (with widget traffic, one long wait can miss the reply: jupyter/nbclient#312, which the notebook tests also meet)
POLLING_CONFIG = '''
from instructor.grade import PollingExecute
from nbconvert.preprocessors import ClearMetadataPreprocessor
from nbgrader.preprocessors import AssignLatePenalties, CheckCellMetadata, IgnorePattern, LimitOutput, SaveAutoGrades
c.Autograde.autograde_preprocessors = [PollingExecute, IgnorePattern, ClearMetadataPreprocessor, LimitOutput,
                                       SaveAutoGrades, AssignLatePenalties, CheckCellMetadata]
'''


def _polling_execute():
    from nbgrader.preprocessors import Execute

    from deeptrack_lite.course.timing import polling

    return polling(Execute)


def __getattr__(name):  # nbgrader's config imports PollingExecute; nbgrader itself loads only then
    if name == "PollingExecute":
        return _polling_execute()
    raise AttributeError(name)


@dataclass
class Graded:
    """One student's notebook: points per exercise, and why points were lost."""
    student: str
    notebook: str
    scores: dict = field(default_factory=dict)    # exercise -> points
    maximum: dict = field(default_factory=dict)   # exercise -> points possible
    reasons: dict = field(default_factory=dict)   # exercise -> why it lost its points
    seconds: float = 0.0


GRADED = "grade_"  # a graded cell's grade id is this and its exercise's name (its solution cell's grade id)


def _nbgrader_meta(cell: dict) -> dict:
    return cell.get("metadata", {}).get("nbgrader", {})


def _graded_exercise(cell: dict) -> str | None:
    """The exercise a graded cell grades, or None for any other cell."""
    meta = _nbgrader_meta(cell)
    grade_id = meta.get("grade_id", "")
    return grade_id[len(GRADED):] if meta.get("grade") and grade_id.startswith(GRADED) else None


def graded_cells(notebook: Path) -> dict:
    """{exercise: points} of an instructor notebook's graded cells."""
    cells = json.loads(notebook.read_text(encoding="utf-8"))["cells"]
    return {_graded_exercise(c): float(_nbgrader_meta(c).get("points", 0)) for c in cells if _graded_exercise(c)}


def _not_a_notebook(path: Path) -> str | None:
    import nbformat

    try:
        nbformat.validate(nbformat.reads(path.read_text(encoding="utf-8"), as_version=4))
    except Exception as exc:  # JSON, encoding or schema: any of them leaves nothing to run
        return f"not a valid notebook ({type(exc).__name__}: {str(exc).splitlines()[0][:200]})"
    return None


def _with_graded_cells(text: str, instructor: Path) -> tuple[str, list[str]]:
    """A submission with every graded cell it lost put back, after its exercise's cell (or at the end when that is
    gone too): nbgrader grades only the graded cells it finds. Returns the notebook's text and the exercises whose
    graded cell was put back."""
    nb = json.loads(text)
    present = {_graded_exercise(c) for c in nb["cells"]}
    restored = []
    for cell in json.loads(instructor.read_text(encoding="utf-8"))["cells"]:
        exercise = _graded_exercise(cell)
        if exercise is None or exercise in present:
            continue
        after = [i for i, c in enumerate(nb["cells"]) if _nbgrader_meta(c).get("grade_id") == exercise]
        nb["cells"].insert(after[0] + 1 if after else len(nb["cells"]), dict(cell, outputs=[], execution_count=None))
        restored.append(exercise)
    return (json.dumps(nb) if restored else text), restored


def _error_text(out: dict, cell_timeout: int) -> str:
    if out.get("ename") == "CellTimeoutError":
        return f"ran past the {cell_timeout} s limit for one cell"
    return " ".join(f"{out.get('ename', '')}: {out.get('evalue', '')}".split())


def _errors_by_exercise(autograded: Path, cell_timeout: int) -> dict:
    """{exercise: the error its graded cell printed}, from nbgrader's executed copy of a submission."""
    graded, exercise_cells = {}, {}
    for cell in json.loads(autograded.read_text(encoding="utf-8"))["cells"]:
        errors = [_error_text(out, cell_timeout) for out in cell.get("outputs", []) if out.get("output_type") == "error"]
        if errors and _graded_exercise(cell):
            graded[_graded_exercise(cell)] = errors[-1][:500]
        elif errors and _nbgrader_meta(cell).get("solution"):
            exercise_cells[_nbgrader_meta(cell)["grade_id"]] = errors[-1][:300]
    # a graded cell that fails because its exercise cell did (a timeout, a syntax error) says so first
    return {name: (f"its exercise cell failed ({exercise_cells[name]}); then {error}" if name in exercise_cells
                   else error) for name, error in graded.items()}


def _run_limited(args: list[str], course: Path, env: dict, limit: float) -> tuple[int | None, str]:
    """nbgrader in its own process group, killed with its kernel when it runs past ``limit`` seconds."""
    proc = subprocess.Popen([sys.executable, "-m", "nbgrader", *args], cwd=course, env=nbgrader_env(env),
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True)
    try:
        out, _ = proc.communicate(timeout=limit)
        return proc.returncode, out
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        out, _ = proc.communicate()
        return None, out


def grade_submissions(submissions: Path, out: Path, *, source: Path = INSTRUCTOR_NOTEBOOKS,
                      cell_timeout: int = 300, notebook_limit: int = 900, progress=print) -> list[Graded]:
    """Grade every ``submissions/<student>/<notebook>.ipynb`` against the instructor notebooks in ``source``; writes
    the tables into ``out`` and returns one :class:`Graded` per student and notebook."""
    from nbgrader.api import Gradebook, MissingEntry

    submissions, out = Path(submissions).resolve(), Path(out).resolve()  # nbgrader runs in the course folder
    if not submissions.is_dir():
        raise SystemExit(f"{submissions}: no such folder (one folder per student, holding their notebooks)")
    assignments = {p.stem: p for p in sorted(source.glob("*.ipynb"))}
    handed_in = sorted((s.name, p) for s in submissions.iterdir() if s.is_dir() for p in sorted(s.glob("*.ipynb")))
    unknown = sorted({p.name for _, p in handed_in if p.stem not in assignments})
    if unknown:
        progress(f"left out, not a notebook of this course: {', '.join(unknown)}")
    handed_in = [(student, p) for student, p in handed_in if p.stem in assignments]
    if not handed_in:
        raise SystemExit(f"{submissions}: no notebook of this course in any student's folder "
                         f"(expected e.g. alice/{next(iter(assignments), '00_welcome')}.ipynb)")

    course = out / "course"
    if course.exists():
        shutil.rmtree(course)
    course.mkdir(parents=True)
    nbgrader_course(course, source)
    with open(course / "nbgrader_config.py", "a", encoding="utf-8") as config:
        config.write(POLLING_CONFIG)
    generate_assignments(course, sorted({p.stem for _, p in handed_in}))

    env = {"PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]).rstrip(os.pathsep),
           "DEEPTRACK_FAST": "1", "MPLBACKEND": "agg", "PYDEVD_DISABLE_FILE_VALIDATION": "1"}
    results = []
    for student, path in handed_in:
        name = path.stem
        result = Graded(student, name, maximum=graded_cells(assignments[name]))
        result.scores = {exercise: 0.0 for exercise in result.maximum}
        target = course / "submitted" / student / name / f"{name}.ipynb"
        target.parent.mkdir(parents=True, exist_ok=True)
        start = time.perf_counter()
        broken, restored = _not_a_notebook(path), []
        if broken is None:
            text, restored = _with_graded_cells(path.read_text(encoding="utf-8"), assignments[name])
            target.write_text(text, encoding="utf-8")
            code, log = _run_limited(["autograde", name, "--student", student, "--force", "--create",
                                      f"--ExecutePreprocessor.timeout={cell_timeout}"], course, env, notebook_limit)
            autograded = course / "autograded" / student / name / f"{name}.ipynb"
            if code is None:
                broken = f"ran past the {notebook_limit} s limit for a notebook"
            elif code or not autograded.is_file():
                broken = "nbgrader could not grade it: " + " ".join(log.strip().splitlines()[-3:])[-400:]
            else:
                with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gb:
                    for exercise in result.maximum:
                        try:
                            result.scores[exercise] = float(gb.find_grade(GRADED + exercise, name, name, student).score)
                        except MissingEntry:
                            result.reasons[exercise] = "its graded cell is missing"
                errors = _errors_by_exercise(autograded, cell_timeout)
                for exercise, score in result.scores.items():
                    if score < result.maximum[exercise] and exercise not in result.reasons:
                        result.reasons[exercise] = errors.get(exercise, "no points from nbgrader")
        if broken is not None:
            target.write_bytes(path.read_bytes())  # kept beside the others, as handed in
            result.reasons = {exercise: broken for exercise in result.maximum}
        for exercise in restored:
            if exercise in result.reasons:
                result.reasons[exercise] = "its graded cell had been deleted and was put back; " + result.reasons[exercise]
        result.seconds = time.perf_counter() - start
        progress(f"{student}/{name}: {sum(result.scores.values()):g} of {sum(result.maximum.values()):g} points "
                 f"({result.seconds:.0f} s)" + (f"; {broken}" if broken else "")
                 + (f"; graded cells put back: {', '.join(restored)}" if restored else ""))
        results.append(result)

    write_tables(results, out)
    done = nbgrader(["export", "--to", str(out / "nbgrader_grades.csv")], course, env={"PYTHONPATH": str(ROOT)})
    if done.returncode:
        progress("nbgrader export failed: " + done.stderr[-500:])
    return results


def write_tables(results: list[Graded], out: Path) -> None:
    """``scores.csv``: a row per student, a column per exercise handed in (in the course's order) and the total;
    ``reasons.csv``: every exercise that lost points, and why."""
    order = [e for e in EXERCISES if any(e in r.maximum for r in results)]
    students = sorted({r.student for r in results})
    out.mkdir(parents=True, exist_ok=True)
    with open(out / "scores.csv", "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(["student", *order, "total", "out of"])
        for student in students:
            mine = [r for r in results if r.student == student]
            scores = {e: s for r in mine for e, s in r.scores.items()}
            possible = sum(m for r in mine for m in r.maximum.values())
            writer.writerow([student, *(f"{scores[e]:g}" if e in scores else "" for e in order),
                             f"{sum(scores.values()):g}", f"{possible:g}"])
    with open(out / "reasons.csv", "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(["student", "notebook", "exercise", "points", "out of", "reason"])
        for r in sorted(results, key=lambda r: (r.student, r.notebook)):
            for exercise, reason in r.reasons.items():
                writer.writerow([r.student, r.notebook, exercise, f"{r.scores[exercise]:g}",
                                 f"{r.maximum[exercise]:g}", reason])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python3 make.py grade", description=__doc__.split("\n\n")[0])
    parser.add_argument("submissions", type=Path, help="a folder per student, holding their notebooks")
    parser.add_argument("--out", type=Path, default=Path("grades"), help="where the tables go (default: ./grades)")
    parser.add_argument("--source", type=Path, default=INSTRUCTOR_NOTEBOOKS,
                        help="the instructor's notebooks to grade against (default: instructor/notebooks)")
    parser.add_argument("--cell-timeout", type=int, default=300, help="seconds one cell may run (default 300)")
    parser.add_argument("--notebook-limit", type=int, default=900,
                        help="seconds one submission may take in all (default 900)")
    args = parser.parse_args(argv)
    results = grade_submissions(args.submissions, args.out, source=args.source.resolve(),
                                cell_timeout=args.cell_timeout, notebook_limit=args.notebook_limit)
    print((args.out / "scores.csv").read_text(encoding="utf-8"))
    print(f"{len(results)} notebook(s) graded: {args.out / 'scores.csv'}, {args.out / 'reasons.csv'} and "
          f"nbgrader's export {args.out / 'nbgrader_grades.csv'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
